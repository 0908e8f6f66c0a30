package task

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/tide-stream/tide/internal/network"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/rpc"
)

// The end of a bounded job, in Flink's order: a source that has emitted all
// its input sends end-of-data; a subtask whose inputs have all ended runs
// its operators' EndInput (which may emit, e.g. flush windows) and passes
// end-of-data on. Only then, once every source is done, the JobManager
// triggers the final checkpoint: its barrier follows all the data, sinks
// pre-commit everything, and the sources close their channels (kindEnd)
// after it. Every subtask finishes when the final checkpoint is complete.

// progressEvery is how often a source reports its position.
const progressEvery = time.Second

// runSource drives a source chain: poll, and between polls serve the
// control state (barriers are injected there) and send partly filled
// buffers older than the buffer timeout.
func (t *Task) runSource(ctx context.Context) error {
	lastFlush, lastProgress := time.Now(), time.Now()
	var idle *time.Timer
	for {
		if err := t.maybeServeControl(ctx); err != nil {
			return err
		}
		if t.ended {
			return t.finish(ctx)
		}
		if t.sourceDone || t.halted {
			t.flushAll()
			if err := t.waitControl(ctx, nil, nil); err != nil {
				return err
			}
			continue
		}
		status, wait, err := t.source.Poll(ctx)
		if err != nil {
			return &Failure{Domain: rpc.DomainExternal, Err: fmt.Errorf("poll %s: %w", t.chain[0].op.ID, err)}
		}
		if t.failure != nil {
			return t.failure
		}
		now := time.Now()
		if status == operator.More {
			t.progress()
		}
		t.sourceOut.Store(t.source.Position())
		if ps, ok := t.source.(operator.PendingSource); ok {
			t.pending.Store(ps.PendingRecords())
		}
		nextWatermark, err := t.pollWatermark(now)
		if err != nil {
			return err
		}
		if now.Sub(lastFlush) >= t.cfg.BufferTimeout {
			t.flushAll()
			lastFlush = now
		}
		if now.Sub(lastProgress) >= progressEvery {
			// The JobManager's estimate of what a crash makes the job read
			// again (reprocessed_records) is this stale at most.
			lastProgress = now
			t.report(&rpc.TaskStatus{State: rpc.TaskRunning, SourcePosition: t.source.Position()})
		}
		switch status {
		case operator.Idle:
			t.flushAll()
			lastFlush = now
			if !nextWatermark.IsZero() {
				// Wake for the watermark too: an idle source may have to
				// say so, or let its watermark go on.
				wait = min(wait, max(nextWatermark.Sub(now), time.Millisecond))
			}
			if wait <= 0 {
				continue
			}
			if idle == nil {
				idle = time.NewTimer(wait)
				defer idle.Stop()
			} else {
				idle.Reset(wait)
			}
			if err := t.waitControl(ctx, idle.C, t.sourceWake); err != nil {
				return err
			}
		case operator.Done:
			// The end of the input is the end of event time: every
			// event-time timer and window fires, as in Flink.
			if err := t.setIdle(false); err != nil {
				return err
			}
			if err := t.advanceWatermark(math.MaxInt64); err != nil {
				return err
			}
			if err := t.endOfData(); err != nil {
				return err
			}
			t.sourceDone = true
			t.log.Info("source reached the end of its input; waiting for the final checkpoint")
			t.report(&rpc.TaskStatus{State: rpc.TaskRunning, SourceDone: true, SourcePosition: t.source.Position()})
		}
		if t.failure != nil {
			return t.failure
		}
	}
}

// waitControl blocks until a wake (served), ctx ends, timer fires or
// another wake comes on also (a source's client has records).
func (t *Task) waitControl(ctx context.Context, timer <-chan time.Time, also <-chan struct{}) error {
	// The wait ends before the control is served: serving it may send,
	// which is a wait of its own.
	t.beginWait(false)
	woken := false
	select {
	case <-t.wake:
		woken = true
	case <-timer:
	case <-also:
	case <-ctx.Done():
		t.endWait()
		return ctx.Err()
	}
	t.endWait()
	if woken {
		return t.serveControl(ctx)
	}
	return nil
}

// maybeServeControl serves the control state if a wake is pending.
func (t *Task) maybeServeControl(ctx context.Context) error {
	select {
	case <-t.wake:
		if err := t.serveControl(ctx); err != nil {
			return err
		}
	default:
	}
	return ctx.Err()
}

