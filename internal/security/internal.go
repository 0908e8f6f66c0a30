package security

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/tide-stream/tide/internal/transport"
)

// Defaults of an Internal network.
const (
	// DefaultHandshakeTimeout bounds a handshake, TLS and token together:
	// a peer that connects and says nothing is dropped after it.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultMaxHandshakes bounds the handshakes in progress on one
	// listener; a connection beyond it is closed at once.
	DefaultMaxHandshakes = 256
	// DefaultMaxHandshakesPerHost bounds the handshakes in progress from
	// one remote host (loopback aside), so that one host holding sockets
	// open cannot take every slot.
	DefaultMaxHandshakesPerHost = 8
	// firstBytesTimeout is how long an accepted connection may stay silent:
	// a client sends its TLS hello or the token handshake's magic at once.
	firstBytesTimeout = 2 * time.Second
)

// exporterLabel is the TLS exporter label that binds a token proof to its
// TLS session (RFC 9266's idea, with Tide's own label).
const exporterLabel = "EXPORTER-tide-internal-token"

// Internal is a transport.Network that authenticates, and with TLS
// encrypts, every connection of the internal plane: the JobManager's
// control port and the TaskManagers' data-plane ports.
type Internal struct {
	// Inner carries the bytes. Default: TCP.
	Inner transport.Network
	// Certs, if set, turns on mutual TLS 1.3 with its certificate and CAs.
	Certs *Certs
	// Secret, if set, turns on the token handshake.
	Secret *Secret
	// Logger receives refused connections, with the peer's address.
	Logger *slog.Logger
	// HandshakeTimeout bounds each handshake. Default DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// MaxHandshakes bounds the handshakes in progress per listener. Default
	// DefaultMaxHandshakes.
	MaxHandshakes int
	// MaxHandshakesPerHost bounds those from one remote host other than
	// loopback. Default DefaultMaxHandshakesPerHost.
	MaxHandshakesPerHost int
}

var _ transport.Network = (*Internal)(nil)

// Enabled reports whether n authenticates anything.
func (n *Internal) Enabled() bool { return n != nil && (n.Certs != nil || n.Secret != nil) }

func (n *Internal) timeout() time.Duration {
	if n.HandshakeTimeout > 0 {
		return n.HandshakeTimeout
	}
	return DefaultHandshakeTimeout
}

func (n *Internal) log() *slog.Logger {
	if n.Logger != nil {
		return n.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Dial implements transport.Network: it connects to addr and runs the
// client's side of the handshakes; the connection is returned only once the
// server proved itself. An error from a peer that refused or failed the
// handshake wraps ErrRefused.
//
// A peer that hangs up in the middle of the handshake, as a listener with
// all its handshake slots taken does, is dialed again a few times with
// backoff (within ctx): a burst of connections, as when every TaskManager
// dials every other at a deployment, is not a failure.
func (n *Internal) Dial(ctx context.Context, addr string) (net.Conn, error) {
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		conn, err := n.dialOnce(ctx, addr)
		if err == nil || !hungUp(err) {
			return conn, err
		}
		if attempt == dialAttempts {
			// Still hanging up: a peer that does not speak the handshake as
			// configured here (no secret, or no TLS) does just that.
			return nil, fmt.Errorf("%w (after %d tries): %w", err, attempt, ErrRefused)
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, err
		}
		backoff *= 3
	}
}

// dialAttempts bounds Dial's tries of a peer that hangs up.
const dialAttempts = 4

// hungUp reports whether err is the peer closing or resetting the
// connection during the handshake (not a refusal of our credentials).
func hungUp(err error) bool {
	return !errors.Is(err, ErrRefused) &&
		(errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET))
}

func (n *Internal) dialOnce(ctx context.Context, addr string) (net.Conn, error) {
	raw, err := transport.Or(n.Inner).Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	conn, err := n.handshake(ctx, raw, false)
	if err != nil {
		raw.Close()
		return nil, fmt.Errorf("security: connect to %s: %w", addr, err)
	}
	return conn, nil
}

