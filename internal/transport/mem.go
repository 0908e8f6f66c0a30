package transport

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// MemConfig configures a Mem network. The zero value is usable.
type MemConfig struct {
	// BufferSize bounds the bytes in flight in each direction of a
	// connection: written but not yet read. A Write to a full buffer
	// blocks. Default 64 KiB.
	BufferSize int
	// MaxLatency is the largest one-way latency of a connection. Each
	// connection draws its latency uniformly from [0, MaxLatency] at Dial,
	// from a source seeded with Seed, and delays every byte it carries by
	// it. Default 0: bytes are readable as soon as written.
	MaxLatency time.Duration
	// Seed seeds the latency draws.
	Seed uint64
}

// DefaultMemBufferSize is MemConfig.BufferSize's default.
const DefaultMemBufferSize = 64 << 10

// listenBacklog bounds the connections a listener holds that Accept has not
// taken yet; a Dial beyond it is refused.
const listenBacklog = 128

// Mem is an in-memory network of named hosts. Each process of a simulation
// gets the view of its host (Host), so that the network knows both ends of
// every connection and can break them by host: Crash, Partition and Heal.
//
// Everything a blocked Read, Write or Accept waits on is a channel or a
// timer, so a goroutine blocked on the network is durably blocked in a
// testing/synctest bubble. Create a Mem inside the bubble that uses it:
// its channels belong to the bubble they were made in.
type Mem struct {
	cfg MemConfig

	mu struct {
		sync.Mutex
		// rng draws connection latencies.
		rng *rand.Rand
		// nextPort is the last port given to a Listen on port 0.
		nextPort int
		// listeners holds the open listeners by address.
		listeners map[string]*memListener
		// conns holds every connection end not closed yet.
		conns map[*memConn]struct{}
		// partitioned holds the hosts cut off by Partition.
		partitioned map[string]bool
		// closed is closed and replaced whenever a listener or connection
		// end closes.
		closed chan struct{}
	}
}

// NewMem returns an empty in-memory network.
func NewMem(cfg MemConfig) *Mem {
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = DefaultMemBufferSize
	}
	m := &Mem{cfg: cfg}
	m.mu.rng = rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x6a09e667f3bcc908))
	m.mu.listeners = map[string]*memListener{}
	m.mu.conns = map[*memConn]struct{}{}
	m.mu.partitioned = map[string]bool{}
	m.mu.closed = make(chan struct{})
	return m
}

// Host returns the Network of a process on host: it listens on host and
// its connections start from host.
func (m *Mem) Host(host string) Network { return memHost{m: m, host: host} }

// Crash breaks every connection with an end on host, as a crashed machine's
// connections reset: both ends' Reads and Writes fail at once with an
// error wrapping syscall.ECONNRESET, and buffered bytes are lost.
// Listeners stay open until their owner closes them, and new dials work:
// stopping the process itself is the caller's part.
func (m *Mem) Crash(host string) {
	for _, c := range m.connsOf(host) {
		err := &net.OpError{Op: "read", Net: "mem", Source: c.local, Addr: c.remote,
			Err: fmt.Errorf("host %s crashed: %w", host, syscall.ECONNRESET)}
		c.in.breakWith(err)
		c.out.breakWith(err)
	}
}

// Partition cuts host off the network until Heal, as if its packets were
// dropped: dials from or to it are refused, and its connections stop
// delivering — Writes fill the buffers and then block, Reads block — but
// do not fail; deadlines still expire. After Heal they deliver what was
// buffered, as TCP does after a short partition.
func (m *Mem) Partition(host string) {
	m.mu.Lock()
	m.mu.partitioned[host] = true
	m.mu.Unlock()
	m.refreeze(host)
}

// Heal ends a Partition of host.
func (m *Mem) Heal(host string) {
	m.mu.Lock()
	delete(m.mu.partitioned, host)
	m.mu.Unlock()
	m.refreeze(host)
}

// refreeze recomputes whether each connection of host delivers.
func (m *Mem) refreeze(host string) {
	m.mu.Lock()
	type change struct {
		p      *pipe
		frozen bool
	}
	var cs []change
	for c := range m.mu.conns {
		if c.local.host == host || c.remote.host == host {
			frozen := m.mu.partitioned[c.local.host] || m.mu.partitioned[c.remote.host]
			cs = append(cs, change{c.in, frozen}, change{c.out, frozen})
		}
	}
	m.mu.Unlock()
	for _, c := range cs {
		c.p.setFrozen(c.frozen)
	}
}

// connsOf returns the open connection ends with an end on host.
func (m *Mem) connsOf(host string) []*memConn {
	m.mu.Lock()
	defer m.mu.Unlock()
	var cs []*memConn
	for c := range m.mu.conns {
		if c.local.host == host || c.remote.host == host {
			cs = append(cs, c)
		}
	}
	return cs
}

// Open counts the listeners and connection ends not closed yet: zero of
// both once every process of a simulation has stopped.
func (m *Mem) Open() (listeners, conns int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.mu.listeners), len(m.mu.conns)
}

