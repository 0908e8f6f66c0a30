package task

import (
	"context"
	"fmt"

	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/rpc"
)

// Control from the TaskManager is state, not messages.
//
// The subtask used to read its commands from a mailbox of 16 and the sender
// dropped a command when it was full. A dropped Resume left a source halted
// at a barrier for ever, and a dropped trigger failed its checkpoint. No
// command may be lost, and none needs to be kept more than once, so each
// kind is now a field that a newer command overwrites or merges into:
//
//   - CheckpointComplete: the highest id (Task.completed). Committing n
//     commits every checkpoint ≤ n, so older notices add nothing.
//   - TriggerCheckpoint: the newest trigger not yet injected. The coordinator
//     keeps one checkpoint in flight and triggers the next only once the
//     previous one completed or failed; an older trigger this source has not
//     injected cannot have completed (that needs this source's
//     acknowledgement), so it has failed and injecting it late would only
//     make the aligners downstream abort it. The newer trigger supersedes
//     it, and the subtask declines the newest superseded one (a stale
//     decline is ignored; it would fail the checkpoint at once if it were
//     still in flight). A superseded trigger's halt and final flags go with
//     it: the JobManager resumes or stops the sources of a failed halting
//     checkpoint, and asks again for a final one that failed before it
//     started.
//   - Resume: a flag, and whether it came after the pending trigger, so that
//     a Resume sent before a halting trigger does not undo that halt and one
//     sent after it does, as in arrival order.
//   - AddSplits: the entries appended, never merged (each split comes once),
//     before or after the pending trigger as they came, like Resume: a
//     split belongs to a checkpoint exactly when its reader took it up
//     before that checkpoint's barrier, which is what a restore assumes of
//     the readers' entries. A list bounded by the source's splits.
//   - Cancel: the context of Run, which the TaskManager cancels.
//
// Setters write the state under ctl's mutex (completions with an atomic)
// and then post a wake without blocking; the wake channel holds one, which
// is all that is needed because the Run goroutine takes the whole state
// after receiving it. The Run goroutine looks at the state only after a
// wake, so the per-record path takes no lock: it selects on the wake
// channel as it did on the mailbox.
type control struct {
	// trigger is the newest trigger not yet taken; id 0 when none.
	trigger trigger
	// superseded is the newest trigger that a newer one replaced before it
	// was taken; 0 when none.
	superseded uint64
	// resume is set by Resume; resumeAfter says it came after trigger was
	// set.
	resume, resumeAfter bool
	// splits came before trigger, splitsAfter after it.
	splits, splitsAfter splitsToAdd
}

// splitsToAdd are splits for a source, and whether no more will come.
type splitsToAdd struct {
	entries [][]byte
	noMore  bool
}

func (s *splitsToAdd) add(o splitsToAdd) {
	s.entries = append(s.entries, o.entries...)
	s.noMore = s.noMore || o.noMore
}

func (s splitsToAdd) empty() bool { return len(s.entries) == 0 && !s.noMore }

// trigger asks a source to inject a checkpoint barrier.
type trigger struct {
	id    uint64
	final bool
	halt  bool
}

// TriggerCheckpoint asks a source subtask to inject checkpoint id's barrier.
// final marks the last checkpoint of a bounded job: the source ends its
// outputs after the barrier.
// halt makes a source emit nothing after the barrier until Resume.
// A trigger that has not been injected yet is replaced by a newer one (see
// control). It is safe for concurrent use and never blocks.
func (t *Task) TriggerCheckpoint(id uint64, final, halt bool) {
	t.ctl.Lock()
	if old := t.ctl.trigger.id; old != 0 {
		if id <= old {
			t.ctl.Unlock()
			return // not newer: a duplicate or out of order
		}
		t.ctl.superseded = old
		// The old trigger is never injected: splits that came after it
		// came before this one.
		t.ctl.splits.add(t.ctl.splitsAfter)
		t.ctl.splitsAfter = splitsToAdd{}
	}
	t.ctl.trigger = trigger{id: id, final: final, halt: halt}
	t.ctl.resumeAfter = false
	t.ctl.Unlock()
	t.poke()
}

// Resume lets a source halted at a checkpoint go on. It is safe for
// concurrent use and never blocks.
func (t *Task) Resume() {
	t.ctl.Lock()
	t.ctl.resume = true
	t.ctl.resumeAfter = t.ctl.trigger.id != 0
	t.ctl.Unlock()
	t.poke()
}

