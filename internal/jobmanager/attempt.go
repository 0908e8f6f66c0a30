package jobmanager

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/checkpointstore"
	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/scheduler"
	"github.com/tide-stream/tide/internal/slotpool"
)

// attempt is one deployment of the job's tasks.
type attempt struct {
	id          uint64
	parallelism map[string]int
	slots       []slotpool.Slot
	tasks       map[rpc.TaskKey]*taskInfo
	sources     []checkpoint.TaskKey
	all         []checkpoint.TaskKey
	restored    uint64
	restoredPos int64
	running     int
	finished    int
	stopped     int
	sourcesDone int
	started     bool // all tasks running: the coordinator knows the attempt
	stopping    bool
	firstRecord int64 // unix nanos, min over the tasks that time pauses
	lastRecord  int64 // unix nanos, max over the tasks that time pauses
	// finalRequested is set while the final checkpoint of a bounded job is
	// requested; finalCP is its id once triggered.
	finalRequested bool
	finalCP        uint64
	// lostTM says a TaskManager with tasks of the attempt was lost: its
	// failures are that loss, not the job's.
	lostTM bool
	// restoredBytes and localGroups sum the tasks' restore statistics.
	restoredBytes int64
	localGroups   int
}

type taskInfo struct {
	// last is the previous metrics sample; rates the time split per second
	// over the interval since it.
	last       *rpc.TaskSample
	rates      rest.VertexMetrics
	rated      bool
	tm         string
	state      rpc.TaskState
	source     bool
	sourceDone bool
	done       bool // reached a final state or its TaskManager is gone
	position   int64
}

func (a *attempt) taskManagerGone(reg string) (hosted bool) {
	for _, t := range a.tasks {
		if t.tm == reg && !t.done {
			t.done = true
			a.stopped++
			hosted = true
		}
	}
	return hosted
}

func (a *attempt) hostsLive(reg string) bool {
	for _, t := range a.tasks {
		if t.tm == reg && !t.done {
			return true
		}
	}
	return false
}

func (a *attempt) allStopped() bool { return a.stopped == len(a.tasks) }

func (a *attempt) sourcePosition() int64 {
	var p int64
	for _, t := range a.tasks {
		if t.source {
			p += t.position
		}
	}
	return p
}

