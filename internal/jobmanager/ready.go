package jobmanager

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/scheduler"
)

func schedStart() scheduler.Event { return scheduler.Start{} }

// stepSched feeds the scheduler; its Ready is handled by drain. The event
// goes in before the clock moves: a timer due now (a restart) must see the
// slot pool as the event left it. The scheduler stamps the event with its
// last tick, at most one tick interval old.
func (jm *JobManager) stepSched(ev scheduler.Event) {
	jm.sched.Step(ev)
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
			jm.log.Info("job reached a terminal state", "state", tr.To.JobStatus())
			// The run has ended: a JobManager started for the job again
			// begins a new run (FINISHED, CANCELED) or retries this one
			// from its checkpoint (FAILED), instead of resuming it.
			if jm.start.ended == nil {
				jm.io.endRun(runEnd{result: tr.To.JobStatus(), reason: tr.Reason})
			}
			if jm.cur != nil && jm.cur.started {
				jm.coord.Step(checkpoint.AttemptStopped{Attempt: jm.cur.id})
			}
			jm.jobStopped(tr.To, tr.Reason)
			close(jm.done)
		}
	}
	if rd.RescaleStarted != nil {
		jm.rescaleStarted(rd.RescaleStarted)
	}
	if req := rd.TriggerCheckpoint; req != nil {
		jm.log.Info("taking a checkpoint before rescaling", "attempt", req.Attempt, "reason", req.Reason)
		if err := jm.coord.Step(checkpoint.TriggerRequest{Request: checkpoint.Request{Kind: checkpoint.KindRescale, Attempt: req.Attempt}}); err != nil {
			jm.stepSched(scheduler.RescaleCheckpointDone{Attempt: req.Attempt, Err: err})
		}
	}
	if rd.Stop != nil {
		jm.stop(*rd.Stop)
	}
	if rd.Deploy != nil {
		jm.deploy(ctx, rd.Deploy)
	}
	if rd.RescaleEnded != nil {
		jm.rescaleEnded(rd.RescaleEnded)
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
		jm.completed[uint64(c.Checkpoint)] = c.Path
		jm.finalFailures = 0
		jm.log.Info("checkpoint complete", "checkpoint", c.Checkpoint, "path", c.Path, "request", c.Request)
		if a := jm.cur; a != nil && a.id == c.Attempt {
			for _, tm := range jm.tms {
				if a.hostsLive(tm.reg) {
					jm.send(tm, &rpc.Envelope{Complete: &rpc.CheckpointComplete{Attempt: c.Attempt, Checkpoint: uint64(c.Checkpoint)}})
				}
			}
		}
		switch c.Request.Kind {
		case checkpoint.KindRescale:
			jm.stepSched(scheduler.RescaleCheckpointDone{Attempt: c.Request.Attempt, Checkpoint: uint64(c.Checkpoint)})
			jm.maybeResume(uint64(c.Checkpoint))
		case checkpoint.KindSavepoint, checkpoint.KindStopWithSavepoint:
			if c.Request.Kind != checkpoint.KindStopWithSavepoint {
				jm.maybeResume(uint64(c.Checkpoint))
			}
			// A stop-with-savepoint keeps its sources halted until the job
			// stops: nothing after the savepoint may be committed.
			jm.savepointDone(c.Request.ID, c.Checkpoint, c.Path, "")
		default:
			jm.maybeResume(uint64(c.Checkpoint))
		}
	}
	for _, f := range rd.Failed {
		jm.log.Warn("checkpoint failed; the job goes on", "checkpoint", f.Checkpoint, "reason", f.Reason)
		switch f.Request.Kind {
		case checkpoint.KindRescale:
			jm.stepSched(scheduler.RescaleCheckpointDone{Attempt: f.Request.Attempt, Err: fmt.Errorf("rescale checkpoint %d failed: %s", f.Checkpoint, f.Reason)})
		case checkpoint.KindSavepoint, checkpoint.KindStopWithSavepoint:
			jm.savepointDone(f.Request.ID, f.Checkpoint, "", f.Reason)
		}
		if a := jm.cur; a != nil && f.Request.Kind == checkpoint.KindFinal && f.Request.Attempt == a.id {
			if f.Checkpoint != 0 && uint64(f.Checkpoint) == a.finalCP {
				// Sources have closed their outputs after the final barrier:
				// only a restart can finish the job now — unless the final
				// checkpoint keeps failing, which no restart mends.
				reason, retryable := jm.finalFailed(fmt.Sprintf("final checkpoint %d failed: %s", f.Checkpoint, f.Reason))
				jm.failure(a.id, "FinalCheckpointFailure", reason, "", "", rpc.DomainExternal)
				jm.stepSched(scheduler.TaskFailed{Attempt: a.id, Reason: reason, Retryable: retryable, Trigger: scheduler.TriggerFailure})
			} else {
				a.finalRequested = false // refused before it started: ask again on the next tick
			}
		}
		jm.maybeResume(uint64(f.Checkpoint))
		if id := f.Checkpoint; id != 0 && !jm.keepDir[uint64(id)] {
			// What the subtasks wrote for a checkpoint that failed will never
			// be restored. (An upload still in flight may land after this; a
			// later restore skips such a torn directory with a log line.)
			jm.io.discardCheckpoint(id)
		}
	}
	for _, id := range rd.Discard {
		delete(jm.completed, uint64(id))
		jm.io.discardCheckpoint(id)
	}
	// Triggers go last: a completion in the same Ready (the final
	// checkpoint's, say) must reach the tasks before a newer barrier.
	for _, tr := range rd.Triggers {
		final := tr.Request.Kind == checkpoint.KindFinal && tr.Request.Attempt == tr.Attempt
		if a := jm.cur; final && a != nil && a.id == tr.Attempt {
			a.finalCP = uint64(tr.Checkpoint)
		}
		if a := jm.cur; a == nil || a.id != tr.Attempt || a.stopping {
			// The attempt is being stopped: its checkpoint fails when the
			// coordinator learns so, and a barrier now would only race the
			// cancel (and replace the state kept for local recovery).
			continue
		}
		halt := tr.Request.Kind.Halts()
		if halt {
			jm.halted[uint64(tr.Checkpoint)] = tr.Attempt
		}
		jm.sendToTasks(tr.Attempt, tr.Sources, &rpc.Envelope{Trigger: &rpc.TriggerCheckpoint{
			Attempt: tr.Attempt, Checkpoint: uint64(tr.Checkpoint), Savepoint: tr.Request.Kind.Savepoint(), Final: final, Halt: halt,
			Tasks: rpcKeys(tr.Sources)}})
	}
}

