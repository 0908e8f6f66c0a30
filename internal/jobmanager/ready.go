package jobmanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tide-stream/tide/internal/attempt"
	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/scheduler"
)

func schedStart() scheduler.Event { return scheduler.Start{} }

// stepSched feeds the scheduler; its Ready is handled by drain. The event
// goes in before the clock moves: a timer due now (a restart) must see the
// slot pool as the event left it. The scheduler stamps the event with its
// last tick: the loop ticks it before every event it handles.
func (jm *JobManager) stepSched(ev scheduler.Event) {
	if err := jm.sched.Step(ev); err != nil {
		jm.log.Info("the scheduler dropped an event", "reason", err)
	}
	jm.sched.Tick(time.Now())
}

// handleSchedReady performs the scheduler's work in the order its Ready
// documents: record the transition, ask for a rescale checkpoint, stop,
// deploy, then the rescale records.
func (jm *JobManager) handleSchedReady(ctx context.Context, rd scheduler.Ready) {
	if tr := rd.Transition; tr != nil {
		jm.log.Info("job state", "from", tr.From, "to", tr.To, "reason", tr.Reason)
		if tr.To.Terminal() && jm.terminalAt.IsZero() {
			jm.terminalAt = time.Now()
			level := slog.LevelInfo
			if tr.To.JobStatus() == "FAILED" {
				level = slog.LevelError // the retries before it (a restore, under the restart strategy) were WARNs
			}
			jm.log.Log(ctx, level, "job reached a terminal state", "state", tr.To.JobStatus(), "reason", tr.Reason)
			// The run has ended: a JobManager started for the job again
			// begins a new run (FINISHED, CANCELED) or retries this one
			// from its checkpoint (FAILED), instead of resuming it.
			if jm.start.ended == nil {
				jm.io.endRun(runEnd{result: tr.To.JobStatus(), reason: tr.Reason})
			}
			jm.life.Step(attempt.JobEnded{})
			jm.jobStopped(tr.To, tr.Reason)
			close(jm.done)
		}
	}
	if rd.RescaleStarted != nil {
		jm.life.Step(attempt.RescaleStarted{Record: *rd.RescaleStarted})
	}
	if req := rd.TriggerCheckpoint; req != nil {
		jm.log.Info("taking a checkpoint before rescaling", "attempt", req.Attempt, "reason", req.Reason)
		if err := jm.coord.Step(checkpoint.TriggerRequest{Request: checkpoint.Request{Kind: checkpoint.KindRescale, Attempt: req.Attempt}}); err != nil {
			jm.stepSched(scheduler.RescaleCheckpointDone{Attempt: req.Attempt, Err: err})
		}
	}
	if rd.Stop != nil {
		jm.life.Step(attempt.Stop{Attempt: *rd.Stop})
	}
	if rd.Deploy != nil {
		jm.deploy(ctx, rd.Deploy)
	}
	if rd.RescaleEnded != nil {
		jm.life.Step(attempt.RescaleEnded{Record: *rd.RescaleEnded})
	}
	jm.maybeRelease()
}

// handleCoordReady performs the coordinator's work: triggers to sources,
// metadata persisted BEFORE completions are announced, discards last.
func (jm *JobManager) handleCoordReady(ctx context.Context, rd checkpoint.Ready) {
	if md := rd.Persist; md != nil {
		jm.persist(md)
	}
	for _, c := range rd.Completed {
		jm.completed[c.Checkpoint] = c.Path
		jm.log.Info("checkpoint complete", "checkpoint", c.Checkpoint, "path", c.Path, "request", c.Request)
		// The lifecycle first: the tasks learn of the completion (the sinks
		// commit) before any cancel the scheduler now decides on.
		jm.life.Step(attempt.CheckpointEnded{Attempt: c.Attempt, Checkpoint: c.Checkpoint, Request: c.Request})
		switch c.Request.Kind {
		case checkpoint.KindRescale:
			jm.stepSched(scheduler.RescaleCheckpointDone{Attempt: c.Request.Attempt, Checkpoint: c.Checkpoint})
		case checkpoint.KindSavepoint, checkpoint.KindStopWithSavepoint:
			jm.savepointDone(c.Request.ID, c.Checkpoint, c.Path, "")
		}
	}
	for _, f := range rd.Failed {
		jm.log.Warn("checkpoint failed; the job goes on", "checkpoint", f.Checkpoint, "reason", f.Reason)
		jm.life.Step(attempt.CheckpointEnded{Attempt: f.Request.Attempt, Checkpoint: f.Checkpoint, Request: f.Request, Failure: f.Reason})
		switch f.Request.Kind {
		case checkpoint.KindRescale:
			jm.stepSched(scheduler.RescaleCheckpointDone{Attempt: f.Request.Attempt, Err: fmt.Errorf("rescale checkpoint %d failed: %s", f.Checkpoint, f.Reason)})
		case checkpoint.KindSavepoint, checkpoint.KindStopWithSavepoint:
			jm.savepointDone(f.Request.ID, f.Checkpoint, "", f.Reason)
		}
		if id := f.Checkpoint; id != 0 && !jm.keepDir[id] {
			// What the subtasks wrote for a checkpoint that failed will never
			// be restored. (An upload still in flight may land after this; a
			// later restore skips such a torn directory with a log line.)
			jm.io.discardCheckpoint(id)
		}
	}
	for _, id := range rd.Discard {
		delete(jm.completed, id)
		jm.io.discardCheckpoint(id)
	}
	// Triggers go last: a completion in the same Ready (the final
	// checkpoint's, say) must reach the tasks before a newer barrier.
	for _, tr := range rd.Triggers {
		jm.life.Step(attempt.Triggered{Attempt: tr.Attempt, Checkpoint: tr.Checkpoint, Request: tr.Request, Sources: tr.Sources})
	}
}