// deploy starts an attempt: slots, key-group ranges, the state each subtask
// restores, one Deploy per TaskManager.
func (jm *JobManager) deploy(ctx context.Context, d *scheduler.Deployment) {
	if err := jm.leaseAttempt(ctx, d.Attempt); err != nil {
		jm.log.Error("cannot record the attempt number in the job record; retrying", "attempt", d.Attempt, "err", err)
		jm.stepSched(scheduler.TaskFailed{Attempt: d.Attempt, Reason: err.Error(), Retryable: true, Trigger: scheduler.TriggerFailure})
		return
	}
	slots, err := jm.pool.Assign(d.Slots, jm.prevSlots)
	if err != nil {
		jm.log.Error("cannot place the attempt", "attempt", d.Attempt, "slots", d.Slots, "err", err)
		jm.stepSched(scheduler.TaskFailed{Attempt: d.Attempt, Reason: err.Error(), Retryable: true, Trigger: scheduler.TriggerFailure})
		return
	}
	rp, err := jm.restorePoint(ctx, d.RestoreFrom)
	if err != nil {
		// Starting without the state, or from older state, would emit
		// committed output again: retry, or fail the job.
		var re *restoreError
		retryable := !errors.As(err, &re) || !re.corrupt
		if retryable {
			jm.log.Error("cannot load the checkpoint to restore; retrying", "attempt", d.Attempt, "err", err)
		} else {
			jm.log.Error("the checkpoint to restore is corrupt; failing the job", "attempt", d.Attempt, "err", err)
		}
		domain := rpc.DomainExternal
		if !retryable {
			domain = rpc.DomainCorruptCheckpoint
		}
		jm.failure(d.Attempt, "RestoreFailure", err.Error(), "", "", domain)
		jm.stepSched(scheduler.TaskFailed{Attempt: d.Attempt, Reason: err.Error(), Retryable: retryable, Trigger: scheduler.TriggerFailure})
		return
	}
	a := &attempt{id: d.Attempt, parallelism: d.Parallelism, slots: slots, tasks: map[rpc.TaskKey]*taskInfo{}}
	byTM := map[string]*rpc.Deploy{}
	var placements []rpc.Placement
	for _, v := range jm.graph.Vertices {
		p := d.Parallelism[v.ID]
		addrs := make([]string, p)
		for i := 0; i < p; i++ {
			tm, _ := jm.pool.Get(slots[i].TaskManager)
			addrs[i] = tm.DataAddr
		}
		placements = append(placements, rpc.Placement{Vertex: v.ID, DataAddrs: addrs})
	}
	var opState map[string]*checkpoint.OperatorState
	if rp != nil {
		a.restored = uint64(rp.md.CheckpointID)
		opState = map[string]*checkpoint.OperatorState{}
		for i := range rp.md.Operators {
			op := &rp.md.Operators[i]
			opState[op.OperatorID] = op
		}
	}
	for vi, v := range jm.graph.Vertices {
		p := d.Parallelism[v.ID]
		source := jm.graph.IsSource(vi)
		for i := 0; i < p; i++ {
			key := rpc.TaskKey{Vertex: v.ID, Subtask: i}
			td := rpc.TaskDeployment{Task: key, KeyGroups: keygroup.RangeFor(v.KeyGroups, p, i)}
			for _, oi := range v.Operators {
				op := jm.graph.Graph.Operators[oi]
				st, ok := opState[op.ID]
				if !ok {
					continue
				}
				r := rpc.OperatorRestore{OperatorID: op.ID, List: checkpoint.AssignList(st.List, p, i)}
				if op.Keyed {
					r.Keyed = checkpoint.AssignKeyed(st.Keyed, td.KeyGroups)
				}
				td.Restore = append(td.Restore, r)
			}
			reg := slots[i].TaskManager
			dep, ok := byTM[reg]
			if !ok {
				dep = &rpc.Deploy{Attempt: d.Attempt, Parallelism: d.Parallelism, Placements: placements, CheckpointID: a.restored}
				byTM[reg] = dep
			}
			dep.Tasks = append(dep.Tasks, td)
			a.tasks[key] = &taskInfo{tm: reg, state: rpc.TaskDeploying, source: source}
			ck := checkpoint.TaskKey{Vertex: v.ID, Subtask: i}
			a.all = append(a.all, ck)
			if source {
				a.sources = append(a.sources, ck)
			}
		}
	}
	if rp != nil {
		for vi, v := range jm.graph.Vertices {
			if !jm.graph.IsSource(vi) {
				continue
			}
			if st, ok := opState[jm.graph.Graph.Operators[v.Operators[0]].ID]; ok {
				a.restoredPos += st.SourcePosition
			}
		}
		if err := jm.coord.Step(checkpoint.Restored{Metadata: rp.md, Path: rp.path}); err != nil {
			jm.log.Warn("coordinator refused the restored checkpoint", "err", err)
		}
	}
	jm.cur = a
	jm.prevSlots = slots
	for reg, dep := range byTM {
		tm := jm.tms[reg]
		if tm == nil {
			continue
		}
		jm.send(tm, &rpc.Envelope{Deploy: dep})
	}
	jm.log.Info("deployed attempt", "attempt", a.id, "parallelism", d.Parallelism, "slots", d.Slots,
		"taskmanagers", len(byTM), "restored_checkpoint", a.restored)
}

