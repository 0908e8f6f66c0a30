package network

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// conn is one TCP connection between two Managers. The dialing Manager is the
// producer side: it writes HELLO, OPEN, DATA and CLOSE, and reads CREDIT and
// REJECT. The accepting Manager is the consumer side: it reads HELLO first,
// then OPEN, DATA and CLOSE, and writes CREDIT and REJECT. So each ordered
// pair of Managers shares exactly one connection, and credits travel back on
// the connection their data came on.
//
// Two goroutines own a conn, both started by Manager.startConn and counted in
// Manager.wg: readLoop owns br and runs until the connection fails; writeLoop
// owns bw and runs until the connection fails or, after shutdown, has flushed.
//
// Producer-side frames go through q, a bounded queue: a full queue blocks
// Send, which is backpressure from the socket. Consumer-side frames (credits
// and rejects) are coalesced per channel in ctrl instead, so Release and the
// reader never block; ctrl holds at most one entry per channel.
type conn struct {
	m      *Manager
	nc     net.Conn
	dialer bool
	br     *bufio.Reader
	bw     *bufio.Writer

	q chan frame // dialer only

	ctrlMu    sync.Mutex
	ctrl      map[ChannelID]ctrlEntry // guarded by ctrlMu
	ctrlSpare map[ChannelID]ctrlEntry // owned by writeLoop
	ctrlWake  chan struct{}           // capacity 1

	stop     chan struct{} // closed by shutdown: flush, half-close, exit
	stopOnce sync.Once
	dead     chan struct{} // closed by fail
	failOnce sync.Once
	err      error // why the conn failed; written before dead is closed

	mu struct {
		sync.Mutex
		remote   string                // peer Manager address; set by readLoop on HELLO for accepted conns
		outs     map[ChannelID]*Output // dialer: open outputs
		dead     bool                  // outs may no longer grow
		stopping bool                  // shutdown has set the read deadline
	}
}

// ctrlEntry is the consumer-side frame pending for one channel.
type ctrlEntry struct {
	credits int
	reject  byte // non-zero: send REJECT instead of credits
}

func (c *conn) remote() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.remote
}

// failure returns why the conn failed, or ErrClosed if it is shutting down
// without having failed yet.
func (c *conn) failure() error {
	select {
	case <-c.dead:
		return c.err
	default:
		return ErrClosed
	}
}

func (c *conn) isDead() bool {
	select {
	case <-c.dead:
		return true
	default:
		return false
	}
}

// peer implements creditSink.
func (c *conn) peer() string { return c.remote() }

// grant implements creditSink: queue n credits for channel id.
func (c *conn) grant(id ChannelID, n int) {
	c.ctrlMu.Lock()
	e := c.ctrl[id]
	e.credits += n
	c.ctrl[id] = e
	c.ctrlMu.Unlock()
	c.wakeWriter()
}

// reject implements creditSink: queue a REJECT for channel id.
func (c *conn) reject(id ChannelID, reason byte) {
	c.ctrlMu.Lock()
	c.ctrl[id] = ctrlEntry{reject: reason}
	c.ctrlMu.Unlock()
	c.wakeWriter()
}

func (c *conn) wakeWriter() {
	select {
	case c.ctrlWake <- struct{}{}:
	default:
	}
}

// addOutput registers o to receive this conn's credits for o.id.
func (c *conn) addOutput(o *Output) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.dead {
		return &ChannelError{ID: o.id, Remote: c.mu.remote, Err: c.failure()}
	}
	if _, dup := c.mu.outs[o.id]; dup {
		return fmt.Errorf("channel %v is already open on this manager", o.id)
	}
	c.mu.outs[o.id] = o
	return nil
}

func (c *conn) removeOutput(o *Output) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.outs[o.id] == o {
		delete(c.mu.outs, o.id)
	}
}

func (c *conn) output(id ChannelID) *Output {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.outs[id]
}

// takeOutputs marks the conn dead for new outputs and returns the open ones.
func (c *conn) takeOutputs() ([]*Output, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.dead = true
	outs := make([]*Output, 0, len(c.mu.outs))
	for _, o := range c.mu.outs {
		outs = append(outs, o)
	}
	clear(c.mu.outs)
	return outs, c.mu.remote
}

