package taskmanager

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/metrics"
	"github.com/tide-stream/tide/internal/procsample"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/task"
)

// running is one subtask this TaskManager runs.
type running struct {
	t      *task.Task
	cancel context.CancelFunc
	done   chan struct{}
}

type taskID struct {
	attempt uint64
	key     rpc.TaskKey
}

// session is one registration: connect, register, serve until the stream
// breaks. It stops every task it started before it returns.
func (tm *TaskManager) session(ctx context.Context) (released bool, err error) {
	cc, err := rpc.Dial(tm.cfg.JobManager, tm.cfg.Network)
	if err != nil {
		return false, err
	}
	defer cc.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := rpc.Connect(sctx, cc)
	if err != nil {
		return false, err
	}
	host, _ := os.Hostname()
	if err := st.Send(&rpc.Envelope{Register: &rpc.Register{
		ResourceID: tm.cfg.ResourceID, Version: tm.cfg.Version, Slots: tm.cfg.Slots,
		DataAddr: tm.net.Addr(), Host: host, PID: os.Getpid(),
		CPUCores: tm.cpu.LimitCores(), PhysicalMemory: procsample.PhysicalMemory(), MemoryLimit: procsample.MemoryLimit(),
		LastJobID: tm.jobID, LastAttempt: tm.lastAttempt,
	}}); err != nil {
		return false, fmt.Errorf("send registration to %s: %w", tm.cfg.JobManager, err)
	}
	first, err := st.Recv()
	if err != nil {
		return false, fmt.Errorf("await registration at %s: %w", tm.cfg.JobManager, err)
	}
	if r := first.Refused; r != nil {
		if r.Retry {
			return false, fmt.Errorf("jobmanager %s refused the registration for now: %s", tm.cfg.JobManager, r.Reason)
		}
		tm.log.Error("jobmanager refused the registration", "reason", r.Reason)
		return false, fmt.Errorf("%w: %s", ErrRefused, r.Reason)
	}
	reg := first.Registered
	if reg == nil {
		return false, fmt.Errorf("jobmanager %s answered the registration with %+v", tm.cfg.JobManager, first)
	}
	if err := tm.prepare(ctx, reg); err != nil {
		// The job does not build here as on the JobManager: another binary.
		// Refuse to run it, for good.
		return false, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	// A new registration means the JobManager gave up on the old one: state
	// kept for its attempts must not leak into the new ones.
	tm.local.forget()
	log := tm.log.With("registration", reg.RegistrationID)
	log.Info("registered with the jobmanager", "jobmanager", tm.cfg.JobManager, "slots", tm.cfg.Slots, "data", tm.net.Addr())

	rep := &reporter{q: make(chan *rpc.Envelope, 1024), done: make(chan struct{})}
	var wg sync.WaitGroup
	sendErr := make(chan error, 1)
	wg.Add(1)
	go func() { // owner: this session; ends when the stream or session ends
		defer wg.Done()
		for {
			select {
			case e := <-rep.q:
				if err := st.Send(e); err != nil {
					sendErr <- err
					return
				}
			case <-sctx.Done():
				return
			}
		}
	}()
	inbox := make(chan *rpc.Envelope, 64)
	recvErr := make(chan error, 1)
	wg.Add(1)
	go func() { // owner: this session; ends when the stream breaks or is canceled
		defer wg.Done()
		for {
			e, err := st.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case inbox <- e:
			case <-sctx.Done():
				return
			}
		}
	}()

	tasks := map[taskID]*running{}
	defer func() {
		for _, r := range tasks {
			r.cancel()
		}
		for _, r := range tasks {
			<-r.done
		}
		close(rep.done)
		cancel()
		wg.Wait()
	}()
	if tm.leaving {
		rep.send(&rpc.Envelope{Leaving: &rpc.Leaving{Reason: "decommission requested"}})
	}
	var leaveTimer <-chan time.Time
	metrics := time.NewTicker(metricsEvery)
	defer metrics.Stop()
	for {
		select {
		case <-metrics.C:
			if m := sample(tasks, tm.cpu); m != nil {
				rep.send(&rpc.Envelope{Metrics: m})
			}
		case <-ctx.Done():
			return false, nil
		case err := <-recvErr:
			return false, fmt.Errorf("control stream: %w", err)
		case err := <-sendErr:
			return false, fmt.Errorf("control stream: %w", err)
		case reason := <-tm.leave:
			if tm.leaving {
				log.Warn("asked to leave again; exiting at once")
				return true, nil
			}
			tm.leaving = true
			log.Info("decommissioning: telling the jobmanager and serving until released", "reason", reason, "timeout", tm.cfg.DecommissionTimeout)
			rep.send(&rpc.Envelope{Leaving: &rpc.Leaving{Reason: reason}})
			leaveTimer = time.After(tm.cfg.DecommissionTimeout)
		case <-leaveTimer:
			log.Warn("decommission timeout passed before the job rescaled; exiting", "timeout", tm.cfg.DecommissionTimeout)
			return true, nil
		case addr := <-tm.peerLost:
			rep.send(&rpc.Envelope{PeerLost: &rpc.PeerLost{DataAddr: addr}})
		case e := <-inbox:
			if done := tm.handle(ctx, e, tasks, rep); done {
				return true, nil
			}
		}
	}
}