// leaseAttempt makes sure the job record covers attempt before anything of
// it runs, so that no later JobManager of the job reuses its number. It
// writes the record (on the loop: this happens once in attemptLease
// attempts).
func (jm *JobManager) leaseAttempt(ctx context.Context, attempt uint64) error {
	if attempt < jm.record.get().AttemptsBelow {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := jm.record.update(wctx, func(r *checkpointstore.Record) { r.AttemptsBelow = attempt + attemptLease })
	if errors.Is(err, errReplaced) {
		jm.stopErr = err
	}
	return err
}

// restorePoint loads the checkpoint the scheduler asks for: id, or the
// latest completed (0); before the first checkpoint, what the job started
// from. There is no falling back to an older checkpoint: the JobManager
// tells the sinks to commit as soon as a checkpoint completes, so the
// newest completed one is always one whose output may be committed, and
// restoring anything older would emit that output again. A checkpoint
// that cannot be read is retried; one that is corrupt fails the job.
func (jm *JobManager) restorePoint(ctx context.Context, id uint64) (*restorePoint, error) {
	var path string
	switch cid, p, ok := jm.coord.LatestCompleted(); {
	case id == 0 && !ok:
		if jm.initial == nil {
			return nil, nil
		}
		id, path = uint64(jm.initial.md.CheckpointID), jm.initial.path
	case id == 0:
		id, path = uint64(cid), p
	default:
		if path, ok = jm.completed[id]; !ok {
			if uint64(cid) != id {
				return nil, &restoreError{id: id, err: fmt.Errorf("checkpoint %d is not a completed checkpoint of this job", id), corrupt: true}
			}
			path = p
		}
	}
	if why, bad := jm.corrupt[id]; bad {
		return nil, &restoreError{id: id, err: errors.New(why), corrupt: true}
	}
	rp, err := jm.load(ctx, path)
	if err != nil {
		return nil, &restoreError{id: id, err: err, corrupt: isCorrupt(err)}
	}
	return rp, nil
}

// restoreError says why the checkpoint to restore cannot be loaded, and
// whether retrying may help.
type restoreError struct {
	id      uint64
	err     error
	corrupt bool
}

func (e *restoreError) Error() string {
	if e.corrupt {
		return fmt.Sprintf("checkpoint %d cannot be restored (%v), and restoring an older one would repeat output "+
			"the sinks have already committed: restore a savepoint with execution.savepoint.path, or start the job over "+
			"with jobmanager.recovery: none", e.id, e.err)
	}
	return fmt.Sprintf("load checkpoint %d: %v", e.id, e.err)
}

func (e *restoreError) Unwrap() error { return e.err }

// taskStatus handles a subtask's report.
func (jm *JobManager) taskStatus(ctx context.Context, tm *tmConn, st *rpc.TaskStatus) {
	a := jm.cur
	if a == nil || st.Attempt != a.id {
		jm.log.Debug("status of another attempt", "attempt", st.Attempt, "task", st.Task, "state", st.State)
		return
	}
	t, ok := a.tasks[st.Task]
	if !ok || t.tm != tm.reg {
		jm.log.Warn("status of an unknown task", "task", st.Task, "taskmanager", tm.reg)
		return
	}
	// Pauses are timed on the subtasks that read from the network when the
	// job has any: a source emits into buffers before its consumers have
	// restored their state, which would hide the restore from the pause.
	if !t.source || !jm.hasInputs {
		if st.FirstRecordUnixNano != 0 && (a.firstRecord == 0 || st.FirstRecordUnixNano < a.firstRecord) {
			a.firstRecord = st.FirstRecordUnixNano
			jm.notePause()
		}
		a.lastRecord = max(a.lastRecord, st.LastRecordUnixNano)
	}
	if st.SourcePosition != 0 {
		t.position = st.SourcePosition
	}
	if t.done {
		return
	}
	switch st.State {
	case rpc.TaskRunning:
		if t.state == rpc.TaskDeploying {
			t.state = rpc.TaskRunning
			a.running++
			a.restoredBytes += st.RestoredBytes
			a.localGroups += st.LocalKeyGroups
			if a.running == len(a.tasks) && !a.stopping {
				a.started = true
				jm.log.Info("attempt running", "attempt", a.id, "restored_bytes", a.restoredBytes, "local_key_groups", a.localGroups)
				if err := jm.coord.Step(checkpoint.AttemptStarted{Attempt: a.id, Sources: a.sources, Tasks: a.all}); err != nil {
					jm.log.Warn("coordinator refused the attempt", "err", err)
				}
				jm.stepSched(scheduler.TasksRunning{Attempt: a.id})
			}
		}
		if st.SourceDone && t.source && !t.sourceDone {
			t.sourceDone = true
			a.sourcesDone++
		}
		jm.maybeRequestFinal()
	case rpc.TaskFinished, rpc.TaskCanceled, rpc.TaskFailed:
		t.state, t.done = st.State, true
		a.stopped++
		if st.State == rpc.TaskFinished {
			a.finished++
			if a.finished == len(a.tasks) {
				jm.stepSched(scheduler.TasksFinished{Attempt: a.id})
			}
		}
		if st.State == rpc.TaskFailed && !a.stopping {
			reason, retryable := fmt.Sprintf("%v failed: %s", st.Task, st.Error), st.Domain.Retryable()
			if a.finalRequested && retryable && !a.lostTM {
				if reason, retryable = jm.finalFailed(reason); !retryable {
					st.Error = reason
				}
			}
			jm.taskFailure(tm, st)
			if st.Domain == rpc.DomainCorruptCheckpoint && a.restored != 0 {
				jm.log.Error("restore failed on a corrupt checkpoint", "checkpoint", a.restored, "task", st.Task, "err", st.Error)
				jm.corrupt[a.restored] = fmt.Sprintf("%v: %s", st.Task, st.Error)
			}
			jm.stepSched(scheduler.TaskFailed{Attempt: a.id, Reason: reason, Retryable: retryable, Trigger: scheduler.TriggerFailure})
		}
		jm.maybeStopped()
	}
}

// maybeRequestFinal asks for the final checkpoint of a bounded job once
// every source has emitted all its input and the attempt runs. A request
// the coordinator refused is made again on the next tick.
func (jm *JobManager) maybeRequestFinal() {
	a := jm.cur
	if a == nil || !a.started || a.stopping || a.finalRequested || a.sourcesDone < len(a.sources) {
		return
	}
	a.finalRequested = true
	jm.log.Info("all sources reached the end of their input; taking the final checkpoint", "attempt", a.id)
	if err := jm.coord.Step(checkpoint.TriggerRequest{Request: checkpoint.Request{Kind: checkpoint.KindFinal, Attempt: a.id}}); err != nil {
		jm.log.Warn("final checkpoint request refused; retrying", "err", err)
		a.finalRequested = false
	}
}

// maybeStopped tells the scheduler once every task of a stopping attempt
// has stopped.
func (jm *JobManager) maybeStopped() {
	a := jm.cur
	if a == nil || !a.stopping || !a.allStopped() {
		return
	}
	a.stopping = false
	jm.notePause()
	jm.stepSched(scheduler.TasksStopped{Attempt: a.id})
}

func (jm *JobManager) ack(tm *tmConn, ack *rpc.CheckpointAck) {
	if jm.cur != nil {
		if t, ok := jm.cur.tasks[ack.Task]; ok && ack.Attempt == jm.cur.id {
			for _, s := range ack.Snapshots {
				if s.SourcePosition != 0 {
					t.position = s.SourcePosition
				}
			}
		}
	}
	// An acknowledgement after the checkpoint's deadline must not complete
	// it: let the coordinator see the time first.
	jm.coord.Tick(time.Now())
	err := jm.coord.Step(checkpoint.Ack{Attempt: ack.Attempt, Checkpoint: checkpoint.ID(ack.Checkpoint),
		Task: checkpoint.TaskKey{Vertex: ack.Task.Vertex, Subtask: ack.Task.Subtask}, Snapshots: ack.Snapshots})
	if err != nil {
		jm.log.Info("ignored a checkpoint acknowledgement", "taskmanager", tm.reg, "checkpoint", ack.Checkpoint, "attempt", ack.Attempt, "reason", err)
	}
}

func (jm *JobManager) decline(tm *tmConn, d *rpc.CheckpointDecline) {
	err := jm.coord.Step(checkpoint.Decline{Attempt: d.Attempt, Checkpoint: checkpoint.ID(d.Checkpoint),
		Task: checkpoint.TaskKey{Vertex: d.Task.Vertex, Subtask: d.Task.Subtask}, Reason: d.Reason})
	if err != nil {
		jm.log.Info("ignored a checkpoint decline", "taskmanager", tm.reg, "checkpoint", d.Checkpoint, "reason", err)
	}
}

// stop cancels every task of attempt id.
func (jm *JobManager) stop(id uint64) {
	a := jm.cur
	if a == nil || a.id != id {
		jm.stepSched(scheduler.TasksStopped{Attempt: id})
		return
	}
	a.stopping = true
	if a.started {
		jm.coord.Step(checkpoint.AttemptStopped{Attempt: id})
	}
	for _, tm := range jm.tms {
		if a.hostsLive(tm.reg) {
			jm.send(tm, &rpc.Envelope{Cancel: &rpc.Cancel{Attempt: id}})
		}
	}
	jm.maybeStopped()
}

// metrics turns a TaskManager's cumulative samples into per-second rates of
// busy, backpressured and idle time for each subtask.
func (jm *JobManager) metrics(m *rpc.Metrics) {
	a := jm.cur
	if a == nil || m.Attempt != a.id {
		return
	}
	for _, s := range m.Tasks {
		t, ok := a.tasks[s.Task]
		if !ok {
			continue
		}
		if p := t.last; p != nil && s.UptimeNs > p.UptimeNs {
			span := float64(s.UptimeNs - p.UptimeNs)
			perSecond := func(d int64) int64 { return int64(float64(d) / span * 1000) }
			idle := perSecond(s.IdleNs - p.IdleNs)
			bp := perSecond(s.BackPressuredNs - p.BackPressuredNs)
			t.rates = rest.VertexMetrics{IdleTimeMsPerSecond: idle, BackPressuredTimeMsPerSecond: bp,
				BusyTimeMsPerSecond:    max(0, 1000-idle-bp),
				NumRecordsInPerSecond:  int64(float64(s.RecordsIn-p.RecordsIn) / span * 1e9),
				NumRecordsOutPerSecond: int64(float64(s.SourcePosition-p.SourcePosition) / span * 1e9)}
			t.rated = true
		}
		t.last = &s
	}
}
