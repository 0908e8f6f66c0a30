package transport_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/net/nettest"

	"github.com/tide-stream/tide/internal/transport"
)

// pair dials a fresh listener of m from host "a" to host "b" and returns
// the two ends, closed at the end of the test.
func pair(t *testing.T, m *transport.Mem) (client, server net.Conn) {
	t.Helper()
	l, err := m.Host("b").Listen("b:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err = m.Host("a").Dial(context.Background(), l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return client, server
}

// TestMemConnConformance runs x/net's net.Conn conformance suite (basic IO,
// racy reads and writes, deadlines in the past, present and future,
// concurrent methods) on real time.
func TestMemConnConformance(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		m := transport.NewMem(transport.MemConfig{BufferSize: 4 << 10})
		l, err := m.Host("b").Listen(":0")
		if err != nil {
			return nil, nil, nil, err
		}
		defer l.Close()
		c1, err = m.Host("a").Dial(context.Background(), l.Addr().String())
		if err != nil {
			return nil, nil, nil, err
		}
		c2, err = l.Accept()
		if err != nil {
			return nil, nil, nil, err
		}
		return c1, c2, func() { c1.Close(); c2.Close() }, nil
	})
}

func TestMemListen(t *testing.T) {
	m := transport.NewMem(transport.MemConfig{})
	h := m.Host("tm-1")
	l1, err := h.Listen("tm-1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l1.Close()
	l2, err := h.Listen(":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if l1.Addr().String() == l2.Addr().String() {
		t.Fatalf("two listens on port 0 got the same address %s", l1.Addr())
	}
	if _, err := h.Listen(l1.Addr().String()); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("listen on a taken address: %v, want EADDRINUSE", err)
	}
	if _, err := h.Listen("tm-2:0"); err == nil {
		t.Errorf("listen on another host's address succeeded")
	}
	if _, err := h.Dial(context.Background(), "tm-1:999"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial where nothing listens: %v, want ECONNREFUSED", err)
	}
	addr := l2.Addr().String()
	l2.Close()
	if _, err := l2.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
	if _, err := h.Dial(context.Background(), addr); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial a closed listener: %v, want ECONNREFUSED", err)
	}
	// A listener closed while Accept waits wakes it.
	synctest.Test(t, func(t *testing.T) {
		m := transport.NewMem(transport.MemConfig{})
		l, err := m.Host("x").Listen(":0")
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() {
			_, err := l.Accept()
			errc <- err
		}()
		synctest.Wait()
		l.Close()
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept: %v, want net.ErrClosed", err)
		}
		if ls, cs := m.Open(); ls != 0 || cs != 0 {
			t.Errorf("%d listeners and %d conns open after Close", ls, cs)
		}
		// AwaitClosed waits for the last connection end to close.
		c, s := func() (net.Conn, net.Conn) {
			l, _ := m.Host("x").Listen(":0")
			defer l.Close()
			c, _ := m.Host("y").Dial(context.Background(), l.Addr().String())
			s, _ := l.Accept()
			return c, s
		}()
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := m.AwaitClosed(ctx); err == nil {
			t.Errorf("AwaitClosed returned with a connection end open")
		}
		go func() {
			time.Sleep(time.Second)
			s.Close()
		}()
		if err := m.AwaitClosed(context.Background()); err != nil {
			t.Error(err)
		}
	})
}

// TestMemBlocksDurably checks that every wait of the network is durable
// in a synctest bubble — a full buffer, an empty one, a deadline — and
// that deadlines expire on virtual time.
func TestMemBlocksDurably(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := transport.NewMem(transport.MemConfig{BufferSize: 8})
		c, s := pair(t, m)

		// A Write larger than the buffer blocks until the peer reads.
		wrote := make(chan error, 1)
		go func() {
			_, err := c.Write([]byte("0123456789abcdef"))
			wrote <- err
		}()
		synctest.Wait()
		select {
		case err := <-wrote:
			t.Fatalf("a 16-byte write into an 8-byte buffer returned at once: %v", err)
		default:
		}
		got := make([]byte, 16)
		if _, err := io.ReadFull(s, got); err != nil || string(got) != "0123456789abcdef" {
			t.Fatalf("read %q, %v", got, err)
		}
		if err := <-wrote; err != nil {
			t.Fatal(err)
		}

		// A Read on an empty buffer waits for its deadline, on virtual time.
		start := time.Now()
		s.SetReadDeadline(start.Add(time.Hour))
		if _, err := s.Read(got); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read past its deadline: %v", err)
		}
		if d := time.Since(start); d != time.Hour {
			t.Errorf("the deadline expired after %v, want 1h", d)
		}
		var ne net.Error
		s.SetReadDeadline(time.Now().Add(-time.Second))
		if _, err := s.Read(got); !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("read with a past deadline: %v, want a timeout", err)
		}
		s.SetReadDeadline(time.Time{})

		// Close: the peer reads the rest, then EOF; half-close keeps the
		// other direction open.
		c.Write([]byte("bye"))
		c.(interface{ CloseWrite() error }).CloseWrite()
		if b, err := io.ReadAll(s); err != nil || string(b) != "bye" {
			t.Errorf("after CloseWrite, read %q, %v; want \"bye\", nil", b, err)
		}
		s.Write([]byte("ok"))
		s.Close()
		if b, err := io.ReadAll(c); err != nil || string(b) != "ok" {
			t.Errorf("after the peer's Close, read %q, %v; want \"ok\", nil", b, err)
		}
		if _, err := c.Write([]byte("x")); err == nil {
			t.Errorf("write to a closed peer succeeded")
		}
	})
}