// handle serves one message from the JobManager. It reports whether the
// TaskManager was released.
func (tm *TaskManager) handle(ctx context.Context, e *rpc.Envelope, tasks map[taskID]*running, rep *reporter) bool {
	switch {
	case e.Heartbeat != nil:
		rep.send(&rpc.Envelope{HeartbeatReply: &rpc.HeartbeatReply{Seq: e.Heartbeat.Seq}})
	case e.Deploy != nil:
		tm.deploy(ctx, e.Deploy, tasks, rep)
	case e.Cancel != nil:
		for id, r := range tasks {
			if id.attempt <= e.Cancel.Attempt {
				r.cancel()
			}
		}
	case e.Trigger != nil:
		for _, k := range e.Trigger.Tasks {
			if r, ok := tasks[taskID{e.Trigger.Attempt, k}]; ok {
				r.t.TriggerCheckpoint(e.Trigger.Checkpoint, e.Trigger.Final, e.Trigger.Halt)
			}
		}
	case e.AddSplits != nil:
		if r, ok := tasks[taskID{e.AddSplits.Attempt, e.AddSplits.Task}]; ok {
			r.t.AddSplits(e.AddSplits.Entries, e.AddSplits.NoMore)
		}
	case e.Complete != nil:
		tm.local.completed(e.Complete.Checkpoint)
		for id, r := range tasks {
			if id.attempt == e.Complete.Attempt {
				r.t.CheckpointComplete(e.Complete.Checkpoint)
			}
		}
	case e.Resume != nil:
		for id, r := range tasks {
			if id.attempt == e.Resume.Attempt {
				r.t.Resume()
			}
		}
	case e.Released != nil:
		return tm.leaving
	default:
		tm.log.Warn("ignoring an unknown control message (newer jobmanager?)", "msg", fmt.Sprintf("%+v", e))
	}
	// Forget tasks that ended.
	for id, r := range tasks {
		select {
		case <-r.done:
			delete(tasks, id)
		default:
		}
	}
	return false
}

func (tm *TaskManager) deploy(ctx context.Context, d *rpc.Deploy, tasks map[taskID]*running, rep *reporter) {
	// Tasks of older attempts are over; their channels are refused from now on.
	for id, r := range tasks {
		if id.attempt < d.Attempt {
			r.cancel()
		}
	}
	tm.net.FenceBelow(d.Attempt)
	tm.lastAttempt = max(tm.lastAttempt, d.Attempt)
	addrs := map[exec.VertexID][]string{}
	for _, p := range d.Placements {
		addrs[exec.VertexID(p.Vertex)] = p.DataAddrs
	}
	for _, td := range d.Tasks {
		vi, _, ok := tm.graph.Vertex(exec.VertexID(td.Task.Vertex))
		if !ok {
			rep.send(&rpc.Envelope{TaskStatus: &rpc.TaskStatus{Attempt: d.Attempt, Task: td.Task, State: rpc.TaskFailed,
				Domain: rpc.DomainInternal, Error: fmt.Sprintf("unknown vertex %q", td.Task.Vertex)}})
			continue
		}
		restore := map[string]task.Restore{}
		for _, r := range td.Restore {
			restore[r.OperatorID] = task.Restore{Keyed: rpc.Slices(r.Keyed), List: r.List}
		}
		t := task.New(task.Config{
			JobID: tm.jobID, Graph: tm.graph, Vertex: vi, Subtask: td.Task.Subtask, Attempt: exec.Attempt(d.Attempt),
			Parallelism: rpc.ExecParallelism(d.Parallelism), DataAddrs: addrs, KeyGroups: td.KeyGroups.KeyGroups(),
			Restore: restore, RestoredCheckpoint: d.CheckpointID,
			Net: tm.net, Storage: tm.storage,
			BufferSize: tm.cfg.BufferSize, BufferTimeout: tm.cfg.BufferTimeout, WatermarkInterval: tm.watermarkInterval,
			Report:   rep,
			Local:    tm.localState(),
			StateDir: func(id uint64) string { return fmt.Sprintf("%s/chk-%d/", tm.jobID, id) },
			Logger:   tm.log,
		})
		tctx, cancel := context.WithCancel(ctx)
		r := &running{t: t, cancel: cancel, done: make(chan struct{})}
		id := taskID{d.Attempt, td.Task}
		tasks[id] = r
		tm.live.add(id, &liveTask{t: t, jobID: tm.jobID, jobName: tm.jobName, taskName: tm.graph.Vertices[vi].Name})
		go func() { // owner: the session, which cancels and waits for done
			defer close(r.done)
			defer cancel()
			defer tm.live.remove(id)
			t.Run(tctx)
		}()
	}
}