// AwaitClosed waits until every listener and connection end is closed, or
// ctx ends. Processes may close their last connections from goroutines
// that outlive their Close (gRPC does), so a check that a simulation left
// nothing open waits here rather than reading Open once.
func (m *Mem) AwaitClosed(ctx context.Context) error {
	for {
		m.mu.Lock()
		ls, cs, ch := len(m.mu.listeners), len(m.mu.conns), m.mu.closed
		m.mu.Unlock()
		if ls == 0 && cs == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("transport: %d listeners and %d connection ends still open: %w", ls, cs, context.Cause(ctx))
		}
	}
}

// signalClosedLocked wakes AwaitClosed.
func (m *Mem) signalClosedLocked() {
	close(m.mu.closed)
	m.mu.closed = make(chan struct{})
}

// memHost is the Network of one host of a Mem.
type memHost struct {
	m    *Mem
	host string
}

// Listen implements Network. The host part of addr must be empty or the
// view's host; port 0 picks a port no listener of the network has used.
func (h memHost) Listen(addr string) (net.Listener, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "mem", Err: err}
	}
	if host == "" {
		host = h.host
	}
	if host != h.host {
		return nil, &net.OpError{Op: "listen", Net: "mem", Err: fmt.Errorf("cannot bind %s on host %s", addr, h.host)}
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, &net.OpError{Op: "listen", Net: "mem", Err: fmt.Errorf("bad port in %q", addr)}
	}
	m := h.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if port == 0 {
		m.mu.nextPort++
		port = m.mu.nextPort
	}
	a := memAddr{host: host, port: port}
	if m.mu.listeners[a.String()] != nil {
		return nil, &net.OpError{Op: "listen", Net: "mem", Addr: a, Err: syscall.EADDRINUSE}
	}
	l := &memListener{m: m, addr: a, changed: make(chan struct{})}
	m.mu.listeners[a.String()] = l
	return l, nil
}

// Dial implements Network. It fails with an error wrapping
// syscall.ECONNREFUSED when nothing listens on addr or when either host is
// partitioned.
func (h memHost) Dial(ctx context.Context, addr string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, &net.OpError{Op: "dial", Net: "mem", Err: err}
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: "mem", Err: err}
	}
	port, _ := strconv.Atoi(portStr)
	m := h.m
	refused := func(why string) error {
		return &net.OpError{Op: "dial", Net: "mem", Addr: memAddr{host, port},
			Err: fmt.Errorf("%s: %w", why, syscall.ECONNREFUSED)}
	}
	m.mu.Lock()
	if m.mu.partitioned[h.host] || m.mu.partitioned[host] {
		m.mu.Unlock()
		return nil, refused("partitioned")
	}
	l := m.mu.listeners[memAddr{host, port}.String()]
	if l == nil {
		m.mu.Unlock()
		return nil, refused("nothing listens")
	}
	var latency time.Duration
	if m.cfg.MaxLatency > 0 {
		latency = time.Duration(m.mu.rng.Int64N(int64(m.cfg.MaxLatency) + 1))
	}
	m.mu.nextPort++
	client, server := newConnPair(m, memAddr{h.host, m.mu.nextPort}, l.addr, latency)
	m.mu.conns[client] = struct{}{}
	m.mu.conns[server] = struct{}{}
	m.mu.Unlock()
	if !l.enqueue(server) {
		client.Close()
		server.Close()
		return nil, refused("listener closed or backlog full")
	}
	return client, nil
}

// forget drops a closed connection end.
func (m *Mem) forget(c *memConn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mu.conns, c)
	m.signalClosedLocked()
}

// memAddr is a host:port of a Mem network.
type memAddr struct {
	host string
	port int
}

func (a memAddr) Network() string { return "mem" }
func (a memAddr) String() string  { return net.JoinHostPort(a.host, strconv.Itoa(a.port)) }

// memListener is a listener of a Mem network.
type memListener struct {
	m    *Mem
	addr memAddr

	mu      sync.Mutex // guards the fields below
	pending []*memConn // dialed, not accepted yet; at most listenBacklog
	closed  bool
	changed chan struct{} // closed and replaced whenever pending or closed changes
}

// enqueue hands an accepted end to Accept; false if the listener is closed
// or its backlog full.
func (l *memListener) enqueue(c *memConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || len(l.pending) >= listenBacklog {
		return false
	}
	l.pending = append(l.pending, c)
	close(l.changed)
	l.changed = make(chan struct{})
	return true
}

// Accept implements net.Listener.
func (l *memListener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return nil, &net.OpError{Op: "accept", Net: "mem", Addr: l.addr, Err: net.ErrClosed}
		}
		if len(l.pending) > 0 {
			c := l.pending[0]
			l.pending = l.pending[1:]
			l.mu.Unlock()
			return c, nil
		}
		ch := l.changed
		l.mu.Unlock()
		<-ch
	}
}

// Close implements net.Listener: it refuses further dials and closes the
// connections not accepted yet.
func (l *memListener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	pending := l.pending
	l.pending = nil
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
	l.m.mu.Lock()
	if l.m.mu.listeners[l.addr.String()] == l {
		delete(l.m.mu.listeners, l.addr.String())
		l.m.signalClosedLocked()
	}
	l.m.mu.Unlock()
	for _, c := range pending {
		c.Close()
	}
	return nil
}

// Addr implements net.Listener.
func (l *memListener) Addr() net.Addr { return l.addr }