// TestMemCrash checks that Crash fails both ends of a host's connections
// at once, including a blocked Read, and leaves other hosts alone.
func TestMemCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := transport.NewMem(transport.MemConfig{})
		c, s := pair(t, m)
		other, _ := func() (net.Conn, net.Conn) {
			l, _ := m.Host("d").Listen(":0")
			defer l.Close()
			x, _ := m.Host("c").Dial(context.Background(), l.Addr().String())
			y, _ := l.Accept()
			t.Cleanup(func() { x.Close(); y.Close() })
			return x, y
		}()
		readErr := make(chan error, 1)
		go func() {
			_, err := s.Read(make([]byte, 1))
			readErr <- err
		}()
		synctest.Wait()
		m.Crash("a")
		if err := <-readErr; !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("blocked read on the crashed host's peer: %v, want ECONNRESET", err)
		}
		if _, err := c.Write([]byte("x")); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("write on the crashed host: %v, want ECONNRESET", err)
		}
		if _, err := other.Write([]byte("x")); err != nil {
			t.Errorf("a connection between other hosts broke: %v", err)
		}
	})
}

// TestMemPartition checks that a partitioned host's connections hold their
// bytes without failing, its dials are refused, and Heal delivers.
func TestMemPartition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := transport.NewMem(transport.MemConfig{})
		c, s := pair(t, m)
		l, err := m.Host("b").Listen(":0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		m.Partition("a")
		if _, err := m.Host("a").Dial(context.Background(), l.Addr().String()); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial from a partitioned host: %v, want ECONNREFUSED", err)
		}
		if _, err := c.Write([]byte("held")); err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 1)
		go func() {
			b := make([]byte, 4)
			n, _ := io.ReadFull(s, b)
			got <- string(b[:n])
		}()
		time.Sleep(time.Minute)
		synctest.Wait()
		select {
		case g := <-got:
			t.Fatalf("read %q across a partition", g)
		default:
		}
		m.Heal("a")
		if g := <-got; g != "held" {
			t.Errorf("after Heal, read %q, want \"held\"", g)
		}
		c2, err := m.Host("a").Dial(context.Background(), l.Addr().String())
		if err != nil {
			t.Fatalf("dial after Heal: %v", err)
		}
		c2.Close()
	})
}

// TestMemLatency checks that latency is drawn from the seed per connection
// and delays every byte by it, on virtual time.
func TestMemLatency(t *testing.T) {
	draw := func() []time.Duration {
		var ds []time.Duration
		synctest.Test(t, func(t *testing.T) {
			m := transport.NewMem(transport.MemConfig{MaxLatency: 100 * time.Millisecond, Seed: 7})
			for range 3 {
				c, s := pair(t, m)
				start := time.Now()
				c.Write([]byte("a"))
				if _, err := s.Read(make([]byte, 1)); err != nil {
					t.Fatal(err)
				}
				d := time.Since(start)
				if d > 100*time.Millisecond {
					t.Errorf("latency %v above MaxLatency", d)
				}
				ds = append(ds, d)
			}
		})
		return ds
	}
	a, b := draw(), draw()
	if len(a) != 3 || a[0] != b[0] || a[1] != b[1] || a[2] != b[2] {
		t.Errorf("latencies %v and %v from one seed differ", a, b)
	}
	if a[0] == a[1] && a[1] == a[2] {
		t.Errorf("every connection drew latency %v", a[0])
	}
}

func TestOrIsTCP(t *testing.T) {
	if _, ok := transport.Or(nil).(transport.TCP); !ok {
		t.Errorf("Or(nil) is %T, want TCP", transport.Or(nil))
	}
	m := transport.NewMem(transport.MemConfig{})
	if n := transport.Or(m.Host("a")); n == nil {
		t.Errorf("Or(mem host) is nil")
	}
}