func (t *Task) flushAll() {
	for _, w := range t.writers {
		w.flushAll()
	}
}

// endOfData runs the operators' EndInput, head first, and passes
// end-of-data on.
func (t *Task) endOfData() error {
	for _, l := range t.chain {
		if err := l.hooks.EndInput(); err != nil {
			return &Failure{Domain: rpc.DomainUser, Err: fmt.Errorf("end input of %s: %w", l.op.ID, err)}
		}
	}
	if t.failure != nil {
		return t.failure
	}
	for _, w := range t.writers {
		if err := w.event(kindEndOfData, nil); err != nil {
			return fmt.Errorf("send end of data: %w", err)
		}
	}
	return nil
}

// closeOutputs sends the end of every output channel.
func (t *Task) closeOutputs() error {
	for _, w := range t.writers {
		if err := w.event(kindEnd, nil); err != nil {
			return fmt.Errorf("send end of input: %w", err)
		}
	}
	return nil
}

// finish waits until the final checkpoint is complete, so that sinks have
// committed everything, then the subtask is FINISHED.
func (t *Task) finish(ctx context.Context) error {
	for t.lastComplete < t.final {
		if err := t.waitControl(ctx, nil, nil); err != nil {
			return err
		}
	}
	t.log.Info("task finished", "final_checkpoint", t.final)
	return nil
}

type inMsg struct {
	m   network.Message
	err error
}

