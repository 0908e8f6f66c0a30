package jobmanager

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tide-stream/tide/internal/attempt"
	"github.com/tide-stream/tide/internal/exec"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/heartbeat"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/scheduler"
	"github.com/tide-stream/tide/internal/slotpool"
)

// tmConn is one registered TaskManager, seen from the loop.
type tmConn struct {
	reg      string // registration id, fences everything this TM sends
	info     rpc.Register
	out      chan *rpc.Envelope // bounded; drained by the stream's sender
	close    context.CancelFunc // ends the stream
	joined   time.Time
	leaving  bool
	released bool
	hbSeq    uint64
	// proc is its latest process sample, for the REST API.
	proc tmProcess
}

// send queues an envelope for the TaskManager without blocking the loop.
// A TaskManager that does not drain its queue is declared lost.
func (jm *JobManager) send(tm *tmConn, e *rpc.Envelope) {
	select {
	case tm.out <- e:
	default:
		jm.lost(tm.reg, "control queue full: the taskmanager does not read its messages")
	}
}

// registerTimeout bounds the wait for a new stream's registration.
const registerTimeout = 30 * time.Second

// recvFirst receives a stream's first message, or fails after timeout: a
// peer that opens a stream and says nothing does not hold it.
func recvFirst(st rpc.Stream, timeout time.Duration) (*rpc.Envelope, error) {
	type result struct {
		e   *rpc.Envelope
		err error
	}
	got := make(chan result, 1)
	go func() { // owner: serveStream; Recv returns once the handler has returned and the stream ended
		e, err := st.Recv()
		got <- result{e, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-got:
		return r.e, r.err
	case <-t.C:
		return nil, fmt.Errorf("no registration within %v of opening the control stream", timeout)
	}
}

// serveStream runs on a gRPC goroutine for one TaskManager's stream.
func (jm *JobManager) serveStream(ctx context.Context, st rpc.Stream) error {
	first, err := recvFirst(st, registerTimeout)
	if err != nil {
		return err
	}
	if first.Register == nil {
		return fmt.Errorf("first message on the control stream must be a registration, got %+v", first)
	}
	sctx, cancel := context.WithCancel(st.Context())
	defer cancel()
	tm := &tmConn{info: *first.Register, out: make(chan *rpc.Envelope, 4096), close: cancel}
	reply := make(chan error, 1)
	select {
	case jm.events <- evRegister{tm: tm, reply: reply}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := <-reply; err != nil {
		var later *refusedForNow
		retry := errors.As(err, &later)
		if retry {
			jm.log.Info("refused a taskmanager for now", "resource", tm.info.ResourceID, "reason", err)
		} else {
			jm.log.Warn("refused a taskmanager", "resource", tm.info.ResourceID, "reason", err)
		}
		return st.Send(&rpc.Envelope{Refused: &rpc.Refused{Reason: err.Error(), Retry: retry}})
	}
	recvErr := make(chan error, 1)
	go func() { // owner: this handler; ends when the stream ends (handler return cancels it)
		for {
			e, err := st.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case jm.events <- evMessage{reg: tm.reg, env: e}:
			case <-sctx.Done():
				recvErr <- sctx.Err()
				return
			}
		}
	}()
	var endErr error
	for endErr == nil {
		select {
		case e := <-tm.out:
			if err := st.Send(e); err != nil {
				endErr = err
			}
		case err := <-recvErr:
			endErr = err
			recvErr = nil
		case <-sctx.Done():
			endErr = sctx.Err()
		case <-ctx.Done():
			endErr = ctx.Err()
		}
	}
	cancel()
	select {
	case jm.events <- evGone{reg: tm.reg, err: endErr}:
	case <-ctx.Done():
	}
	return nil
}

// refusedForNow refuses a registration that may succeed with the next
// JobManager at the same address.
type refusedForNow struct{ reason string }

func (e *refusedForNow) Error() string { return e.reason }

// register admits a TaskManager: version check, slot pool, heartbeats.
func (jm *JobManager) register(tm *tmConn) error {
	if tm.info.Version != jm.cfg.Version {
		return fmt.Errorf("taskmanager %s runs tide %s, the jobmanager runs %s: start the same build everywhere",
			tm.info.ResourceID, tm.info.Version, jm.cfg.Version)
	}
	if i := tm.info; jm.cfg.Recovery != config.RecoveryNone && i.LastJobID == jm.jobID &&
		exec.Attempt(i.LastAttempt) > jm.start.attemptsAfter && exec.Attempt(i.LastAttempt) > jm.sched.Attempt() {
		// The TaskManager ran an attempt of this job that neither an
		// earlier JobManager leased in the job record nor this one
		// deployed: the record is not the one the job ran with. Starting
		// from it would emit committed output again.
		jm.stopErr = fmt.Errorf("taskmanager %s ran attempt %d of this job, but its job record %s knows attempts up to %d only: "+
			"state.checkpoints.dir is not the directory the job ran with (unreachable, replaced or emptied when this JobManager started?); "+
			"stopping rather than running the job over its committed output. Start the JobManager again once the directory is back "+
			"(or, to start the job over on purpose, with jobmanager.recovery: none)",
			i.ResourceID, i.LastAttempt, jm.location(jm.store.RecordPath()), jm.start.attemptsAfter)
		return &refusedForNow{reason: "the jobmanager is stopping: " + jm.stopErr.Error()}
	}
	if jm.sched.State().Terminal() {
		return &refusedForNow{reason: fmt.Sprintf("job %s is %s and its jobmanager is stopping", jm.jobID, jm.sched.State().JobStatus())}
	}
	jm.nextReg++
	tm.reg = fmt.Sprintf("%s#%d", tm.info.ResourceID, jm.nextReg)
	if err := jm.pool.Register(slotpool.TaskManager{ID: tm.reg, Slots: tm.info.Slots, DataAddr: tm.info.DataAddr, Host: tm.info.Host}); err != nil {
		return err
	}
	tm.joined = time.Now()
	jm.tms[tm.reg] = tm
	jm.hb.Add(heartbeat.ID(tm.reg), tm.joined)
	conf := map[string]string{}
	for k, v := range jm.cfg.TaskManagerConfig {
		conf[k] = v
	}
	conf["state.checkpoints.dir"] = jm.cfg.CheckpointsDir
	if d := jm.cfg.WatermarkInterval; d > 0 {
		conf[watermarkIntervalKey] = d.String()
	}
	tm.out <- &rpc.Envelope{Registered: &rpc.Registered{
		RegistrationID: tm.reg, Incarnation: jm.incarnation, JobID: jm.jobID, JobName: jm.cfg.JobName, JobArgs: jm.cfg.JobArgs,
		PlanDigest: jm.graph.Digest(), MaxParallelism: jm.cfg.MaxParallelism, Config: conf,
		HeartbeatTimeoutMs: jm.cfg.HeartbeatTimeout.Milliseconds(),
	}}
	jm.log.Info("taskmanager registered", "taskmanager", tm.reg, "slots", tm.info.Slots, "data", tm.info.DataAddr, "pid", tm.info.PID)
	jm.stepSched(scheduler.SlotsChanged{Available: jm.pool.Available(), Trigger: scheduler.TriggerJoined})
	return nil
}

// watermarkIntervalKey carries pipeline.auto-watermark-interval, a setting
// of the job, to the TaskManagers.
const watermarkIntervalKey = "pipeline.auto-watermark-interval"

// lost removes a TaskManager at once: its stream is closed, its slots are
// gone, its tasks are failed.
func (jm *JobManager) lost(reg, reason string) {
	tm, ok := jm.tms[reg]
	if !ok {
		return
	}
	delete(jm.tms, reg)
	tm.close()
	jm.hb.Remove(heartbeat.ID(reg))
	jm.pool.Remove(reg)
	trigger := scheduler.TriggerLost
	if tm.leaving {
		trigger = scheduler.TriggerLeaving
		jm.log.Info("leaving taskmanager disconnected", "taskmanager", reg, "reason", reason)
	} else {
		jm.log.Warn("taskmanager lost", "taskmanager", reg, "reason", reason, "registered_for", time.Since(tm.joined).Round(time.Millisecond))
	}
	// The scheduler learns of the slots first, so that the restart the
	// failure below starts is sized for what is left.
	jm.stepSched(scheduler.SlotsChanged{Available: jm.pool.Available(), Trigger: trigger})
	jm.life.Step(attempt.TaskManagerGone{TaskManager: reg, DataAddr: tm.info.DataAddr, Leaving: tm.leaving, Reason: reason})
}

func (jm *JobManager) handleHeartbeatReady() {
	rd := jm.hb.Ready()
	jm.hb.Advance(rd)
	for _, id := range rd.Send {
		if tm, ok := jm.tms[string(id)]; ok {
			tm.hbSeq++
			jm.send(tm, &rpc.Envelope{Heartbeat: &rpc.Heartbeat{Seq: tm.hbSeq}})
		}
	}
	for _, id := range rd.Lost {
		jm.lost(string(id), fmt.Sprintf("no heartbeat for %v (heartbeat.timeout)", jm.cfg.HeartbeatTimeout))
	}
}

// handleMessage serves one envelope from a registered TaskManager.
// Messages of a registration that was declared lost are dropped: that is
// the fence against a TaskManager coming back from a pause.
func (jm *JobManager) handleMessage(ctx context.Context, reg string, env any) {
	e := env.(*rpc.Envelope)
	tm, ok := jm.tms[reg]
	if !ok {
		jm.log.Info("dropping a message from a fenced registration", "taskmanager", reg)
		return
	}
	now := time.Now()
	jm.hb.Received(heartbeat.ID(reg), now)
	switch {
	case e.HeartbeatReply != nil:
	case e.TaskStatus != nil:
		jm.taskStatus(tm, e.TaskStatus)
	case e.Ack != nil:
		jm.ack(tm, e.Ack)
	case e.Decline != nil:
		jm.decline(tm, e.Decline)
	case e.Leaving != nil:
		jm.leaving(tm, e.Leaving.Reason)
	case e.Metrics != nil:
		jm.metrics(tm, e.Metrics, now)
	case e.PeerLost != nil:
		jm.log.Info("a taskmanager lost its data connection to a peer", "taskmanager", reg, "peer", e.PeerLost.DataAddr)
	default:
		jm.log.Warn("ignoring an unknown message", "taskmanager", reg, "msg", fmt.Sprintf("%+v", e))
	}
}

// leaving marks a TaskManager as decommissioning: its slots stop counting,
// which triggers a planned rescale without it.
func (jm *JobManager) leaving(tm *tmConn, reason string) {
	if tm.leaving {
		jm.log.Warn("taskmanager announced leaving twice; ignoring", "taskmanager", tm.reg)
		return
	}
	if err := jm.pool.MarkLeaving(tm.reg); err != nil {
		jm.log.Warn("cannot mark taskmanager leaving", "taskmanager", tm.reg, "err", err)
		return
	}
	tm.leaving = true
	jm.log.Info("taskmanager is leaving; rescaling without it", "taskmanager", tm.reg, "reason", reason)
	jm.stepSched(scheduler.SlotsChanged{Available: jm.pool.Available(), Trigger: scheduler.TriggerLeaving})
	if jm.life.HostsLive(tm.reg) {
		jm.stepSched(scheduler.Displaced{Attempt: jm.life.Current()})
	}
	jm.maybeRelease()
}

// maybeRelease lets leaving TaskManagers that host no task of a live
// attempt go.
func (jm *JobManager) maybeRelease() {
	for _, tm := range jm.tms {
		if !tm.leaving || tm.released {
			continue
		}
		if jm.life.HostsLive(tm.reg) {
			continue
		}
		tm.released = true
		jm.log.Info("releasing leaving taskmanager", "taskmanager", tm.reg)
		jm.send(tm, &rpc.Envelope{Released: &rpc.Released{}})
	}
}

func (jm *JobManager) shutdownTMs() {
	for reg, tm := range jm.tms {
		tm.close()
		delete(jm.tms, reg)
	}
}