// handshake runs TLS and the token handshake on raw, as a server or a
// client, within the handshake timeout (and ctx).
func (n *Internal) handshake(ctx context.Context, raw net.Conn, server bool) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, n.timeout())
	defer cancel()
	deadline, _ := ctx.Deadline()
	if err := raw.SetDeadline(deadline); err != nil {
		return nil, err
	}
	// Cancelling ctx (the listener closing) ends the token handshake too.
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Now()) })
	defer stop()
	conn := raw
	if server {
		// A client speaks first: one that says nothing for a moment holds a
		// handshake slot for nothing.
		first := make([]byte, 1)
		if err := raw.SetReadDeadline(time.Now().Add(min(firstBytesTimeout, time.Until(deadline)))); err != nil {
			return nil, err
		}
		if _, err := io.ReadFull(raw, first); err != nil {
			return nil, fmt.Errorf("the peer sent nothing: %w", err)
		}
		if err := raw.SetDeadline(deadline); err != nil {
			return nil, err
		}
		conn = &peeked{Conn: raw, first: first}
	}
	var binding []byte
	if n.Certs != nil {
		var tc *tls.Conn
		if server {
			tc = tls.Server(conn, n.Certs.internalServerTLS())
		} else {
			tc = tls.Client(conn, n.Certs.internalClientTLS())
		}
		if err := tc.HandshakeContext(ctx); err != nil {
			var alert tls.AlertError
			if errors.As(err, &alert) && !errors.Is(err, ErrRefused) {
				// The peer refused our certificate, or our TLS.
				err = fmt.Errorf("%w: %w", ErrRefused, err)
			}
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		var err error
		cs := tc.ConnectionState()
		if binding, err = cs.ExportKeyingMaterial(exporterLabel, nil, 32); err != nil {
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}
	if n.Secret != nil {
		var err error
		if server {
			err = n.Secret.serverHandshake(conn, binding)
		} else {
			err = n.Secret.clientHandshake(conn, binding)
		}
		if err != nil {
			return nil, err
		}
	}
	if !stop() {
		return nil, ctx.Err()
	}
	if err := raw.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	return conn, nil
}

// Listen implements transport.Network: the listener's Accept returns only
// connections whose peer passed the handshakes. Refusals are logged at WARN
// with the peer's address (at most a few lines a minute; the rest counted).
func (n *Internal) Listen(addr string) (net.Listener, error) {
	inner, err := transport.Or(n.Inner).Listen(addr)
	if err != nil {
		return nil, err
	}
	max := n.MaxHandshakes
	if max <= 0 {
		max = DefaultMaxHandshakes
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{
		Listener: inner,
		ctx:      ctx,
		cancel:   cancel,
		n:        n,
		ready:    make(chan net.Conn),
		closing:  make(chan struct{}),
		slots:    make(chan struct{}, max),
		perHost:  cmp.Or(n.MaxHandshakesPerHost, DefaultMaxHandshakesPerHost),
		hosts:    map[string]int{},
		refusals: newLimitedLog(n.log(), 10, time.Minute),
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// listener accepts on its inner listener and runs each handshake on a
// goroutine of its own; Accept returns the connections that passed.
type listener struct {
	net.Listener
	n        *Internal
	ctx      context.Context // cancelled by Close: ends the handshakes
	cancel   context.CancelFunc
	ready    chan net.Conn
	closing  chan struct{}
	slots    chan struct{} // one per handshake in progress
	perHost  int           // at most this many of them from one host
	refusals *limitedLog

	hostsMu sync.Mutex
	hosts   map[string]int // handshakes in progress per remote host

	closeOnce sync.Once
	closeErr  error
	// wg counts the accept loop and the handshakes; Close waits for them.
	wg sync.WaitGroup
}

// Accept implements net.Listener.
func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.closing:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener: it stops accepting, ends the handshakes in
// progress and waits for them.
func (l *listener) Close() error {
	l.closeOnce.Do(func() {
		close(l.closing)
		l.cancel()
		l.closeErr = l.Listener.Close()
		l.wg.Wait()
	})
	return l.closeErr
}

func (l *listener) acceptLoop() {
	defer l.wg.Done()
	for {
		raw, ok := transport.Accept(l.Listener, l.closing, l.n.log())
		if !ok {
			return
		}
		host := remoteHost(raw)
		if !l.takeHost(host) {
			l.refusals.warn("refused a connection", "peer", raw.RemoteAddr().String(),
				"why", fmt.Sprintf("%d handshakes from its host already in progress", l.perHost))
			raw.Close()
			continue
		}
		select {
		case l.slots <- struct{}{}:
		default:
			l.releaseHost(host)
			l.refusals.warn("refused a connection", "peer", raw.RemoteAddr().String(),
				"why", fmt.Sprintf("%d handshakes already in progress", cap(l.slots)))
			raw.Close()
			continue
		}
		l.wg.Add(1)
		go l.serve(raw, host)
	}
}

// serve runs one connection's handshake and hands it to Accept.
func (l *listener) serve(raw net.Conn, host string) {
	defer l.wg.Done()
	conn, err := l.n.handshake(l.ctx, raw, true)
	<-l.slots
	l.releaseHost(host)
	if err != nil {
		raw.Close()
		select {
		case <-l.closing:
		default:
			l.refusals.warn("refused a connection", "peer", raw.RemoteAddr().String(), "why", err.Error())
		}
		return
	}
	select {
	case l.ready <- conn:
	case <-l.closing:
		conn.Close()
	}
}

// remoteHost is the host part of c's peer address; "" for loopback, which
// the per-host bound leaves alone (a machine's own processes, many
// TaskManagers among them, all come from it).
func remoteHost(c net.Conn) string {
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		host = c.RemoteAddr().String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return ""
	}
	return host
}

// takeHost counts a handshake from host, unless it has perHost already.
func (l *listener) takeHost(host string) bool {
	if host == "" {
		return true
	}
	l.hostsMu.Lock()
	defer l.hostsMu.Unlock()
	if l.hosts[host] >= l.perHost {
		return false
	}
	l.hosts[host]++
	return true
}

func (l *listener) releaseHost(host string) {
	if host == "" {
		return
	}
	l.hostsMu.Lock()
	defer l.hostsMu.Unlock()
	if l.hosts[host]--; l.hosts[host] <= 0 {
		delete(l.hosts, host)
	}
}

// peeked is a connection whose first bytes were read already.
type peeked struct {
	net.Conn
	first []byte
}

func (p *peeked) Read(b []byte) (int, error) {
	if len(p.first) > 0 {
		n := copy(b, p.first)
		p.first = p.first[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// limitedLog logs at most burst lines per period and counts the rest,
// so that a flood of refused connections cannot flood the log.
type limitedLog struct {
	to     *slog.Logger
	burst  int
	period time.Duration

	mu         sync.Mutex
	start      time.Time
	n, dropped int
}

func newLimitedLog(log *slog.Logger, burst int, period time.Duration) *limitedLog {
	return &limitedLog{to: log, burst: burst, period: period}
}

func (l *limitedLog) warn(msg string, args ...any) {
	l.mu.Lock()
	now := time.Now()
	if now.Sub(l.start) >= l.period {
		if l.dropped > 0 {
			args = append(args, "not_logged_before", l.dropped)
		}
		l.start, l.n, l.dropped = now, 0, 0
	}
	l.n++
	if l.n > l.burst {
		l.dropped++
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	l.to.Warn(msg, args...)
}
