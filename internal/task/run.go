package task

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tide-stream/tide/internal/network"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/rpc"
)

// runSource drives a source chain: poll, and between polls serve the
// mailbox (barriers are injected there) and send partly filled buffers
// older than the buffer timeout.
func (t *Task) runSource(ctx context.Context) error {
	lastFlush := time.Now()
	var idle *time.Timer
	for {
		if err := t.serveMailbox(ctx, false); err != nil {
			return err
		}
		if t.ended {
			return t.finish(ctx)
		}
		if t.sourceDone || t.halted {
			t.flushAll()
			if err := t.waitMailbox(ctx, nil); err != nil {
				return err
			}
			continue
		}
		status, wait, err := t.source.Poll()
		if err != nil {
			return &Failure{Domain: "external", Err: fmt.Errorf("poll %s: %w", t.chain[0].op.ID, err)}
		}
		if t.failure != nil {
			return t.failure
		}
		now := time.Now()
		if status == operator.More {
			t.progress()
		}
		if now.Sub(lastFlush) >= t.cfg.BufferTimeout {
			t.flushAll()
			lastFlush = now
		}
		switch status {
		case operator.Idle:
			t.flushAll()
			lastFlush = now
			if wait <= 0 {
				continue
			}
			if idle == nil {
				idle = time.NewTimer(wait)
				defer idle.Stop()
			} else {
				idle.Reset(wait)
			}
			if err := t.waitMailbox(ctx, idle.C); err != nil {
				return err
			}
		case operator.Done:
			t.flushAll()
			t.sourceDone = true
			t.log.Info("source reached the end of its input; waiting for the final checkpoint")
			t.report(&rpc.TaskStatus{State: rpc.TaskRunning, SourceDone: true, SourcePosition: t.source.Position()})
		}
		if t.failure != nil {
			return t.failure
		}
	}
}

// waitMailbox blocks until a command (served), ctx's end or wake fires.
func (t *Task) waitMailbox(ctx context.Context, wake <-chan time.Time) error {
	select {
	case c := <-t.mailbox:
		return t.handle(ctx, c)
	case <-wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serveMailbox handles the commands waiting in the mailbox.
func (t *Task) serveMailbox(ctx context.Context, _ bool) error {
	for {
		select {
		case c := <-t.mailbox:
			if err := t.handle(ctx, c); err != nil {
				return err
			}
		default:
			return ctx.Err()
		}
	}
}

func (t *Task) handle(ctx context.Context, c command) error {
	switch {
	case c.trigger != 0:
		if t.source == nil {
			return nil
		}
		if err := t.checkpoint(ctx, c.trigger); err != nil {
			return err
		}
		if c.final {
			t.ended, t.final = true, c.trigger
			return t.endOutputs()
		}
		if c.halt {
			t.halted = true
			t.log.Info("source halted after the barrier until the attempt stops", "checkpoint", c.trigger)
		}
	case c.resume:
		if t.halted {
			t.halted = false
			t.log.Info("source resumed")
		}
	case c.complete != 0:
		return t.notifyComplete(c.complete)
	}
	return nil
}

func (t *Task) notifyComplete(id uint64) error {
	for _, l := range t.chain {
		if err := l.hooks.CheckpointComplete(id); err != nil {
			return &Failure{Domain: "external", Err: fmt.Errorf("%s: commit checkpoint %d: %w", l.op.ID, id, err)}
		}
	}
	if id > t.lastComplete {
		t.lastComplete = id
	}
	return nil
}

func (t *Task) flushAll() {
	for _, w := range t.writers {
		w.flushAll()
	}
}

func (t *Task) endOutputs() error {
	for _, l := range t.chain {
		if err := l.hooks.EndInput(); err != nil {
			return &Failure{Domain: "user", Err: fmt.Errorf("end input of %s: %w", l.op.ID, err)}
		}
	}
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
		if err := t.waitMailbox(ctx, nil); err != nil {
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
	go func() {
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
	al := newAligner(len(t.inputs))
	stash := make([][]network.Message, len(t.inputs))
	for {
		if t.failure != nil {
			return t.failure
		}
		if t.ended {
			return t.finish(ctx)
		}
		var in inMsg
		select {
		case in = <-msgs:
		case c := <-t.mailbox:
			if err := t.handle(ctx, c); err != nil {
				return err
			}
			continue
		default:
			// Input ran dry: send partly filled buffers before blocking.
			t.flushAll()
			select {
			case in = <-msgs:
			case c := <-t.mailbox:
				if err := t.handle(ctx, c); err != nil {
					return err
				}
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if in.err != nil {
			if errors.Is(in.err, io.EOF) {
				return fmt.Errorf("input channels closed before their end of input")
			}
			return in.err
		}
		ch := in.m.Channel
		if al.isBlocked(ch) || len(stash[ch]) > 0 {
			stash[ch] = append(stash[ch], in.m)
			continue
		}
		if err := t.onMessage(ctx, al, stash, in.m); err != nil {
			return err
		}
	}
}

// onMessage processes one message and then whatever stashed messages it
// unblocked.
func (t *Task) onMessage(ctx context.Context, al *aligner, stash [][]network.Message, m network.Message) error {
	unblocked, err := t.process(ctx, al, m)
	if err != nil || !unblocked {
		return err
	}
	for {
		progressed := false
		for ch := range stash {
			for len(stash[ch]) > 0 && !al.isBlocked(ch) {
				m := stash[ch][0]
				stash[ch] = stash[ch][1:]
				progressed = true
				if _, err := t.process(ctx, al, m); err != nil {
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
func (t *Task) process(ctx context.Context, al *aligner, m network.Message) (bool, error) {
	defer t.gate.Release(m.Channel)
	ic := t.inputs[m.Channel]
	switch m.Kind {
	case kindRecords:
		for _, r := range t.readers[ic.edgePos] {
			if err := r(m.Payload); err != nil {
				return false, &Failure{Domain: "internal", Err: fmt.Errorf("channel %+v: %w", ic.id, err)}
			}
		}
		t.progress()
		return false, t.failure
	case kindBarrier:
		if len(m.Payload) < 8 {
			return false, fmt.Errorf("channel %+v: short barrier", ic.id)
		}
		res := al.barrier(m.Channel, binary.BigEndian.Uint64(m.Payload))
		return t.afterAlign(ctx, res)
	case kindEnd:
		res := al.end(m.Channel)
		done, err := t.afterAlign(ctx, res)
		if err != nil {
			return done, err
		}
		if al.allEnded() {
			if err := t.endOutputs(); err != nil {
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
