package network

import (
	"context"
	"fmt"
	"sync"
)

// Output is the producer end of one channel. Send and Close are meant for one
// goroutine (the producing subtask's loop).
type Output struct {
	m      *Manager
	id     ChannelID
	remote string
	c      *conn // nil for a local channel

	// wake has capacity 1; credits and failures post to it so that a Send
	// waiting for a credit re-checks mu.
	wake chan struct{}

	mu struct {
		sync.Mutex
		credits int
		err     error // first failure; sticky
		closed  bool
	}
}

// OpenOutput opens the channel id to the consumer Manager at addr. If addr is
// this Manager's own address the channel is local: no TCP, and Send hands the
// payload slice itself to the consumer's gate. Otherwise the channel is
// multiplexed on the one connection to addr, which is dialed on first use
// (and again after it broke). The consumer need not have opened its gate yet:
// Send blocks until it grants credits.
func (m *Manager) OpenOutput(ctx context.Context, id ChannelID, addr string) (*Output, error) {
	o := &Output{m: m, id: id, remote: addr, wake: make(chan struct{}, 1)}
	if addr == m.addr {
		m.mu.Lock()
		closed := m.mu.closed
		if !closed {
			m.mu.locals[o] = struct{}{}
		}
		m.mu.Unlock()
		if closed {
			return nil, fmt.Errorf("network: open output %v: %w", id, ErrClosed)
		}
		m.handleOpen(id, o)
		return o, nil
	}
	c, err := m.dialedConn(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("network: open output %v to %s: %w", id, addr, err)
	}
	o.c = c
	if err := c.addOutput(o); err != nil {
		return nil, fmt.Errorf("network: open output %v to %s: %w", id, addr, err)
	}
	if err := c.enqueue(ctx, frame{typ: frameOpen, id: id}); err != nil {
		c.removeOutput(o)
		return nil, fmt.Errorf("network: open output %v to %s: %w", id, addr, err)
	}
	return o, nil
}

// ID returns the channel's id.
func (o *Output) ID() ChannelID { return o.id }

// Credits returns the number of messages Send can pass on without blocking;
// zero while the consumer applies backpressure.
func (o *Output) Credits() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.mu.credits
}

// Send sends one message. It blocks until the channel has a credit, then
// queues the message; ownership of payload passes to the network, so the
// caller must not reuse it. It returns a *ChannelError (wrapping ErrFenced if
// the consumer fenced the attempt, ErrRejected if it refused the channel
// otherwise, ErrClosed if a Manager closed) once the channel has failed, and
// ctx.Err() if ctx ends first.
func (o *Output) Send(ctx context.Context, kind byte, payload []byte) error {
	for {
		o.mu.Lock()
		err, closed := o.mu.err, o.mu.closed
		if err == nil && !closed && o.mu.credits > 0 {
			o.mu.credits--
			o.mu.Unlock()
			break
		}
		o.mu.Unlock()
		if err != nil {
			return err
		}
		if closed {
			return fmt.Errorf("network: send on closed output %v: %w", o.id, ErrClosed)
		}
		select {
		case <-o.wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if o.c == nil {
		if err := o.m.handleData(o.id, kind, payload, o); err != nil {
			return fmt.Errorf("network: send on %v: %w", o.id, err) // unreachable: local sends respect credits
		}
		return nil
	}
	return o.c.enqueue(ctx, frame{typ: frameData, kind: kind, id: o.id, payload: payload})
}

// Close ends the channel gracefully: the consumer sees the end after every
// message sent before. It does not wait for the consumer. It returns the
// channel's failure if it had failed (then the consumer sees an error, not a
// graceful end). Closing twice returns nil.
func (o *Output) Close() error {
	o.mu.Lock()
	if o.mu.closed {
		o.mu.Unlock()
		return nil
	}
	o.mu.closed = true
	err := o.mu.err
	o.mu.Unlock()

	if o.c == nil {
		o.m.mu.Lock()
		delete(o.m.mu.locals, o)
		o.m.mu.Unlock()
		if err == nil {
			o.m.handleClose(o.id, o)
		}
		return err
	}
	o.c.removeOutput(o)
	if err != nil {
		return err
	}
	return o.c.enqueue(context.Background(), frame{typ: frameClose, id: o.id})
}

// grant adds n credits. As a creditSink (local channel) it is called with
// Manager.mu held; for a remote channel the connection reader calls it.
func (o *Output) grant(_ ChannelID, n int) {
	o.mu.Lock()
	o.mu.credits += n
	o.mu.Unlock()
	o.notify()
}

// reject fails a local channel the consumer refused.
func (o *Output) reject(id ChannelID, reason byte) {
	o.fail(&ChannelError{ID: id, Remote: o.remote, Err: rejectError(reason)})
}

// peer returns the consumer Manager's address.
func (o *Output) peer() string { return o.remote }

// fail records the channel's first failure and wakes a waiting Send.
func (o *Output) fail(err error) {
	o.mu.Lock()
	if o.mu.err == nil {
		o.mu.err = err
	}
	o.mu.Unlock()
	o.notify()
}

func (o *Output) notify() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}
