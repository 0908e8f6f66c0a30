package network

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"

	"github.com/tide-stream/tide/internal/transport"
)

// Manager is one TaskManager's end of the data plane. It listens for
// connections from peer Managers, dials one connection to each peer it sends
// to, and keeps the registry of input channels. All its methods are safe for
// concurrent use.
//
// Lock order: Manager.mu before conn.mu, conn.ctrlMu and Output.mu. No code
// takes Manager.mu while holding one of those.
type Manager struct {
	cfg  Config
	log  *slog.Logger
	ln   net.Listener
	addr string

	// wg counts every goroutine the Manager owns: the accept loop and two per
	// connection. Add is called with mu held and mu.closed false, so Close's
	// Wait never races with an Add.
	wg        sync.WaitGroup
	closing   chan struct{} // closed by Close
	closeOnce sync.Once
	closeErr  error

	mu struct {
		sync.Mutex
		closed bool
		// fence: channels with Attempt < fence are refused.
		fence uint64
		// inputs holds the channels registered by open gates.
		inputs map[ChannelID]*inChan
		// pending holds OPENs that arrived before their gate registered.
		pending map[ChannelID]*pendingOpen
		// dialing holds the dial in progress per address.
		dialing map[string]*dialCall
		// dialed holds the live outgoing connection per address.
		dialed map[string]*conn
		// conns holds every live connection, dialed or accepted.
		conns map[*conn]struct{}
		// locals holds the open local outputs.
		locals map[*Output]struct{}
	}
}

// pendingOpen is an OPEN waiting for its gate.
type pendingOpen struct {
	sink   creditSink
	closed bool // CLOSE arrived too
}

// dialCall is a dial in progress; waiters block on done.
type dialCall struct {
	done chan struct{}
	c    *conn
	err  error
}

// Listen starts a Manager listening on cfg.ListenAddr.
func Listen(cfg Config) (*Manager, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ln, err := cfg.Network.Listen(cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("network: listen on %q: %w", cfg.ListenAddr, err)
	}
	m := &Manager{
		cfg:     cfg,
		log:     cfg.Logger,
		ln:      ln,
		addr:    ln.Addr().String(),
		closing: make(chan struct{}),
	}
	m.mu.inputs = make(map[ChannelID]*inChan)
	m.mu.pending = make(map[ChannelID]*pendingOpen)
	m.mu.dialing = make(map[string]*dialCall)
	m.mu.dialed = make(map[string]*conn)
	m.mu.conns = make(map[*conn]struct{})
	m.mu.locals = make(map[*Output]struct{})
	m.log = m.log.With("network", m.addr)
	m.wg.Add(1)
	go m.acceptLoop()
	return m, nil
}

// Addr returns the address other Managers dial to reach this one.
func (m *Manager) Addr() string { return m.addr }

// Close closes the listener, fails every open output and gate channel with an
// error wrapping ErrClosed, flushes and closes every connection (waiting at
// most a couple of seconds for peers), and waits for all goroutines to exit.
// Frames queued before Close, such as a CLOSE after an output's last DATA, are
// still delivered. OnPeerLost is not called for connections Close ends.
func (m *Manager) Close() error {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.mu.closed = true
		close(m.closing)
		conns := make([]*conn, 0, len(m.mu.conns))
		for c := range m.mu.conns {
			conns = append(conns, c)
		}
		locals := make([]*Output, 0, len(m.mu.locals))
		for o := range m.mu.locals {
			locals = append(locals, o)
		}
		for id, ic := range m.mu.inputs {
			m.endLocked(ic, &ChannelError{ID: id, Remote: m.peerOf(ic), Err: ErrClosed})
		}
		clear(m.mu.pending)
		m.mu.Unlock()

		if err := m.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			m.closeErr = fmt.Errorf("network: close listener %s: %w", m.addr, err)
		}
		for _, o := range locals {
			o.fail(&ChannelError{ID: o.id, Remote: m.addr, Err: ErrClosed})
		}
		for _, c := range conns {
			c.shutdown()
		}
		m.wg.Wait()
	})
	return m.closeErr
}

// acceptLoop accepts connections until the listener closes. Owned by the
// Manager; exits when Close closes the listener.
func (m *Manager) acceptLoop() {
	defer m.wg.Done()
	for {
		nc, ok := transport.Accept(m.ln, m.closing, m.log)
		if !ok {
			return
		}
		if m.accepted() >= m.cfg.testing.maxAccepted {
			// Each peer Manager dials one connection: this many is a flood.
			m.log.Warn("refused a connection: too many accepted connections", "peer", nc.RemoteAddr().String(),
				"max", m.cfg.testing.maxAccepted)
			nc.Close()
			continue
		}
		if m.startConn(nc, "", false) == nil {
			nc.Close()
		}
	}
}

// accepted counts the live connections peers dialed to this Manager.
func (m *Manager) accepted() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for c := range m.mu.conns {
		if !c.dialer {
			n++
		}
	}
	return n
}

