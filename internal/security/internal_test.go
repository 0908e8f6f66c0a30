package security

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/internal/security/securitytest"
	"github.com/tide-stream/tide/internal/transport"
)

// logBuffer is a concurrency-safe slog sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// server listens on loopback with n and returns the listener and a channel
// of the connections Accept returned, each echoing what it reads.
func server(t *testing.T, n transport.Network) (net.Listener, <-chan net.Conn) {
	t.Helper()
	ln, err := n.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-accepted:
				c.Close()
				continue
			default:
			}
			break
		}
		wg.Wait()
	})
	return ln, accepted
}

// echo checks that conn carries bytes both ways.
func echo(t *testing.T, conn net.Conn) {
	t.Helper()
	msg := []byte("hello, tide")
	if _, err := conn.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(conn, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo %q, want %q", got, msg)
	}
}

func dial(n transport.Network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return n.Dial(ctx, addr)
}

// noAccept checks that nothing was handed to the application.
func noAccept(t *testing.T, accepted <-chan net.Conn) {
	t.Helper()
	select {
	case <-accepted:
		t.Fatal("the listener handed an unauthenticated connection to the application")
	case <-time.After(100 * time.Millisecond):
	}
}

// waitLog waits until the log holds want.
func waitLog(t *testing.T, log *logBuffer, want string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(log.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never said %q:\n%s", want, log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return log.String()
}

const token = "0123456789abcdef0123456789abcdef"

func mustSecret(t testing.TB, tok []byte) *Secret {
	t.Helper()
	s, err := NewSecret(tok)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokenHandshake(t *testing.T) {
	var slog logBuffer
	srv := &Internal{Secret: mustSecret(t, []byte(token)), Logger: slog.logger()}
	ln, accepted := server(t, srv)
	addr := ln.Addr().String()

	t.Run("same secret", func(t *testing.T) {
		c, err := dial(&Internal{Secret: mustSecret(t, []byte(token))}, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		echo(t, c)
		<-accepted
	})
	t.Run("wrong secret", func(t *testing.T) {
		_, err := dial(&Internal{Secret: mustSecret(t, []byte(token+"x"))}, addr)
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "does not know the secret") {
			t.Fatalf("err = %v, want a refusal saying the peer does not know the secret", err)
		}
	})
	t.Run("no secret", func(t *testing.T) {
		c, err := dial(transport.TCP{}, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// What a TaskManager without the secret sends first: gRPC's preface.
		if _, err := c.Write([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := c.Read(make([]byte, 64)); err == nil {
			t.Fatalf("the server answered %d bytes to a client that sent no proof", n)
		}
		out := waitLog(t, &slog, "spoke another protocol")
		if !strings.Contains(out, "peer="+c.LocalAddr().String()) {
			t.Errorf("the refusal does not name the peer %s:\n%s", c.LocalAddr(), out)
		}
	})
	t.Run("server without a secret", func(t *testing.T) {
		plain, _ := server(t, transport.TCP{})
		_, err := dial(&Internal{Secret: mustSecret(t, []byte(token)), HandshakeTimeout: time.Second}, plain.Addr().String())
		if err == nil {
			t.Fatal("a client with a secret trusted a server without one")
		}
	})
	noAccept(t, accepted)
	if out := slog.String(); strings.Contains(out, token) || strings.Contains(out, token[:16]) {
		t.Errorf("the log holds the secret:\n%s", out)
	}
}

func TestMutualTLS(t *testing.T) {
	ca, other := securitytest.NewCA(t), securitytest.NewCA(t)
	var slog logBuffer
	srv := &Internal{Certs: loadTestCerts(t, ca, 1), Logger: slog.logger()}
	ln, accepted := server(t, srv)
	addr := ln.Addr().String()

	t.Run("member", func(t *testing.T) {
		c, err := dial(&Internal{Certs: loadTestCerts(t, ca, 2)}, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		echo(t, c)
		<-accepted
		cs := c.(*tls.Conn).ConnectionState()
		if cs.Version != tls.VersionTLS13 || cs.NegotiatedProtocol != internalProto {
			t.Errorf("version %x protocol %q, want TLS 1.3 and %q", cs.Version, cs.NegotiatedProtocol, internalProto)
		}
	})
	t.Run("certificate of another CA", func(t *testing.T) {
		// Trusts the cluster's CA, but presents a certificate of another.
		c := loadTestCerts(t, other, 3)
		c.mu.pool = srv.Certs.Pool()
		c.caFile = ""
		conn, err := dial(&Internal{Certs: c}, addr)
		if err == nil {
			// TLS 1.3: the client finishes before the server checks its
			// certificate; the refusal comes on the first read.
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = conn.Read(make([]byte, 1))
			conn.Close()
		}
		if err == nil || isTimeout(err) {
			t.Fatalf("a certificate of another CA was accepted: %v", err)
		}
		waitLog(t, &slog, "TLS handshake")
	})
	t.Run("server of another CA", func(t *testing.T) {
		rogue, _ := server(t, &Internal{Certs: loadTestCerts(t, other, 4)})
		_, err := dial(&Internal{Certs: loadTestCerts(t, ca, 5)}, rogue.Addr().String())
		if err == nil || !strings.Contains(err.Error(), "not one of this cluster's") {
			t.Fatalf("err = %v, want the server's certificate refused", err)
		}
	})
	t.Run("plain TCP", func(t *testing.T) {
		c, err := dial(transport.TCP{}, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.ReadAll(c) // the server's TLS alert, then EOF
	})
	t.Run("TLS without a client certificate", func(t *testing.T) {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{internalProto}})
		if err == nil {
			// TLS 1.3 reports the refusal on the first read.
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = c.Read(make([]byte, 1))
			c.Close()
		}
		if err == nil {
			t.Fatal("a client without a certificate got a byte")
		}
	})
	noAccept(t, accepted)
}

func TestTLSAndToken(t *testing.T) {
	ca := securitytest.NewCA(t)
	var slog logBuffer
	ln, accepted := server(t, &Internal{Certs: loadTestCerts(t, ca, 1), Secret: mustSecret(t, []byte(token)), Logger: slog.logger()})
	c, err := dial(&Internal{Certs: loadTestCerts(t, ca, 2), Secret: mustSecret(t, []byte(token))}, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	echo(t, c)
	c.Close()
	<-accepted
	// A member's certificate is not enough without the secret.
	_, err = dial(&Internal{Certs: loadTestCerts(t, ca, 3), Secret: mustSecret(t, []byte(token+"!"))}, ln.Addr().String())
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("err = %v, want ErrRefused", err)
	}
	noAccept(t, accepted)
}

func TestProofIsBoundToTheSession(t *testing.T) {
	s := mustSecret(t, []byte(token))
	nc, ns := bytes.Repeat([]byte{1}, nonceLen), bytes.Repeat([]byte{2}, nonceLen)
	a, b := s.proof("client", []byte("session a"), nc, ns), s.proof("client", []byte("session b"), nc, ns)
	if bytes.Equal(a, b) {
		t.Error("a proof does not depend on the TLS session")
	}
	if bytes.Equal(s.proof("client", nil, nc, ns), s.proof("server", nil, nc, ns)) {
		t.Error("the client's proof equals the server's: a server could reflect it")
	}
	if bytes.Equal(a, mustSecret(t, []byte(token+"x")).proof("client", []byte("session a"), nc, ns)) {
		t.Error("a proof does not depend on the secret")
	}
}

func TestSilentClientsAreDropped(t *testing.T) {
	var slog logBuffer
	ln, accepted := server(t, &Internal{Secret: mustSecret(t, []byte(token)), Logger: slog.logger(),
		HandshakeTimeout: 200 * time.Millisecond, MaxHandshakes: 1})
	silent, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// The only handshake slot is taken: the next connection is closed at once.
	waitFor := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(make([]byte, 1))
		c.Close()
		if strings.Contains(slog.String(), "handshakes already in progress") {
			break
		}
		if time.Now().After(waitFor) {
			t.Fatalf("a connection beyond MaxHandshakes was not refused:\n%s", slog.String())
		}
		_ = err
	}
	// The silent client is dropped after the handshake timeout.
	silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		t.Fatalf("a silent client was kept past the handshake timeout: %v", err)
	}
	noAccept(t, accepted)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestCloseEndsHandshakesInProgress(t *testing.T) {
	n := &Internal{Secret: mustSecret(t, []byte(token))}
	ln, err := n.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("TIDE")) // half a magic: the handshake waits for more
	time.Sleep(50 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- ln.Close() }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close waited for a handshake in progress")
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

func TestOverTheSimulatedNetwork(t *testing.T) {
	mem := transport.NewMem(transport.MemConfig{})
	ca := securitytest.NewCA(t)
	a := &Internal{Inner: mem.Host("a"), Certs: loadTestCerts(t, ca, 1), Secret: mustSecret(t, []byte(token))}
	b := &Internal{Inner: mem.Host("b"), Certs: loadTestCerts(t, ca, 2), Secret: mustSecret(t, []byte(token))}
	ln, err := a.Listen("a:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = io.Copy(c, c)
			c.Close()
		}
	}()
	c, err := dial(b, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echo(t, c)
}

// TestOneHostCannotTakeEverySlot: on the simulated network, on virtual
// time, a host holding silent connections gets MaxHandshakesPerHost of
// them, no more, and they are dropped after the first-bytes timeout; a
// member on another host connects meanwhile.
func TestOneHostCannotTakeEverySlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := transport.NewMem(transport.MemConfig{})
		var slog logBuffer
		srv := &Internal{Inner: mem.Host("jm"), Secret: mustSecret(t, []byte(token)), Logger: slog.logger(), MaxHandshakesPerHost: 2}
		ln, err := srv.Listen("jm:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			if c, err := ln.Accept(); err == nil {
				accepted <- c
			}
		}()
		var silent []net.Conn
		for range 3 {
			c, err := mem.Host("attacker").Dial(context.Background(), ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			silent = append(silent, c)
		}
		synctest.Wait()
		if !strings.Contains(slog.String(), "2 handshakes from its host already in progress") {
			t.Fatalf("the third silent connection from one host was not refused:\n%s", slog.String())
		}
		// A member on another host gets through while the attacker's two wait.
		c, err := (&Internal{Inner: mem.Host("tm"), Secret: mustSecret(t, []byte(token))}).Dial(context.Background(), ln.Addr().String())
		if err != nil {
			t.Fatalf("a member was kept out: %v", err)
		}
		defer c.Close()
		(<-accepted).Close()
		// The silent ones are dropped after the first-bytes timeout, well
		// before the handshake timeout.
		start := time.Now()
		for _, s := range silent[:2] {
			if _, err := s.Read(make([]byte, 1)); err == nil {
				t.Fatal("a silent connection got a byte")
			}
		}
		if d := time.Since(start); d > firstBytesTimeout+time.Second {
			t.Errorf("silent connections were held %v, want about %v", d, firstBytesTimeout)
		}
	})
}

// TestDialRetriesAFullListener: a listener whose only handshake slot a
// silent client holds closes a member's connection at once; the member's
// Dial tries again and gets in once the silent one is dropped.
func TestDialRetriesAFullListener(t *testing.T) {
	ln, accepted := server(t, &Internal{Secret: mustSecret(t, []byte(token)), MaxHandshakes: 1, HandshakeTimeout: 300 * time.Millisecond})
	silent, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	for deadline := time.Now().Add(5 * time.Second); len(ln.(*listener).slots) == 0; { // the silent one takes the slot first
		if time.Now().After(deadline) {
			t.Fatal("the silent connection never took the handshake slot")
		}
		time.Sleep(time.Millisecond)
	}
	c, err := dial(&Internal{Secret: mustSecret(t, []byte(token))}, ln.Addr().String())
	if err != nil {
		t.Fatalf("a member did not get in after the slot freed: %v", err)
	}
	defer c.Close()
	echo(t, c)
	<-accepted
}
