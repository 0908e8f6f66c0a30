package network

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// peerLost records OnPeerLost calls.
type peerLost struct {
	mu    sync.Mutex
	addrs []string
	ch    chan struct{}
}

func newPeerLost() *peerLost { return &peerLost{ch: make(chan struct{}, 10)} }

func (p *peerLost) hook(c *Config) {
	c.OnPeerLost = func(addr string, err error) {
		p.mu.Lock()
		p.addrs = append(p.addrs, addr)
		p.mu.Unlock()
		p.ch <- struct{}{}
	}
}

func (p *peerLost) wait(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	select {
	case <-p.ch:
	case <-ctx.Done():
		t.Fatal("OnPeerLost was not called")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.addrs) != 1 || p.addrs[0] != want {
		t.Fatalf("OnPeerLost calls = %q, want [%q]", p.addrs, want)
	}
}

func TestProducerManagerClosedMidStream(t *testing.T) {
	ctx := testCtx(t)
	lost := newPeerLost()
	cons := newManager(t, lost.hook)
	prod := newManager(t)
	ids := []ChannelID{chanID(1, 0), chanID(1, 1)}
	g, err := cons.OpenInput(ids)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	o, err := prod.OpenOutput(ctx, ids[0], cons.Addr())
	if err != nil {
		t.Fatal(err)
	}
	done, err := prod.OpenOutput(ctx, ids[1], cons.Addr())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := o.Send(ctx, 0, seqPayload(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := done.Close(); err != nil {
		t.Fatal(err)
	}
	prodAddr := prod.Addr()
	if err := prod.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.Send(ctx, 0, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Manager.Close = %v, want ErrClosed", err)
	}

	// Messages sent before the break arrive, then the channel's error; the
	// closed channel ended gracefully.
	var got int
	var chErr *ChannelError
	for {
		msg, err := g.Next(ctx)
		if err != nil {
			if !errors.As(err, &chErr) {
				t.Fatalf("Next = %v, want a *ChannelError", err)
			}
			break
		}
		got++
		g.Release(msg.Channel)
	}
	if got != 3 || chErr.ID != ids[0] || chErr.Remote != prodAddr {
		t.Fatalf("got %d messages then %+v; want 3 then channel %v from %s", got, chErr, ids[0], prodAddr)
	}
	if _, err := g.Next(ctx); !errors.As(err, &chErr) {
		t.Fatalf("Next after all channels ended = %v, want the channel error again", err)
	}
	lost.wait(t, ctx, prodAddr)
}

func TestConsumerManagerClosedMidStream(t *testing.T) {
	ctx := testCtx(t)
	lost := newPeerLost()
	prod := newManager(t, lost.hook)
	cons := newManager(t)
	id := chanID(1, 0)
	g, err := cons.OpenInput([]ChannelID{id})
	if err != nil {
		t.Fatal(err)
	}
	o, err := prod.OpenOutput(ctx, id, cons.Addr())
	if err != nil {
		t.Fatal(err)
	}
	// The consumer never releases: the producer ends up blocked in Send.
	sendErr := make(chan error, 1)
	go func() {
		for {
			if err := o.Send(ctx, 0, nil); err != nil {
				sendErr <- err
				return
			}
		}
	}()
	waitFor(t, "producer out of credits", func() bool { q, _ := g.Backlog(); return q == 4 })
	consAddr := cons.Addr()
	if err := cons.Close(); err != nil {
		t.Fatal(err)
	}
	var chErr *ChannelError
	if err := <-sendErr; !errors.As(err, &chErr) || chErr.ID != id || chErr.Remote != consAddr {
		t.Fatalf("Send = %v, want a *ChannelError for %v from %s", err, id, consAddr)
	}
	// The gate's own Manager closed: queued messages come first, then the
	// channel's error.
	for err = nil; err == nil; {
		_, err = g.Next(ctx)
	}
	if !errors.As(err, &chErr) || !errors.Is(err, ErrClosed) {
		t.Fatalf("gate Next after its Manager closed = %v, want a *ChannelError wrapping ErrClosed", err)
	}
	lost.wait(t, ctx, consAddr)
}

func TestRedialAfterBrokenConnection(t *testing.T) {
	ctx := testCtx(t)
	lost := newPeerLost()
	prod := newManager(t, lost.hook)
	cons := newManager(t)
	ids := []ChannelID{chanID(1, 0), chanID(1, 1)}
	g, err := cons.OpenInput(ids)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	o, err := prod.OpenOutput(ctx, ids[0], cons.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Send(ctx, 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Next(ctx); err != nil {
		t.Fatalf("Next = %v, want the message sent before the break", err)
	}
	prod.mu.Lock()
	c := prod.mu.dialed[cons.Addr()]
	prod.mu.Unlock()
	c.nc.Close() // break the connection under the Manager

	var chErr *ChannelError
	for err == nil {
		err = o.Send(ctx, 0, nil)
	}
	if !errors.As(err, &chErr) {
		t.Fatalf("Send on broken connection = %v, want a *ChannelError", err)
	}
	lost.wait(t, ctx, cons.Addr())
	if _, err := g.Next(ctx); !errors.As(err, &chErr) {
		t.Fatalf("Next = %v, want a *ChannelError", err)
	}

	o2, err := prod.OpenOutput(ctx, ids[1], cons.Addr())
	if err != nil {
		t.Fatalf("OpenOutput after break: %v", err)
	}
	if err := o2.Send(ctx, 5, []byte("again")); err != nil {
		t.Fatal(err)
	}
	if msg, err := g.Next(ctx); err != nil || string(msg.Payload) != "again" {
		t.Fatalf("Next on redialed connection = %+v, %v", msg, err)
	}
}

// TestBadPeer: garbage and credit violations close the connection without
// reporting a lost peer for a connection that never said HELLO.
func TestBadPeer(t *testing.T) {
	var lostCalls atomic.Int32
	cons := newManager(t, func(c *Config) {
		c.CreditsPerChannel = 1
		c.OnPeerLost = func(string, error) { lostCalls.Add(1) }
	})
	id := chanID(1, 0)
	g, err := cons.OpenInput([]ChannelID{id})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	dial := func() net.Conn {
		nc, err := net.Dial("tcp", cons.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		return nc
	}
	expectClosed := func(nc net.Conn) {
		t.Helper()
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 1024)
		for {
			if _, err := nc.Read(buf); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatal("manager kept a misbehaving connection open")
				}
				return
			}
		}
	}

	garbage := dial()
	garbage.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	expectClosed(garbage)
	if n := lostCalls.Load(); n != 0 {
		t.Fatalf("OnPeerLost called %d times for a connection without HELLO", n)
	}

	greedy := dial()
	var b []byte
	b = appendFrame(b, frame{typ: frameHello, payload: []byte("greedy:1")})
	b = appendFrame(b, frame{typ: frameOpen, id: id})
	for range 3 {
		b = appendFrame(b, frame{typ: frameData, id: id, payload: []byte("x")})
	}
	greedy.Write(b)
	expectClosed(greedy)
	ctx := testCtx(t)
	var chErr *ChannelError
	for err == nil {
		_, err = g.Next(ctx)
	}
	if !errors.As(err, &chErr) || chErr.Remote != "greedy:1" {
		t.Fatalf("Next = %v, want a *ChannelError from greedy:1", err)
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		ctx := testCtx(t)
		a, err := Listen(Config{ListenAddr: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Listen(Config{ListenAddr: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		// Channels a→b, b→a and a→a; b→a is left blocked in Send.
		gb, _ := b.OpenInput([]ChannelID{chanID(1, 0)})
		ga, _ := a.OpenInput([]ChannelID{chanID(1, 1), chanID(1, 2)})
		oab, err := a.OpenOutput(ctx, chanID(1, 0), b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		oba, err := b.OpenOutput(ctx, chanID(1, 1), a.Addr())
		if err != nil {
			t.Fatal(err)
		}
		oaa, err := a.OpenOutput(ctx, chanID(1, 2), a.Addr())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []*Output{oab, oaa} {
			if err := o.Send(ctx, 0, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := gb.Next(ctx); err != nil {
			t.Fatal(err)
		}
		blocked := make(chan error, 1)
		go func() {
			var err error
			for err == nil {
				err = oba.Send(ctx, 0, nil)
			}
			blocked <- err
		}()
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-blocked; err == nil {
			t.Fatal("blocked Send returned nil after Close")
		}
		for err = nil; err == nil; {
			_, err = ga.Next(ctx)
		}
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("gate Next after Close = %v, want ErrClosed", err)
		}
	}()
	waitFor(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
}

// TestGracefulShutdown: an Output closed right before its Manager still
// ends the channel gracefully, and an idle connection closing is not a lost
// peer.
func TestGracefulShutdown(t *testing.T) {
	ctx := testCtx(t)
	var lostCalls atomic.Int32
	cons := newManager(t, func(c *Config) { c.OnPeerLost = func(string, error) { lostCalls.Add(1) } })
	prod := newManager(t)
	id := chanID(1, 0)
	g, err := cons.OpenInput([]ChannelID{id})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	o, err := prod.OpenOutput(ctx, id, cons.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Send(ctx, 0, []byte("last")); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if err := prod.Close(); err != nil {
		t.Fatal(err)
	}
	if msg, err := g.Next(ctx); err != nil || string(msg.Payload) != "last" {
		t.Fatalf("Next = %+v, %v; want \"last\"", msg, err)
	}
	g.Release(0)
	if _, err := g.Next(ctx); err != io.EOF {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
	waitFor(t, "connection teardown", func() bool {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return len(cons.mu.conns) == 0
	})
	if n := lostCalls.Load(); n != 0 {
		t.Fatalf("OnPeerLost called %d times for a graceful shutdown", n)
	}
}

// TestCloseWithSilentPeer: Close does not wait forever for a peer that never
// closes its end.
func TestCloseWithSilentPeer(t *testing.T) {
	m, err := Listen(Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	m.cfg.testing.closeTimeout = 50 * time.Millisecond
	nc, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write(appendFrame(nil, frame{typ: frameHello, payload: []byte("silent:1")}))
	waitFor(t, "accepted connection", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		for c := range m.mu.conns {
			if c.remote() == "silent:1" {
				return true
			}
		}
		return false
	})
	start := time.Now()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v with a silent peer", d)
	}
}

// TestTooManyConnections: past the cap on accepted connections, one more is
// closed at once, and closing one makes room again.
func TestTooManyConnections(t *testing.T) {
	m := newManager(t, func(c *Config) { c.testing.maxAccepted = 2 })
	dial := func() net.Conn {
		nc, err := net.Dial("tcp", m.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		return nc
	}
	held := []net.Conn{dial(), dial()}
	waitFor(t, "two accepted connections", func() bool { return m.accepted() == 2 })
	extra := dial()
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := extra.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("a connection beyond the cap was kept: %v", err)
	}
	held[0].Close()
	waitFor(t, "the closed one to go", func() bool { return m.accepted() == 1 })
	again := dial()
	waitFor(t, "room for one more", func() bool { return m.accepted() == 2 })
	again.Close()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