// startConn registers a connection and starts its reader and writer. For a
// dialed connection remote is the dialed address and HELLO is queued first.
// It returns nil if the Manager is closed.
func (m *Manager) startConn(nc net.Conn, remote string, dialer bool) *conn {
	c := &conn{
		m:        m,
		nc:       nc,
		dialer:   dialer,
		br:       bufio.NewReaderSize(nc, bufSize),
		bw:       bufio.NewWriterSize(nc, bufSize),
		ctrlWake: make(chan struct{}, 1),
		stop:     make(chan struct{}),
		dead:     make(chan struct{}),
	}
	c.mu.remote = remote
	c.mu.outs = make(map[ChannelID]*Output)
	c.ctrl = make(map[ChannelID]ctrlEntry)
	c.ctrlSpare = make(map[ChannelID]ctrlEntry)
	if dialer {
		c.q = make(chan frame, writeQueueLen)
		c.q <- frame{typ: frameHello, payload: []byte(m.addr)}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.closed {
		return nil
	}
	m.mu.conns[c] = struct{}{}
	if dialer {
		m.mu.dialed[remote] = c
	}
	m.wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
	return c
}

// dialedConn returns the live connection to addr, dialing it if there is
// none. Concurrent callers share one dial.
func (m *Manager) dialedConn(ctx context.Context, addr string) (*conn, error) {
	m.mu.Lock()
	if m.mu.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	if c := m.mu.dialed[addr]; c != nil && !c.isDead() {
		m.mu.Unlock()
		return c, nil
	}
	if d := m.mu.dialing[addr]; d != nil {
		m.mu.Unlock()
		select {
		case <-d.done:
			return d.c, d.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	d := &dialCall{done: make(chan struct{})}
	m.mu.dialing[addr] = d
	m.mu.Unlock()

	nc, err := m.cfg.Network.Dial(ctx, addr)
	if err == nil {
		d.c = m.startConn(nc, addr, true)
		if d.c == nil {
			nc.Close()
			err = ErrClosed
		} else {
			m.log.Debug("dialed peer", "peer", addr)
		}
	}
	d.err = err
	m.mu.Lock()
	delete(m.mu.dialing, addr)
	m.mu.Unlock()
	close(d.done)
	return d.c, d.err
}

// connLost is called exactly once per connection, by conn.fail. It fails the
// outputs and input channels that used c and reports the peer as lost.
func (m *Manager) connLost(c *conn, err error) {
	outs, remote := c.takeOutputs()
	active := len(outs) > 0

	m.mu.Lock()
	closing := m.mu.closed
	cause := err
	if closing {
		cause = fmt.Errorf("%w (%w)", ErrClosed, err)
	}
	delete(m.mu.conns, c)
	if c.dialer && m.mu.dialed[remote] == c {
		delete(m.mu.dialed, remote)
	}
	if !c.dialer {
		for id, ic := range m.mu.inputs {
			if ic.sink == creditSink(c) && !ic.done {
				active = true
				m.endLocked(ic, &ChannelError{ID: id, Remote: remote, Err: cause})
			}
		}
		for id, p := range m.mu.pending {
			if p.sink == creditSink(c) {
				active = active || !p.closed
				delete(m.mu.pending, id)
			}
		}
	}
	m.mu.Unlock()

	for _, o := range outs {
		o.fail(&ChannelError{ID: o.id, Remote: remote, Err: cause})
	}
	if closing {
		return
	}
	lost := active || !errors.Is(err, io.EOF)
	m.log.Log(context.Background(), levelFor(lost), "connection closed",
		"peer", remote, "dialed", c.dialer, "active", active, "err", err)
	if lost && remote != "" && m.cfg.OnPeerLost != nil {
		m.cfg.OnPeerLost(remote, err)
	}
}

func levelFor(lost bool) slog.Level {
	if lost {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

// Reset ends every channel, as a fence above all attempts would, and then
// lowers the fence to zero. It is for a TaskManager that registers with
// another JobManager, which numbers its attempts afresh: nothing of the old
// one's channels may reach the new one's tasks, and the new one's attempts
// must not be refused for being low.
func (m *Manager) Reset() {
	m.FenceBelow(^uint64(0))
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mu.fence = 0
	m.log.Info("reset the fence for a new jobmanager")
}

// FenceBelow refuses every channel whose attempt is below attempt, now and in
// the future: OPENs waiting for a gate and channels of open gates are
// rejected (their producers' Send fails with an error wrapping ErrFenced,
// and the gates' Next returns a *ChannelError wrapping ErrFenced), later
// OPENs are rejected, and DATA for them is dropped with a debug log line. A
// lower fence than the current one is ignored.
func (m *Manager) FenceBelow(attempt uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if attempt <= m.mu.fence {
		return
	}
	m.mu.fence = attempt
	for id, p := range m.mu.pending {
		if id.Attempt < attempt {
			delete(m.mu.pending, id)
			if !p.closed {
				p.sink.reject(id, rejectFenced)
			}
		}
	}
	for id, ic := range m.mu.inputs {
		if id.Attempt < attempt && !ic.done {
			if ic.sink != nil {
				ic.sink.reject(id, rejectFenced)
			}
			m.endLocked(ic, &ChannelError{ID: id, Remote: m.peerOf(ic), Err: ErrFenced})
		}
	}
	m.log.Info("fenced attempts", "below", attempt)
}
