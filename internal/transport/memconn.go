package transport

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// pipe is one direction of a memConn: a bounded byte queue with one writing
// end and one reading end. Waiters take the current changed channel under
// mu and block on it after unlocking; every change closes and replaces it,
// so no wakeup is lost and a blocked goroutine waits on a channel only.
type pipe struct {
	cap     int
	latency time.Duration

	mu sync.Mutex // guards the fields below
	// q holds the bytes written and not yet read, oldest first; n counts them.
	q []chunk
	n int
	// wclosed: the writer closed (or half-closed) its end; the reader gets
	// io.EOF once q is drained.
	wclosed bool
	// rclosed: the reader closed its end; writes fail.
	rclosed bool
	// err, once set, fails every Read and Write at once (a reset).
	err error
	// frozen: partitioned; nothing is readable until thawed.
	frozen  bool
	changed chan struct{}
}

// chunk is bytes written by one Write, readable from due on.
type chunk struct {
	b   []byte
	due time.Time
}

func newPipe(capacity int, latency time.Duration) *pipe {
	return &pipe{cap: capacity, latency: latency, changed: make(chan struct{})}
}

// signalLocked wakes every waiter.
func (p *pipe) signalLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *pipe) breakWith(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
		p.q, p.n = nil, 0
		p.signalLocked()
	}
}

func (p *pipe) setFrozen(frozen bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen != frozen {
		p.frozen = frozen
		p.signalLocked()
	}
}

// memConn is one end of an in-memory connection: it reads from in and
// writes to out, which are the peer's out and in.
type memConn struct {
	m             *Mem
	local, remote memAddr
	in, out       *pipe

	rdl, wdl  deadline
	done      chan struct{} // closed by Close
	closeOnce sync.Once
}

var _ net.Conn = (*memConn)(nil)

func newConnPair(m *Mem, client, server memAddr, latency time.Duration) (*memConn, *memConn) {
	up := newPipe(m.cfg.BufferSize, latency)   // client -> server
	down := newPipe(m.cfg.BufferSize, latency) // server -> client
	c := &memConn{m: m, local: client, remote: server, in: down, out: up,
		rdl: makeDeadline(), wdl: makeDeadline(), done: make(chan struct{})}
	s := &memConn{m: m, local: server, remote: client, in: up, out: down,
		rdl: makeDeadline(), wdl: makeDeadline(), done: make(chan struct{})}
	return c, s
}

func (c *memConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "mem", Source: c.local, Addr: c.remote, Err: err}
}

// Read implements net.Conn.
func (c *memConn) Read(b []byte) (int, error) {
	p := c.in
	for {
		if isClosed(c.done) {
			return 0, c.opError("read", net.ErrClosed)
		}
		dl := c.rdl.wait()
		if isClosed(dl) {
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		}
		p.mu.Lock()
		if p.err != nil {
			err := p.err
			p.mu.Unlock()
			return 0, err
		}
		var due <-chan time.Time
		var timer *time.Timer
		if !p.frozen {
			if len(p.q) > 0 {
				head := &p.q[0]
				if wait := time.Until(head.due); wait > 0 {
					timer = time.NewTimer(wait)
					due = timer.C
				} else {
					n := copy(b, head.b)
					head.b = head.b[n:]
					if len(head.b) == 0 {
						p.q[0] = chunk{}
						p.q = p.q[1:]
					}
					p.n -= n
					p.signalLocked()
					p.mu.Unlock()
					return n, nil
				}
			} else if p.wclosed {
				p.mu.Unlock()
				return 0, io.EOF
			}
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-due:
		case <-dl:
		case <-c.done:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// Write implements net.Conn. It blocks while the connection's buffer is
// full.
func (c *memConn) Write(b []byte) (int, error) {
	p := c.out
	written := 0
	for {
		if isClosed(c.done) {
			return written, c.opError("write", net.ErrClosed)
		}
		dl := c.wdl.wait()
		if isClosed(dl) {
			return written, c.opError("write", os.ErrDeadlineExceeded)
		}
		p.mu.Lock()
		switch {
		case p.err != nil:
			err := p.err
			p.mu.Unlock()
			return written, err
		case p.wclosed:
			p.mu.Unlock()
			return written, c.opError("write", net.ErrClosed)
		case p.rclosed:
			p.mu.Unlock()
			return written, c.opError("write", io.ErrClosedPipe)
		}
		if len(b) == 0 {
			p.mu.Unlock()
			return written, nil
		}
		if space := p.cap - p.n; space > 0 {
			k := min(space, len(b))
			p.q = append(p.q, chunk{b: append([]byte(nil), b[:k]...), due: time.Now().Add(p.latency)})
			p.n += k
			p.signalLocked()
			p.mu.Unlock()
			written += k
			b = b[k:]
			continue
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-dl:
		case <-c.done:
		}
	}
}

// Close implements net.Conn: the peer reads what was written and then
// io.EOF; the peer's writes fail.
func (c *memConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		c.out.mu.Lock()
		c.out.wclosed = true
		c.out.signalLocked()
		c.out.mu.Unlock()
		c.in.mu.Lock()
		c.in.rclosed = true
		c.in.q, c.in.n = nil, 0
		c.in.signalLocked()
		c.in.mu.Unlock()
		c.m.forget(c)
	})
	return nil
}

// CloseWrite half-closes the connection, as TCP's shutdown(SHUT_WR): the
// peer reads what was written and then io.EOF; this end can still read.
func (c *memConn) CloseWrite() error {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	if !c.out.wclosed {
		c.out.wclosed = true
		c.out.signalLocked()
	}
	return nil
}

// LocalAddr implements net.Conn.
func (c *memConn) LocalAddr() net.Addr { return c.local }

// RemoteAddr implements net.Conn.
func (c *memConn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline implements net.Conn.
func (c *memConn) SetDeadline(t time.Time) error {
	c.rdl.set(t)
	c.wdl.set(t)
	return nil
}

// SetReadDeadline implements net.Conn.
func (c *memConn) SetReadDeadline(t time.Time) error {
	c.rdl.set(t)
	return nil
}

// SetWriteDeadline implements net.Conn.
func (c *memConn) SetWriteDeadline(t time.Time) error {
	c.wdl.set(t)
	return nil
}
