package jobmanager

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tide-stream/tide/internal/attempt"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/checkpointstore"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/scheduler"
	"github.com/tide-stream/tide/internal/slotpool"
)

// placement is where the deployed attempt runs, for the REST view; its
// lifecycle is jm.life's.
type placement struct {
	id          exec.Attempt
	parallelism map[exec.VertexID]int
	slots       []slotpool.Slot
}

// taskRates is a subtask's time split per second, from its TaskManager's
// metrics samples.
type taskRates struct {
	// last is the previous sample; rates cover the interval since it.
	last  *rpc.TaskSample
	rates rest.VertexMetrics
	// outRate is the records sent to the network per second (Flink's
	// numRecordsOutPerSecond of a task, where rates has a source's).
	outRate int64
	rated   bool
}

// deploy starts an attempt: slots, key-group ranges, the state each subtask
// restores, one Deploy per TaskManager.
func (jm *JobManager) deploy(ctx context.Context, d *scheduler.Deployment) {
	if err := jm.leaseAttempt(ctx, d.Attempt); err != nil {
		jm.log.Warn("cannot record the attempt number in the job record; retrying", "attempt", d.Attempt, "err", err)
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
			jm.log.Warn("cannot load the checkpoint to restore; retrying", "attempt", d.Attempt, "err", err)
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
	dep := attempt.Deployed{Attempt: d.Attempt}
	byTM := map[string]*rpc.Deploy{}
	var placements []rpc.Placement
	for _, v := range jm.graph.Vertices {
		p := d.Parallelism[v.ID]
		addrs := make([]string, p)
		for i := 0; i < p; i++ {
			tm, _ := jm.pool.Get(slots[i].TaskManager)
			addrs[i] = tm.DataAddr
		}
		placements = append(placements, rpc.Placement{Vertex: string(v.ID), DataAddrs: addrs})
	}
	var opState map[string]*checkpoint.OperatorState
	if rp != nil {
		dep.Restored = rp.md.CheckpointID
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
			key := rpc.TaskKey{Vertex: string(v.ID), Subtask: i}
			kgs := keygroup.RangeFor(v.KeyGroups, p, i)
			td := rpc.TaskDeployment{Task: key, KeyGroups: rpc.WireRange(kgs)}
			for _, oi := range v.Operators {
				op := jm.graph.Graph.Operators[oi]
				st, ok := opState[op.ID]
				if !ok {
					continue
				}
				r := rpc.OperatorRestore{OperatorID: op.ID, List: checkpoint.AssignList(st.List, p, i)}
				if op.Keyed {
					r.Keyed = rpc.WireSlices(checkpoint.AssignKeyed(st.Keyed, kgs))
				}
				td.Restore = append(td.Restore, r)
			}
			reg := slots[i].TaskManager
			msg, ok := byTM[reg]
			if !ok {
				msg = &rpc.Deploy{Attempt: uint64(d.Attempt), Parallelism: rpc.WireParallelism(d.Parallelism), Placements: placements, CheckpointID: uint64(dep.Restored)}
				byTM[reg] = msg
			}
			msg.Tasks = append(msg.Tasks, td)
			dep.Tasks = append(dep.Tasks, attempt.Task{Key: exec.TaskKey{Vertex: v.ID, Subtask: i}, TaskManager: reg, Source: source})
		}
	}
	if rp != nil {
		for vi, v := range jm.graph.Vertices {
			if !jm.graph.IsSource(vi) {
				continue
			}
			if st, ok := opState[jm.graph.Graph.Operators[v.Operators[0]].ID]; ok {
				dep.RestoredPosition += st.SourcePosition
			}
		}
		if err := jm.coord.Step(checkpoint.Restored{Metadata: rp.md, Path: rp.path}); err != nil {
			jm.log.Warn("coordinator refused the restored checkpoint", "err", err)
		}
	}
	if err := jm.startDiscovery(d.Attempt, d.Parallelism, opState); err != nil {
		jm.log.Error("cannot start the split discovery of the attempt", "attempt", d.Attempt, "err", err)
		domain := rpc.DomainExternal
		if operator.IsPermanent(err) {
			domain = rpc.DomainPermanent
		}
		jm.failure(d.Attempt, "SplitDiscoveryFailure", err.Error(), "", "", domain)
		jm.stepSched(scheduler.TaskFailed{Attempt: d.Attempt, Reason: err.Error(), Retryable: domain.Retryable(), Trigger: scheduler.TriggerFailure})
		return
	}
	if err := jm.life.Step(dep); err != nil {
		jm.log.Error("the attempt lifecycle refused the deployment", "attempt", d.Attempt, "err", err)
		jm.stepSched(scheduler.TaskFailed{Attempt: d.Attempt, Reason: err.Error(), Retryable: true, Trigger: scheduler.TriggerFailure})
		return
	}
	jm.placed = &placement{id: d.Attempt, parallelism: d.Parallelism, slots: slots}
	jm.rates = map[exec.TaskKey]*taskRates{}
	jm.trackDeploy(jm.placed, time.Now())
	jm.prevSlots = slots
	for reg, msg := range byTM {
		tm := jm.tms[reg]
		if tm == nil {
			continue
		}
		jm.send(tm, &rpc.Envelope{Deploy: msg})
	}
	jm.log.Info("deployed attempt", "attempt", d.Attempt, "parallelism", d.Parallelism, "slots", d.Slots,
		"taskmanagers", len(byTM), "restored_checkpoint", dep.Restored)
}