// enqueue queues a producer-side frame for the writer.
func (c *conn) enqueue(ctx context.Context, f frame) error {
	select {
	case c.q <- f:
		return nil
	default:
	}
	select {
	case c.q <- f:
		return nil
	case <-c.dead:
		return &ChannelError{ID: f.id, Remote: c.remote(), Err: c.err}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fail closes the connection because of err and fails everything that used
// it. Only the first call has an effect.
func (c *conn) fail(err error) {
	c.failOnce.Do(func() {
		c.err = err
		close(c.dead)
		c.nc.Close()
		c.m.connLost(c, err)
	})
}

// shutdown starts a graceful close for Manager.Close: outputs fail, the
// writer flushes what is queued and half-closes, and the reader waits a
// bounded time for the peer to close its end.
func (c *conn) shutdown() {
	outs, remote := c.takeOutputs()
	for _, o := range outs {
		o.fail(&ChannelError{ID: o.id, Remote: remote, Err: ErrClosed})
	}
	c.mu.Lock()
	c.mu.stopping = true
	c.nc.SetReadDeadline(time.Now().Add(c.m.cfg.testing.closeTimeout))
	c.mu.Unlock()
	c.stopOnce.Do(func() { close(c.stop) })
}

// readLoop reads and dispatches frames until the connection fails.
func (c *conn) readLoop() {
	defer c.m.wg.Done()
	var h [headerLen]byte
	if !c.dialer {
		if err := c.readHello(&h); err != nil {
			c.fail(fmt.Errorf("read HELLO from %s: %w", c.nc.RemoteAddr(), err))
			return
		}
	}
	for {
		f, err := readFrame(c.br, &h)
		if err != nil {
			c.fail(fmt.Errorf("read from %s: %w", c.remote(), err))
			return
		}
		if err := c.handle(&f); err != nil {
			c.fail(fmt.Errorf("protocol error from %s: %w", c.remote(), err))
			return
		}
	}
}

// readHello reads an accepted connection's first frame, which names the
// dialing Manager.
func (c *conn) readHello(h *[headerLen]byte) error {
	c.mu.Lock()
	if !c.mu.stopping {
		c.nc.SetReadDeadline(time.Now().Add(c.m.cfg.testing.helloTimeout))
	}
	c.mu.Unlock()
	f, err := readFrame(c.br, h)
	if err != nil {
		return err
	}
	if f.typ != frameHello {
		return fmt.Errorf("%w: first frame is %v, want HELLO", errBadFrame, f.typ)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.remote = string(f.payload)
	if !c.mu.stopping {
		c.nc.SetReadDeadline(time.Time{})
	}
	c.m.log.Debug("accepted peer", "peer", c.mu.remote)
	return nil
}

// handle dispatches one frame read by readLoop.
func (c *conn) handle(f *frame) error {
	if c.dialer {
		switch f.typ {
		case frameCredit:
			if o := c.output(f.id); o != nil {
				o.grant(f.id, int(f.credits))
			}
			return nil
		case frameReject:
			if o := c.output(f.id); o != nil {
				c.removeOutput(o)
				o.fail(&ChannelError{ID: f.id, Remote: c.remote(), Err: rejectError(f.kind)})
			}
			return nil
		}
	} else {
		switch f.typ {
		case frameOpen:
			c.m.handleOpen(f.id, c)
			return nil
		case frameData:
			return c.m.handleData(f.id, f.kind, f.payload, c)
		case frameClose:
			c.m.handleClose(f.id, c)
			return nil
		}
	}
	return fmt.Errorf("%w: unexpected %v frame on a %s connection", errBadFrame, f.typ, c.side())
}

func (c *conn) side() string {
	if c.dialer {
		return "dialed"
	}
	return "accepted"
}

// writeLoop writes queued frames, flushing whenever nothing more is queued.
func (c *conn) writeLoop() {
	defer c.m.wg.Done()
	var h [headerLen]byte
	for {
		var err error
		select {
		case f := <-c.q:
			err = writeFrame(c.bw, &h, &f)
		case <-c.ctrlWake:
		case <-c.stop:
			c.finish(&h)
			return
		case <-c.dead:
			return
		}
		if err == nil {
			err = c.drain(&h)
		}
		if err == nil {
			err = c.bw.Flush()
		}
		if err != nil {
			c.fail(fmt.Errorf("write to %s: %w", c.remote(), err))
			return
		}
	}
}

// drain writes everything queued without blocking on the queues.
func (c *conn) drain(h *[headerLen]byte) error {
	for {
		if err := c.writeCtrl(h); err != nil {
			return err
		}
		select {
		case f := <-c.q:
			if err := writeFrame(c.bw, h, &f); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// writeCtrl writes the pending credits and rejects.
func (c *conn) writeCtrl(h *[headerLen]byte) error {
	c.ctrlMu.Lock()
	if len(c.ctrl) == 0 {
		c.ctrlMu.Unlock()
		return nil
	}
	pending := c.ctrl
	c.ctrl = c.ctrlSpare
	c.ctrlMu.Unlock()
	c.ctrlSpare = pending
	defer clear(pending)
	for id, e := range pending {
		f := frame{typ: frameCredit, id: id, credits: uint32(e.credits)}
		if e.reject != 0 {
			f = frame{typ: frameReject, kind: e.reject, id: id}
		} else if e.credits == 0 {
			continue
		}
		if err := writeFrame(c.bw, h, &f); err != nil {
			return err
		}
	}
	return nil
}

// finish flushes what is queued at shutdown and half-closes the connection
// so that the peer reads EOF after the last frame.
func (c *conn) finish(h *[headerLen]byte) {
	c.nc.SetWriteDeadline(time.Now().Add(c.m.cfg.testing.closeTimeout))
	err := c.drain(h)
	if err == nil {
		err = c.bw.Flush()
	}
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok && err == nil {
		err = cw.CloseWrite()
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		c.fail(fmt.Errorf("flush to %s at close: %w", c.remote(), err))
	}
}