// prepare takes everything job-specific from the JobManager it registered
// with, at every registration: the job (name, arguments, graph), its id and
// its checkpoint storage. A JobManager restarted for the same job gives the
// same; one started for another job, or with other arguments or another
// state.checkpoints.dir, gives another, and nothing of the old one may
// leak into it. A graph that differs from the JobManager's for the same job
// means another binary, and is refused.
func (tm *TaskManager) prepare(ctx context.Context, reg *rpc.Registered) error {
	jg, err := tm.cfg.Jobs.Build(reg.JobName, reg.JobArgs, reg.MaxParallelism)
	if err != nil {
		return fmt.Errorf("build job %s: %w", reg.JobName, err)
	}
	if d := jg.Digest(); d != reg.PlanDigest {
		return fmt.Errorf("job %s builds graph %s here but %s on the jobmanager: different binaries?", reg.JobName, d, reg.PlanDigest)
	}
	dir := reg.Config["state.checkpoints.dir"]
	if tm.storage == nil || dir != tm.storageDir {
		s, err := blob.OpenerOr(tm.cfg.OpenStorage)(ctx, dir)
		if err != nil {
			return fmt.Errorf("open checkpoint storage %s: %w", dir, err)
		}
		if tm.storage != nil {
			tm.storage.Close()
		}
		tm.storage, tm.storageDir = s, dir
	}
	if tm.incarnation != "" && reg.Incarnation != tm.incarnation {
		// Attempts are numbered by the JobManager: another one may use
		// numbers this TaskManager has fenced (another job), and nothing of
		// the old one's attempts may reach the new one's tasks.
		tm.net.Reset()
		tm.log.Info("registered with another jobmanager than before; starting over", "job", reg.JobName, "job_id", reg.JobID, "previous_job_id", tm.jobID)
	}
	if reg.JobID != tm.jobID {
		tm.lastAttempt = 0
	}
	tm.watermarkInterval = 0
	if s, ok := reg.Config["pipeline.auto-watermark-interval"]; ok {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return fmt.Errorf("pipeline.auto-watermark-interval %q from the jobmanager: want a positive duration", s)
		}
		tm.watermarkInterval = d
	}
	tm.graph, tm.jobID, tm.jobName, tm.incarnation = jg, reg.JobID, reg.JobName, reg.Incarnation
	return nil
}

// metricsEvery is how often a TaskManager samples its subtasks' time split
// for the JobManager (busy, backpressured, idle: the autoscaler's input).
const metricsEvery = time.Second

// sample collects the time split of the newest attempt's live subtasks
// and the process's CPU and memory.
func sample(tasks map[taskID]*running, cpu *metrics.CPU) *rpc.Metrics {
	var newest uint64
	for id := range tasks {
		newest = max(newest, id.attempt)
	}
	m := &rpc.Metrics{Attempt: newest, Process: procsample.Sample(cpu)}
	for id, r := range tasks {
		if id.attempt != newest {
			continue
		}
		select {
		case <-r.done:
			continue
		default:
		}
		m.Tasks = append(m.Tasks, r.t.Sample())
	}
	return m
}