// runInputs drives a chain fed by the input gate.
func (t *Task) runInputs(ctx context.Context) error {
	msgs := make(chan inMsg, 1)
	pumpDone := make(chan struct{})
	defer func() {
		<-pumpDone
	}()
	defer t.gate.Close()
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { // owner: runInputs, which cancels pctx and waits on pumpDone
		defer close(pumpDone)
		for {
			m, err := t.gate.Next(pctx)
			select {
			case msgs <- inMsg{m, err}:
			case <-pctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	in := &inputs{al: newAligner(len(t.inputs)), stash: make([][]network.Message, len(t.inputs)), eod: make([]bool, len(t.inputs)),
		valve: newValve(len(t.inputs), t.wm.current)}
	tm := newTimerWake(t.chain)
	defer tm.stop()
	for {
		tm.arm()
		if t.failure != nil {
			return t.failure
		}
		if t.ended {
			return t.finish(ctx)
		}
		var m inMsg
		select {
		case m = <-msgs:
		case now := <-tm.c:
			if err := t.fireTimers(tm, now); err != nil {
				return err
			}
			continue
		case <-t.wake:
			if err := t.serveControl(ctx); err != nil {
				return err
			}
			continue
		default:
			// Input ran dry: send partly filled buffers before blocking.
			t.flushAll()
			t.beginWait(false)
			var fire time.Time
			woken := false
			select {
			case m = <-msgs:
			case fire = <-tm.c:
			case <-t.wake:
				woken = true
			case <-ctx.Done():
				t.endWait()
				return ctx.Err()
			}
			t.endWait()
			switch {
			case !fire.IsZero():
				if err := t.fireTimers(tm, fire); err != nil {
					return err
				}
				continue
			case woken:
				if err := t.serveControl(ctx); err != nil {
					return err
				}
				continue
			}
		}
		if m.err != nil {
			if errors.Is(m.err, io.EOF) {
				return fmt.Errorf("input channels closed before their end of input")
			}
			return m.err
		}
		ch := m.m.Channel
		if in.al.isBlocked(ch) || len(in.stash[ch]) > 0 {
			in.stash[ch] = append(in.stash[ch], m.m)
			continue
		}
		if err := t.onMessage(ctx, in, m.m); err != nil {
			return err
		}
	}
}

// inputs is the input side's bookkeeping, owned by runInputs.
type inputs struct {
	al    *aligner
	stash [][]network.Message
	// eod marks the channels that delivered end-of-data; eodCount counts them.
	eod      []bool
	eodCount int
	// valve combines the channels' watermarks.
	valve *valve
}

// onMessage processes one message and then whatever stashed messages it
// unblocked.
func (t *Task) onMessage(ctx context.Context, in *inputs, m network.Message) error {
	unblocked, err := t.process(ctx, in, m)
	if err != nil || !unblocked {
		return err
	}
	for {
		progressed := false
		for ch := range in.stash {
			for len(in.stash[ch]) > 0 && !in.al.isBlocked(ch) {
				m := in.stash[ch][0]
				in.stash[ch] = in.stash[ch][1:]
				progressed = true
				if _, err := t.process(ctx, in, m); err != nil {
					return err
				}
			}
		}
		if !progressed {
			return nil
		}
	}
}

// process handles one message of an unblocked channel and releases its
// credit. It reports whether an alignment completed.
func (t *Task) process(ctx context.Context, in *inputs, m network.Message) (bool, error) {
	defer t.gate.Release(m.Channel)
	ic := t.inputs[m.Channel]
	switch m.Kind {
	case kindRecords:
		// Dirty before the records: a failure part-way through the batch
		// leaves state that matches no checkpoint.
		t.dirty = true
		n, err := t.readers[ic.edgePos](m.Payload)
		t.recordsIn.Add(int64(n))
		if err != nil {
			return false, &Failure{Domain: rpc.DomainInternal, Err: fmt.Errorf("channel %+v: %w", ic.id, err)}
		}
		t.progress()
		return false, t.failure
	case kindBarrier:
		if len(m.Payload) < 8 {
			return false, fmt.Errorf("channel %+v: short barrier", ic.id)
		}
		res := in.al.barrier(m.Channel, binary.BigEndian.Uint64(m.Payload))
		return t.afterAlign(ctx, res)
	case kindWatermark, kindStatus:
		if err := t.inputWatermark(in, m.Channel, m.Kind, m.Payload); err != nil {
			return false, fmt.Errorf("channel %+v: %w", ic.id, err)
		}
		return false, nil
	case kindEndOfData:
		if !in.eod[m.Channel] {
			in.eod[m.Channel] = true
			in.eodCount++
			// An input at its end holds nobody back: with the last one,
			// event time ends and every timer and window fires.
			if err := t.applyValve(in.valve.end(m.Channel)); err != nil {
				return false, err
			}
			if in.eodCount == len(in.eod) {
				return false, t.endOfData()
			}
		}
		return false, nil
	case kindEnd:
		res := in.al.end(m.Channel)
		done, err := t.afterAlign(ctx, res)
		if err != nil {
			return done, err
		}
		if in.al.allEnded() {
			if err := t.closeOutputs(); err != nil {
				return done, err
			}
			t.ended, t.final = true, t.lastCP
		}
		return true, nil
	}
	return false, fmt.Errorf("channel %+v: unknown message kind %d", ic.id, m.Kind)
}

func (t *Task) afterAlign(ctx context.Context, res alignResult) (bool, error) {
	if res.Aborted != 0 {
		t.decline(res.Aborted, "overtaken by a newer checkpoint barrier")
	}
	if res.Complete == 0 {
		return res.Aborted != 0, nil
	}
	return true, t.checkpoint(ctx, res.Complete)
}

// timerWake wakes the input loop when the chain's earliest timer is due.
type timerWake struct {
	ops   []operator.Timed
	timer *time.Timer
	c     <-chan time.Time
	at    time.Time
}

func newTimerWake(chain []*link) *timerWake {
	w := &timerWake{}
	for _, l := range chain {
		if op, ok := l.hooks.(operator.Timed); ok {
			w.ops = append(w.ops, op)
		}
	}
	return w
}

// arm sets the wake-up to the earliest timer of the chain, if any.
func (w *timerWake) arm() {
	if len(w.ops) == 0 {
		return
	}
	var next time.Time
	for _, op := range w.ops {
		if at, ok := op.NextTimer(); ok && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	switch {
	case next.IsZero():
		w.c = nil
	case w.c != nil && next.Equal(w.at):
	case w.timer == nil:
		w.timer = time.NewTimer(time.Until(next))
		w.c, w.at = w.timer.C, next
	default:
		w.timer.Reset(time.Until(next))
		w.c, w.at = w.timer.C, next
	}
}

func (w *timerWake) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

// fireTimers fires the timers due at now; their output goes downstream like
// a record's, and the keyed state has changed since the last snapshot.
func (t *Task) fireTimers(w *timerWake, now time.Time) error {
	w.c = nil
	for _, op := range w.ops {
		if err := op.FireTimers(now); err != nil {
			return &Failure{Domain: rpc.DomainUser, Err: err}
		}
	}
	t.dirty = true
	return t.failure
}