// leaseAttempt makes sure the job record covers attempt before anything of
// it runs, so that no later JobManager of the job reuses its number. It
// writes the record (on the loop: this happens once in attemptLease
// attempts).
func (jm *JobManager) leaseAttempt(ctx context.Context, attempt exec.Attempt) error {
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
func (jm *JobManager) restorePoint(ctx context.Context, id checkpoint.ID) (*restorePoint, error) {
	var path string
	switch cid, p, ok := jm.coord.LatestCompleted(); {
	case id == 0 && !ok:
		if jm.initial == nil {
			return nil, nil
		}
		id, path = jm.initial.md.CheckpointID, jm.initial.path
	case id == 0:
		id, path = cid, p
	default:
		if path, ok = jm.completed[id]; !ok {
			if cid != id {
				return nil, &restoreError{id: id, err: fmt.Errorf("checkpoint %d is not a completed checkpoint of this job", id), corrupt: true}
			}
			path = p
		}
	}
	if why, bad := jm.life.Corrupt(id); bad {
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
	id      checkpoint.ID
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

// taskStatus hands a subtask's report to the attempt lifecycle.
func (jm *JobManager) taskStatus(tm *tmConn, st *rpc.TaskStatus) {
	err := jm.life.Step(attempt.Status{TaskManager: tm.reg, Attempt: exec.Attempt(st.Attempt), Task: st.Task.Exec(), State: st.State,
		Error: st.Error, Domain: st.Domain, SourceDone: st.SourceDone, FirstRecord: st.FirstRecordUnixNano, LastRecord: st.LastRecordUnixNano,
		SourcePosition: st.SourcePosition, RestoredBytes: st.RestoredBytes, LocalKeyGroups: st.LocalKeyGroups})
	if err != nil {
		jm.log.Warn("ignored a task status", "taskmanager", tm.reg, "task", st.Task, "err", err)
		return
	}
	jm.trackStatus(st, time.Now())
}

func (jm *JobManager) ack(tm *tmConn, ack *rpc.CheckpointAck) {
	task, at := ack.Task.Exec(), exec.Attempt(ack.Attempt)
	snaps := rpc.Snapshots(ack.Snapshots)
	for _, s := range snaps {
		if s.SourcePosition != 0 {
			jm.life.Step(attempt.Acked{Attempt: at, Task: task, SourcePosition: s.SourcePosition})
		}
	}
	// An acknowledgement after the checkpoint's deadline must not complete
	// it: let the coordinator see the time first.
	jm.coord.Tick(time.Now())
	err := jm.coord.Step(checkpoint.Ack{Attempt: at, Checkpoint: checkpoint.ID(ack.Checkpoint), Task: task, Snapshots: snaps})
	if err != nil {
		jm.log.Info("ignored a checkpoint acknowledgement", "taskmanager", tm.reg, "checkpoint", ack.Checkpoint, "attempt", ack.Attempt, "reason", err)
		return
	}
	jm.trackAck(checkpoint.ID(ack.Checkpoint), task, snaps, time.Now())
}

func (jm *JobManager) decline(tm *tmConn, d *rpc.CheckpointDecline) {
	err := jm.coord.Step(checkpoint.Decline{Attempt: exec.Attempt(d.Attempt), Checkpoint: checkpoint.ID(d.Checkpoint), Task: d.Task.Exec(), Reason: d.Reason})
	if err != nil {
		jm.log.Info("ignored a checkpoint decline", "taskmanager", tm.reg, "checkpoint", d.Checkpoint, "reason", err)
	}
}

// metrics turns a TaskManager's cumulative samples into per-second rates of
// busy, backpressured and idle time for each subtask, and keeps its process
// sample.
func (jm *JobManager) metrics(tm *tmConn, m *rpc.Metrics, now time.Time) {
	if m.Process != nil {
		jm.trackProcess(tm, m.Process, now)
	}
	p := jm.placed
	if p == nil || exec.Attempt(m.Attempt) != p.id {
		return
	}
	for _, s := range m.Tasks {
		k := s.Task.Exec()
		if k.Subtask < 0 || k.Subtask >= p.parallelism[k.Vertex] {
			continue
		}
		t := jm.rates[k]
		if t == nil {
			t = &taskRates{}
			jm.rates[k] = t
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
			t.outRate = int64(float64(s.RecordsOut-p.RecordsOut) / span * 1e9)
			t.rated = true
		}
		t.last = &s
	}
}