// maxFinalFailures is how many final checkpoints in a row may fail before
// a bounded job fails instead of restarting to try again.
const maxFinalFailures = 3

// finalFailed counts an attempt that failed with its final checkpoint
// asked for, and says whether restarting is still worth it: a final
// checkpoint that fails again and again (a sink that cannot flush, state
// that cannot be written) will not finish the job however often it
// restarts.
func (jm *JobManager) finalFailed(reason string) (string, bool) {
	jm.finalFailures++
	if jm.finalFailures < maxFinalFailures {
		return reason, true
	}
	return fmt.Sprintf("the final checkpoint failed %d times in a row, so the job cannot finish; the last time: %s", jm.finalFailures, reason), false
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
		jm.keepDir[uint64(e.id)] = true
	}
	if e.err != nil {
		jm.log.Error("completing the checkpoint failed (its metadata or the job record could not be written); it does not count", "checkpoint", e.id, "err", e.err)
	}
	if err := jm.coord.Step(checkpoint.Persisted{Checkpoint: e.id, Path: e.path, Err: e.err}); err != nil {
		jm.log.Warn("coordinator refused persisted", "err", err)
	}
}

func (jm *JobManager) sendToTasks(attemptID uint64, keys []checkpoint.TaskKey, e *rpc.Envelope) {
	a := jm.cur
	if a == nil || a.id != attemptID {
		return
	}
	sent := map[string]bool{}
	for _, k := range keys {
		t, ok := a.tasks[rpc.TaskKey{Vertex: k.Vertex, Subtask: k.Subtask}]
		if !ok || sent[t.tm] {
			continue
		}
		if tm := jm.tms[t.tm]; tm != nil {
			sent[t.tm] = true
			jm.send(tm, e)
		}
	}
}

func rpcKeys(ks []checkpoint.TaskKey) []rpc.TaskKey {
	out := make([]rpc.TaskKey, len(ks))
	for i, k := range ks {
		out[i] = rpc.TaskKey{Vertex: k.Vertex, Subtask: k.Subtask}
	}
	return out
}

// maybeResume lets the sources halted at checkpoint id's barrier go on when
// the attempt is still the running one after the checkpoint ended: the
// rescale it was for was abandoned, or it failed and the job goes on (a
// failed stop-with-savepoint, a rescale checkpoint whose slots came back).
func (jm *JobManager) maybeResume(id uint64) {
	attempt, ok := jm.halted[id]
	if !ok {
		return
	}
	delete(jm.halted, id)
	a := jm.cur
	if a == nil || a.id != attempt || a.stopping || jm.sched.State() != scheduler.Executing || jm.sched.Attempt() != attempt {
		return
	}
	jm.log.Info("the attempt goes on after its halting checkpoint ended; resuming the sources", "attempt", attempt, "checkpoint", id)
	jm.sendToTasks(attempt, a.sources, &rpc.Envelope{Resume: &rpc.Resume{Attempt: attempt}})
}

func (jm *JobManager) checkpointTimeout() time.Duration {
	if t := jm.cfg.Checkpoint.Timeout; t > 0 {
		return t
	}
	return checkpoint.DefaultTimeout
}
