package jobmanager

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/checkpointstore"
	"github.com/tide-stream/tide/internal/scheduler"
)

// event is an input to the loop.
type event interface{}

// evRegister asks the loop to admit a TaskManager; the loop answers on reply.
type evRegister struct {
	tm    *tmConn
	reply chan error
}

// evMessage is an envelope from a registered TaskManager.
type evMessage struct {
	reg string
	env any
}

// evGone says a TaskManager's control stream ended.
type evGone struct {
	reg string
	err error
}

// evCommand runs fn on the loop (REST commands).
type evCommand struct {
	fn func()
}

// evCopied reports the copy of a savepoint to its target directory.
type evCopied struct {
	requestID  string
	checkpoint checkpoint.ID
	location   string // the savepoint's location in the target directory
	failure    string // empty on success
}

// copyJob copies a completed savepoint to a target directory.
type copyJob struct {
	requestID  string
	checkpoint checkpoint.ID
	path       string // its metadata key in state.checkpoints.dir
	target     string // URL of the target directory
}

// evPersisted reports a checkpoint's metadata write.
type evPersisted struct {
	id   checkpoint.ID
	path string
	err  error
}

// ioState is the blob IO the loop asks for and the IO worker does. It is
// state, not a queue of messages, so that nothing the loop asks for is ever
// dropped — a lost discard leaks a checkpoint's files for good — and it is
// bounded by what it describes: one metadata write at a time (the
// coordinator has one checkpoint in flight), the newest job record, one
// discard per checkpoint.
type ioState struct {
	mu      sync.Mutex
	persist *checkpoint.Metadata
	ended   *runEnd
	copies  []copyJob
	discard []checkpoint.ID
	// wake has room for one signal: a worker that is woken finds all the
	// work there is.
	wake chan struct{}
	// closed is closed when the loop has ended: the worker does what is
	// left and returns.
	closed chan struct{}
}

func newIOState() *ioState {
	return &ioState{wake: make(chan struct{}, 1), closed: make(chan struct{})}
}

// close tells the worker that no more work comes.
func (s *ioState) close() { close(s.closed) }

func (s *ioState) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// persistMetadata asks for a checkpoint's metadata to be written; the result
// comes back to the loop as an evPersisted.
func (s *ioState) persistMetadata(md *checkpoint.Metadata) {
	s.mu.Lock()
	s.persist = md
	s.mu.Unlock()
	s.signal()
}

// runEnd is how the job's run ended, for the job record.
type runEnd struct{ result, reason string }

// endRun asks for the run's end to be written to the job record.
func (s *ioState) endRun(e runEnd) {
	s.mu.Lock()
	s.ended = &e
	s.mu.Unlock()
	s.signal()
}

// copyCheckpoint asks for a savepoint to be copied to its target; the
// result comes back to the loop as an evCopied.
func (s *ioState) copyCheckpoint(j copyJob) {
	s.mu.Lock()
	s.copies = append(s.copies, j)
	s.mu.Unlock()
	s.signal()
}

// discardCheckpoint asks for a checkpoint's files to be deleted.
func (s *ioState) discardCheckpoint(id checkpoint.ID) {
	s.mu.Lock()
	if !slices.Contains(s.discard, id) {
		s.discard = append(s.discard, id)
	}
	s.mu.Unlock()
	s.signal()
}

// ioWork is one piece of the worker's work: exactly one field is set.
type ioWork struct {
	persist *checkpoint.Metadata
	ended   *runEnd
	copy    *copyJob
	discard checkpoint.ID
}

// take returns the next piece of work, metadata first: a checkpoint waits
// for it.
func (s *ioState) take() (w ioWork, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.persist != nil:
		w.persist, s.persist = s.persist, nil
	case s.ended != nil:
		w.ended, s.ended = s.ended, nil
	case len(s.copies) > 0:
		w.copy, s.copies = &s.copies[0], s.copies[1:]
	case len(s.discard) > 0:
		w.discard, s.discard = s.discard[0], s.discard[1:]
	default:
		return w, false
	}
	return w, true
}