// handleLifeReady performs the attempt lifecycle's work: the exception
// history first, then the coordinator, the TaskManagers and the scheduler.
func (jm *JobManager) handleLifeReady(rd attempt.Ready) {
	for _, f := range rd.Failures {
		jm.lifecycleFailure(f)
	}
	for _, ev := range rd.Coordinator {
		err := jm.coord.Step(ev)
		if err == nil {
			continue
		}
		if tr, ok := ev.(checkpoint.TriggerRequest); ok && tr.Request.Kind == checkpoint.KindFinal {
			jm.log.Warn("final checkpoint request refused; retrying", "err", err)
			jm.life.Step(attempt.FinalRefused{Attempt: tr.Request.Attempt})
			continue
		}
		jm.log.Warn("the checkpoint coordinator refused an event of the attempt lifecycle", "event", fmt.Sprintf("%T", ev), "err", err)
	}
	for _, m := range rd.Messages {
		tm := jm.tms[m.To]
		if tm == nil {
			continue
		}
		var env rpc.Envelope
		switch m.Kind {
		case attempt.Cancel:
			env.Cancel = &rpc.Cancel{Attempt: uint64(m.Attempt)}
		case attempt.Resume:
			env.Resume = &rpc.Resume{Attempt: uint64(m.Attempt)}
		case attempt.Complete:
			env.Complete = &rpc.CheckpointComplete{Attempt: uint64(m.Attempt), Checkpoint: uint64(m.Checkpoint)}
		case attempt.Trigger:
			tasks := make([]rpc.TaskKey, len(m.Tasks))
			for i, k := range m.Tasks {
				tasks[i] = rpc.WireKey(k)
			}
			env.Trigger = &rpc.TriggerCheckpoint{Attempt: uint64(m.Attempt), Checkpoint: uint64(m.Checkpoint), Savepoint: m.Savepoint,
				Final: m.Final, Halt: m.Halt, Tasks: tasks}
		}
		jm.send(tm, &env)
	}
	for _, ev := range rd.Scheduler {
		jm.stepSched(ev)
	}
}

// persist writes checkpoint metadata off the loop; the result comes back
// as an evPersisted.
func (jm *JobManager) persist(md *checkpoint.Metadata) { jm.io.persistMetadata(md) }

func (jm *JobManager) onPersisted(e evPersisted) {
	if errors.Is(e.err, errReplaced) {
		jm.stopErr = e.err
	}
	if errors.Is(e.err, blob.ErrExists) {
		// Another JobManager wrote this checkpoint's metadata: the
		// directory is its, not ours to discard when ours fails.
		jm.keepDir[e.id] = true
	}
	if e.err != nil {
		jm.log.Error("completing the checkpoint failed (its metadata or the job record could not be written); it does not count", "checkpoint", e.id, "err", e.err)
	}
	if err := jm.coord.Step(checkpoint.Persisted{Checkpoint: e.id, Path: e.path, Err: e.err}); err != nil {
		jm.log.Warn("coordinator refused persisted", "err", err)
	}
}

func (jm *JobManager) checkpointTimeout() time.Duration {
	if t := jm.cfg.Checkpoint.Timeout; t > 0 {
		return t
	}
	return checkpoint.DefaultTimeout
}