// AddSplits gives a source subtask splits its JobManager's enumerator
// found; noMore says none will follow. It is safe for concurrent use and
// never blocks.
func (t *Task) AddSplits(entries [][]byte, noMore bool) {
	t.ctl.Lock()
	add := splitsToAdd{entries: entries, noMore: noMore}
	if t.ctl.trigger.id != 0 {
		t.ctl.splitsAfter.add(add)
	} else {
		t.ctl.splits.add(add)
	}
	t.ctl.Unlock()
	t.poke()
}

// CheckpointComplete tells the subtask that checkpoint id is durable. It is
// safe for concurrent use and never blocks.
func (t *Task) CheckpointComplete(id uint64) {
	for {
		cur := t.completed.Load()
		if id <= cur || t.completed.CompareAndSwap(cur, id) {
			break
		}
	}
	t.poke()
}

// poke wakes the Run goroutine; a wake already pending covers this one.
func (t *Task) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// takeControl returns the control state and clears it.
func (t *Task) takeControl() control {
	t.ctl.Lock()
	defer t.ctl.Unlock()
	c := t.ctl.control
	t.ctl.control = control{}
	return c
}

// serveControl acts on the control state after a wake: completions first
// (their checkpoints are older than any trigger not yet injected, and the
// JobManager sends them first too), then the trigger and Resume in the order
// they came.
func (t *Task) serveControl(ctx context.Context) error {
	if err := t.serveComplete(ctx); err != nil {
		return err
	}
	c := t.takeControl()
	if c.superseded != 0 && t.source != nil {
		t.decline(c.superseded, "superseded by a newer checkpoint before its barrier was injected")
	}
	if c.resume && !c.resumeAfter {
		t.resume()
	}
	if err := t.addSplits(c.splits); err != nil {
		return err
	}
	if c.trigger.id != 0 {
		if err := t.inject(ctx, c.trigger); err != nil {
			return err
		}
	}
	if err := t.addSplits(c.splitsAfter); err != nil {
		return err
	}
	if c.resume && c.resumeAfter {
		t.resume()
	}
	return nil
}

// addSplits hands splits to the source.
func (t *Task) addSplits(s splitsToAdd) error {
	if s.empty() {
		return nil
	}
	src, ok := t.source.(operator.SplitSource)
	if !ok {
		return &Failure{Domain: rpc.DomainInternal, Err: fmt.Errorf("%s: splits for a subtask whose head is not a split source", t.chain[0].op.ID)}
	}
	if err := src.AddSplits(s.entries, s.noMore); err != nil {
		domain := rpc.DomainExternal
		if operator.IsPermanent(err) {
			domain = rpc.DomainPermanent
		}
		return &Failure{Domain: domain, Err: fmt.Errorf("%s: %w", t.chain[0].op.ID, err)}
	}
	return nil
}

// inject injects a trigger's barrier at a source.
func (t *Task) inject(ctx context.Context, tr trigger) error {
	if t.source == nil {
		return nil
	}
	if t.ended {
		// The outputs are closed: no barrier can follow.
		t.decline(tr.id, "source has ended its outputs after the final checkpoint")
		return nil
	}
	if err := t.checkpoint(ctx, tr.id); err != nil {
		return err
	}
	if tr.final {
		t.ended, t.final = true, tr.id
		return t.closeOutputs()
	}
	if tr.halt {
		t.halted = true
		t.log.Info("source halted after the barrier until the attempt stops", "checkpoint", tr.id)
	}
	return nil
}

func (t *Task) resume() {
	if t.halted {
		t.halted = false
		t.log.Info("source resumed")
	}
}

// serveComplete runs the operators' commit hooks for the newest completed
// checkpoint. Completions are kept as the highest id, never dropped: a
// sink must not miss one.
func (t *Task) serveComplete(ctx context.Context) error {
	id := t.completed.Load()
	if id <= t.lastComplete {
		return nil
	}
	for _, l := range t.chain {
		if err := l.hooks.CheckpointComplete(ctx, id); err != nil {
			return &Failure{Domain: rpc.DomainExternal, Err: fmt.Errorf("%s: commit checkpoint %d: %w", l.op.ID, id, err)}
		}
	}
	t.lastComplete = id
	return nil
}