// ioWorker does the loop's blob IO. Owner: Run, which closes jm.io when
// the loop has ended, lets the worker finish what is left (the job record
// with the job's result above all), and cancels ctx if that takes too long.
func (jm *JobManager) ioWorker(ctx context.Context) {
	for {
		select {
		case <-jm.io.wake:
		case <-jm.io.closed:
		case <-ctx.Done():
			return
		}
		for {
			w, ok := jm.io.take()
			if !ok {
				break
			}
			var ev event
			switch {
			case w.persist != nil:
				// The coordinator's timeout covers acknowledgements; the write
				// gets the same bound, so a hung store fails the checkpoint.
				wctx, cancel := context.WithTimeout(ctx, jm.checkpointTimeout())
				path, err := jm.persistMetadata(wctx, w.persist)
				cancel()
				ev = evPersisted{id: w.persist.CheckpointID, path: path, err: err}
			case w.ended != nil:
				err := jm.record.update(ctx, func(r *checkpointstore.Record) { r.Result, r.Reason = w.ended.result, w.ended.reason })
				if err != nil {
					jm.log.Error("writing the run's end to the job record failed", "result", w.ended.result, "err", err)
				}
			case w.copy != nil:
				ev = jm.copySavepoint(ctx, *w.copy)
			default:
				// A JobManager that has been replaced may number its
				// checkpoints as the one that replaced it: deleting "its"
				// directory could delete the other's checkpoint.
				if ok, err := jm.record.owned(ctx); !ok {
					jm.log.Warn("not discarding a checkpoint: this JobManager no longer has charge of the job, or cannot tell", "checkpoint", w.discard, "err", err)
					continue
				}
				if err := jm.store.Discard(ctx, w.discard); err != nil {
					jm.log.Warn("discarding a checkpoint failed; its files stay", "checkpoint", w.discard, "err", err)
				} else {
					jm.log.Info("discarded a checkpoint", "checkpoint", w.discard)
				}
			}
			if ev == nil {
				continue
			}
			select {
			case jm.events <- ev:
			case <-jm.io.closed: // the loop has ended
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-jm.io.closed:
			return
		default:
		}
	}
}

// persistMetadata writes a checkpoint's metadata, then records it as the
// run's newest completed checkpoint in the job record: the checkpoint
// completes, and the sinks are told to commit it, only once both are
// written, so that a JobManager started again never resumes from an older
// one.
func (jm *JobManager) persistMetadata(ctx context.Context, md *checkpoint.Metadata) (string, error) {
	path, err := jm.store.WriteMetadata(ctx, md)
	if err != nil {
		return "", err
	}
	err = jm.record.update(ctx, func(r *checkpointstore.Record) { r.Completed = max(r.Completed, md.CheckpointID) })
	if err != nil {
		return "", fmt.Errorf("record checkpoint %d in the job record: %w", md.CheckpointID, err)
	}
	return path, nil
}

// copySavepoint copies a completed savepoint to its target directory, under
// the same keys as in state.checkpoints.dir.
func (jm *JobManager) copySavepoint(ctx context.Context, j copyJob) evCopied {
	ev := evCopied{requestID: j.requestID, checkpoint: j.checkpoint}
	err := func() error {
		md, err := jm.store.Load(ctx, j.path)
		if err != nil {
			return err
		}
		to, err := blob.Open(ctx, j.target)
		if err != nil {
			return err
		}
		defer to.Close()
		_, err = checkpointstore.Copy(ctx, jm.storage, to, md, j.path, "")
		return err
	}()
	if err != nil {
		ev.failure = fmt.Sprintf("copy the savepoint to %s: %v (the savepoint itself is at %s)", j.target, err,
			jm.externalPath(j.path))
		return ev
	}
	ev.location = j.target + "/" + strings.TrimSuffix(j.path, "/"+checkpointstore.MetadataName)
	return ev
}

// loop is the JobManager's one owner goroutine. It wakes for an event or
// at the earliest deadline of its cores, never to poll: Tick runs exactly
// when a core has asked for it.
func (jm *JobManager) loop(ctx context.Context) error {
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	jm.stepSched(schedStart())
	if e := jm.start.ended; e != nil {
		jm.stepSched(scheduler.Cancel{Finish: e.Result == "FINISHED"})
	}
	jm.drain(ctx)
	jm.publish()
	for {
		if at, ok := jm.deadline(); ok {
			wake.Reset(time.Until(at))
		} else {
			wake.Stop()
		}
		select {
		case <-ctx.Done():
			jm.shutdownTMs()
			return nil
		case ev := <-jm.events:
			jm.handleEvent(ctx, ev)
		case <-wake.C:
			// Events that waited while the loop was busy go first, so that a
			// slow round never turns queued heartbeat replies into losses.
			for n := len(jm.events); n > 0; n-- {
				jm.handleEvent(ctx, <-jm.events)
				jm.drain(ctx)
			}
			now := time.Now()
			jm.hb.Tick(now)
			jm.sched.Tick(now)
			jm.coord.Tick(now)
			jm.life.Tick(now)
			if jm.shutdownDue(now) {
				jm.shutdownTMs()
				return nil
			}
		}
		jm.drain(ctx)
		jm.publish()
		if jm.stopErr != nil {
			// Its TaskManagers drop their tasks and register again, with
			// whichever JobManager answers at their address.
			jm.log.Error("stopping the jobmanager", "err", jm.stopErr)
			jm.shutdownTMs()
			return jm.stopErr
		}
	}
}

// deadline is the earliest time at which a core, or the shutdown of an
// ended job, needs the loop.
func (jm *JobManager) deadline() (time.Time, bool) {
	var at time.Time
	found := false
	if jm.redrain {
		// drain gave up with work left: come back at once.
		return time.Now(), true
	}
	for _, d := range []func() (time.Time, bool){jm.hb.Deadline, jm.sched.Deadline, jm.coord.Deadline, jm.life.Deadline, jm.shutdownAt} {
		if t, ok := d(); ok && (!found || t.Before(at)) {
			at, found = t, true
		}
	}
	return at, found
}

// shutdownAt is when the JobManager of an ended job goes: ShutdownDelay
// after the end, once no savepoint copy is under way (the end of a copy is
// an event, which recomputes this).
func (jm *JobManager) shutdownAt() (time.Time, bool) {
	if jm.terminalAt.IsZero() || jm.copying > 0 {
		return time.Time{}, false
	}
	return jm.terminalAt.Add(jm.cfg.ShutdownDelay), true
}

func (jm *JobManager) shutdownDue(now time.Time) bool {
	at, ok := jm.shutdownAt()
	return ok && !now.Before(at)
}

// drain performs the Ready of every core until none has work: one core's
// output is often another's input. The scheduler's Ready goes before the
// attempt lifecycle's, which must learn of the scheduler's decisions (an
// attempt to stop) before its Ready is taken.
func (jm *JobManager) drain(ctx context.Context) {
	jm.redrain = false
	for i := 0; i < 1000; i++ {
		switch {
		case jm.hb.HasReady():
			jm.handleHeartbeatReady()
		case jm.sched.HasReady():
			rd := jm.sched.Ready()
			jm.handleSchedReady(ctx, rd)
			jm.sched.Advance(rd)
		case jm.coord.HasReady():
			rd := jm.coord.Ready()
			jm.handleCoordReady(ctx, rd)
			jm.coord.Advance(rd)
		case jm.life.HasReady():
			rd := jm.life.Ready()
			jm.life.Advance(rd)
			jm.handleLifeReady(rd)
		default:
			return
		}
	}
	jm.log.Error("cores kept producing work for 1000 rounds; yielding to new events")
	jm.redrain = true
}

func (jm *JobManager) handleEvent(ctx context.Context, ev event) {
	// The cores learn the time before the event: what it starts (a
	// checkpoint and its timeout, a stabilization timer) counts from now,
	// not from the loop's last wake, a heartbeat interval ago at worst.
	// Timers due by now fire first, as they would have, had the loop woken
	// for them before the event came. The heartbeat tracker is not ticked
	// here: a reply queued behind this event must not turn into a loss.
	now := time.Now()
	jm.sched.Tick(now)
	jm.coord.Tick(now)
	jm.life.Tick(now)
	switch e := ev.(type) {
	case evRegister:
		e.reply <- jm.register(e.tm)
	case evMessage:
		jm.handleMessage(ctx, e.reg, e.env)
	case evGone:
		jm.lost(e.reg, "control connection closed: "+errString(e.err))
	case evCommand:
		e.fn()
	case evPersisted:
		jm.onPersisted(e)
	case evCopied:
		jm.copying--
		jm.savepointCopied(e)
	case evDiscovered:
		jm.onDiscovered(e)
	}
}

func errString(err error) string {
	if err == nil {
		return "closed"
	}
	return err.Error()
}
