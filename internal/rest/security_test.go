package rest_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/security"
	"github.com/tide-stream/tide/internal/security/securitytest"
)

// loadConf loads a configuration with the -D values dynamic.
func loadConf(t *testing.T, dynamic ...string) *config.Config {
	t.Helper()
	conf, err := config.Load(config.LoadOptions{Home: t.TempDir(), Dynamic: dynamic})
	if err != nil {
		t.Fatal(err)
	}
	return conf
}

// startSecured starts a REST server on loopback secured as conf says, with
// the fake backend; edit, if set, changes its Config first.
func startSecured(t *testing.T, conf *config.Config, log *slog.Logger, edit func(*rest.Config)) *rest.Server {
	t.Helper()
	sec, err := security.RESTFromConfig(conf, log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.Config{Addr: "127.0.0.1:0", Logger: log, TLS: sec.ServerTLS(), Auth: sec}
	if edit != nil {
		edit(&cfg)
	}
	s := rest.NewServer(cfg, rest.PopulatedBackend())
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// reply is a response, read whole.
type reply struct {
	status int
	header http.Header
	body   string
	tls    *tls.ConnectionState
}

// call sends method url with body (may be empty) and, when token is not
// empty, the Authorization header.
func call(t *testing.T, c *http.Client, method, url, token, body string) (reply, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b), tls: resp.TLS}, nil
}

// mustCall is call that fails the test on a transport error.
func mustCall(t *testing.T, c *http.Client, method, url, token, body string) reply {
	t.Helper()
	r, err := call(t, c, method, url, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

// wantJSONError checks a JSON error answer: status and a message with want.
func wantJSONError(t *testing.T, what string, r reply, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
		return
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want JSON", what, ct)
	}
	var e struct {
		Errors []string `json:"errors"`
	}
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || len(e.Errors) != 1 || !strings.Contains(e.Errors[0], want) {
		t.Errorf("%s: body %s, want {\"errors\":[\"…%s…\"]} (%v)", what, r.body, want, err)
	}
}

// TestBearerToken: with rest.auth.token-file, an API call without the
// token, or with another one, is a 401 with a JSON error and a Bearer
// challenge; with the token it is answered. The web UI's static files load
// without it (the page asks for the token); its API calls do not.
func TestBearerToken(t *testing.T) {
	f := securitytest.REST(t, t.TempDir())
	s := startSecured(t, loadConf(t, "rest.auth.token-file="+f.TokenFile), nil, nil)
	if s.Scheme() != "http" {
		t.Fatalf("Scheme() = %s without TLS", s.Scheme())
	}
	base := "http://" + s.Addr()
	c := &http.Client{Timeout: 10 * time.Second}
	savepoint := "/jobs/" + rest.JobA + "/savepoints"
	for _, tc := range []struct{ name, method, path, token string }{
		{"no token", "GET", "/overview", ""},
		{"wrong token", "GET", "/overview", "not-" + f.Token},
		{"the token as a prefix", "GET", "/overview", f.Token + "x"},
		{"a command without token", "POST", savepoint, ""},
		{"cancel without token", "PATCH", "/jobs/" + rest.JobA + "?mode=cancel", ""},
		{"an unknown path without token", "GET", "/no/such/path", ""},
		{"an unknown UI method without token", "POST", "/", ""},
	} {
		r := mustCall(t, c, tc.method, base+tc.path, tc.token, "")
		wantJSONError(t, tc.name, r, http.StatusUnauthorized, "Authorization: Bearer")
		if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q, want a Bearer challenge", tc.name, got)
		}
	}
	// Another scheme is no bearer token, even with the right value.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/overview", nil)
	req.SetBasicAuth("tide", f.Token)
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("Basic auth with the token: %v, %v; want 401", resp, err)
	} else {
		resp.Body.Close()
	}

	// Headers over 64 KiB: 431, before any authentication.
	req, _ = http.NewRequestWithContext(t.Context(), "GET", base+"/overview", nil)
	req.Header.Set("Authorization", "Bearer "+f.Token)
	req.Header.Set("X-Big", strings.Repeat("y", 80<<10))
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("80 KiB of headers: %v, %v; want 431", resp, err)
	} else {
		resp.Body.Close()
	}

	r := mustCall(t, c, "GET", base+"/overview", f.Token, "")
	if r.status != http.StatusOK || !strings.Contains(r.body, `"taskmanagers":2`) {
		t.Errorf("GET /overview with the token: %d %s", r.status, r.body)
	}
	if r := mustCall(t, c, "POST", base+savepoint, f.Token, `{"target-directory":"file:///tmp/sp"}`); r.status != http.StatusAccepted {
		t.Errorf("POST savepoints with the token: %d %s", r.status, r.body)
	}
	wantJSONError(t, "an unknown path with the token", mustCall(t, c, "GET", base+"/no/such/path", f.Token, ""), http.StatusNotFound, "not found")
	// A path that only looks like the UI's gives no data: it leads to the
	// API's check, or to no file.
	for _, p := range []string{"/ui/../overview", "/ui/%2e%2e/overview", "//overview"} {
		r := mustCall(t, c, "GET", base+p, "", "")
		if r.status == http.StatusOK || strings.Contains(r.body, "taskmanagers") {
			t.Errorf("GET %s without token: %d %s, want a refusal", p, r.status, r.body)
		}
	}
	for _, p := range []string{"/", "/ui/app.js", "/ui/app.css", "/ui/vendor/uPlot.iife.min.js"} {
		if r := mustCall(t, c, "GET", base+p, "", ""); r.status != http.StatusOK {
			t.Errorf("GET %s without token: %d, want 200 (a static file of the UI)", p, r.status)
		}
	}
}

// TestHTTPS: with security.ssl.rest.enabled the server speaks only TLS,
// with the configured certificate; security.ClientFromConfig trusts the CA
// and sends the token; a client that does not trust the CA is refused in
// the handshake. Bodies over MaxBodyBytes are 413 with a JSON error.
func TestHTTPS(t *testing.T) {
	f := securitytest.REST(t, t.TempDir())
	conf := loadConf(t, f.Dynamic(false)...)
	s := startSecured(t, conf, nil, nil)
	if s.Scheme() != "https" {
		t.Fatalf("Scheme() = %s with TLS", s.Scheme())
	}
	client, scheme, err := security.ClientFromConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	if scheme != "https" {
		t.Fatalf("ClientFromConfig's scheme %s, want https", scheme)
	}
	client.Timeout = 10 * time.Second
	_, port, _ := net.SplitHostPort(s.Addr())
	for _, host := range []string{"127.0.0.1", "localhost"} {
		url := scheme + "://" + net.JoinHostPort(host, port)
		r := mustCall(t, client, "GET", url+"/overview", "", "")
		if r.status != http.StatusOK || !strings.Contains(r.body, `"taskmanagers":2`) {
			t.Errorf("GET %s/overview through ClientFromConfig: %d %s", url, r.status, r.body)
		}
		if r.tls == nil || r.tls.PeerCertificates[0].SerialNumber.Int64() != 2 {
			t.Errorf("GET %s/overview: not over TLS with the server's certificate (serial 2): %+v", url, r.tls)
		}
	}
	base := "https://" + s.Addr()

	// Without the token (a client that trusts the CA but sends none): 401.
	plain, _, err := security.ClientFromConfig(loadConf(t, "security.ssl.rest.enabled=true",
		"security.ssl.rest.cert-file="+f.Cert, "security.ssl.rest.key-file="+f.Key, "security.ssl.rest.ca-file="+f.CA))
	if err != nil {
		t.Fatal(err)
	}
	wantJSONError(t, "HTTPS without token", mustCall(t, plain, "GET", base+"/jobs", "", ""), http.StatusUnauthorized, "Bearer")

	// A client that does not trust the CA.
	if _, err := call(t, &http.Client{Timeout: 10 * time.Second}, "GET", base+"/overview", f.Token, ""); err == nil ||
		!strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client without the CA: %v, want a certificate error", err)
	}
	// Plain HTTP to the HTTPS port gets no API answer.
	if r, err := call(t, &http.Client{Timeout: 10 * time.Second}, "GET", "http://"+s.Addr()+"/overview", f.Token, ""); err == nil &&
		r.status == http.StatusOK {
		t.Errorf("plain HTTP to the HTTPS port answered 200: %s", r.body)
	}

	// A body larger than MaxBodyBytes: 413 with a JSON error.
	big := `{"target-directory":"` + strings.Repeat("x", rest.MaxBodyBytes) + `"}`
	wantJSONError(t, "an oversized body", mustCall(t, client, "POST", base+"/jobs/"+rest.JobA+"/savepoints", "", big),
		http.StatusRequestEntityTooLarge, "larger than 1048576 bytes")
	wantJSONError(t, "an oversized stop body", mustCall(t, client, "POST", base+"/jobs/"+rest.JobA+"/stop", "", big),
		http.StatusRequestEntityTooLarge, "larger than 1048576 bytes")
}

// TestClientCertificate: with security.ssl.rest.authentication-enabled a
// client without a certificate the CA signed is refused in the handshake;
// ClientFromConfig presents security.ssl.rest.client-cert-file.
func TestClientCertificate(t *testing.T) {
	f := securitytest.REST(t, t.TempDir())
	conf := loadConf(t, f.Dynamic(true)...)
	s := startSecured(t, conf, nil, nil)
	base := "https://" + s.Addr()
	client, _, err := security.ClientFromConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	if r := mustCall(t, client, "GET", base+"/overview", "", ""); r.status != http.StatusOK {
		t.Errorf("with the client certificate and the token: %d %s", r.status, r.body)
	}
	// The CA trusted and the token sent, but no client certificate.
	noCert, _, err := security.ClientFromConfig(loadConf(t, append(f.Dynamic(false), "security.ssl.rest.authentication-enabled=true")...))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := call(t, noCert, "GET", base+"/overview", "", ""); err == nil {
		t.Errorf("a client without a certificate was answered %d %s", r.status, r.body)
	}
	// A certificate of another CA.
	other := securitytest.REST(t, t.TempDir())
	foreign, _, err := security.ClientFromConfig(loadConf(t, append(f.Dynamic(false), "security.ssl.rest.authentication-enabled=true",
		"security.ssl.rest.client-cert-file="+other.ClientCert, "security.ssl.rest.client-key-file="+other.ClientKey)...))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := call(t, foreign, "GET", base+"/overview", "", ""); err == nil {
		t.Errorf("a client certificate of another CA was answered %d %s", r.status, r.body)
	}
}

// TestCertificateReloaded: the server reads its certificate again when the
// files change; a new connection gets the new one, without a restart.
func TestCertificateReloaded(t *testing.T) {
	f := securitytest.REST(t, t.TempDir())
	conf := loadConf(t, f.Dynamic(false)...)
	s := startSecured(t, conf, nil, nil)
	serial := func() int64 {
		t.Helper()
		client, _, err := security.ClientFromConfig(conf) // a new client: a new connection
		if err != nil {
			t.Fatal(err)
		}
		defer client.CloseIdleConnections()
		r := mustCall(t, client, "GET", "https://"+s.Addr()+"/overview", "", "")
		if r.status != http.StatusOK || r.tls == nil {
			t.Fatalf("GET /overview: %d %s", r.status, r.body)
		}
		return r.tls.PeerCertificates[0].SerialNumber.Int64()
	}
	if got := serial(); got != 2 {
		t.Fatalf("serial %d, want 2", got)
	}
	f.Issuer().WriteLeaf(t, f.Cert, f.Key, 77, securitytest.Loopback...)
	time.Sleep(1100 * time.Millisecond) // the files are checked at most once a second
	if got := serial(); got != 77 {
		t.Fatalf("after the rotation, serial %d, want 77", got)
	}
}

// TestSlowHeaderClosed: a client that sends half a request header and
// stalls is disconnected after Config.ReadHeaderTimeout; one that sends it
// all in time is answered.
func TestSlowHeaderClosed(t *testing.T) {
	const timeout = 400 * time.Millisecond
	s := startSecured(t, loadConf(t), nil, func(c *rest.Config) { c.ReadHeaderTimeout = timeout })
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "GET /overview HTTP/1.1\r\nHost: tide\r\nX-Half: "); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := conn.Read(make([]byte, 1024))
	took := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection with half a header was still open after %v", took)
	}
	if n != 0 || took < timeout*3/4 || took > timeout+3*time.Second {
		t.Errorf("the connection ended after %v with %d bytes (%v); want its end after about %v", took, n, err, timeout)
	}

	// In time: answered.
	conn2, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	if _, err := io.WriteString(conn2, "GET /overview HTTP/1.1\r\nHost: tide\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn2), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("a whole header: %v, %v", resp, err)
	}
	resp.Body.Close()
}

// TestConnectionLimit: beyond Config.MaxConnections a connection waits
// until another closes.
func TestConnectionLimit(t *testing.T) {
	s := startSecured(t, loadConf(t), nil, func(c *rest.Config) { c.MaxConnections = 2 })
	var held []net.Conn
	for range 2 {
		conn, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// A whole request, answered: the server has accepted the connection,
		// which stays open (keep-alive).
		if _, err := io.WriteString(conn, "GET /overview HTTP/1.1\r\nHost: tide\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		held = append(held, conn)
	}
	c := &http.Client{Timeout: 500 * time.Millisecond}
	if r, err := call(t, c, "GET", "http://"+s.Addr()+"/overview", "", ""); err == nil {
		t.Fatalf("a third connection was served (%d) while two were open", r.status)
	}
	held[0].Close()
	c.Timeout = 10 * time.Second
	if r := mustCall(t, c, "GET", "http://"+s.Addr()+"/overview", "", ""); r.status != http.StatusOK {
		t.Fatalf("after one closed: %d", r.status)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTokenNotLogged: the server logs, at DEBUG, requests it refused and
// commands it accepted, but never the token, right or wrong.
func TestTokenNotLogged(t *testing.T) {
	f := securitytest.REST(t, t.TempDir())
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	conf := loadConf(t, f.Dynamic(false)...)
	s := startSecured(t, conf, log, nil)
	client, _, err := security.ClientFromConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	noToken, _, err := security.ClientFromConfig(loadConf(t, "security.ssl.rest.enabled=true",
		"security.ssl.rest.cert-file="+f.Cert, "security.ssl.rest.key-file="+f.Key, "security.ssl.rest.ca-file="+f.CA))
	if err != nil {
		t.Fatal(err)
	}
	base := "https://" + s.Addr()
	wrong := "wrong-token-" + strings.Repeat("w", 20)
	mustCall(t, noToken, "GET", base+"/overview", wrong, "")
	mustCall(t, noToken, "GET", base+"/overview", "", "")
	mustCall(t, noToken, "POST", base+"/jobs/"+rest.JobA+"/savepoints", wrong, "{}")
	mustCall(t, client, "GET", base+"/overview", "", "")
	mustCall(t, client, "POST", base+"/jobs/"+rest.JobA+"/savepoints", "", "{}")
	mustCall(t, client, "POST", base+"/jobs/"+rest.JobA+"/stop", "", strings.Repeat(" ", rest.MaxBodyBytes+1))
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "refused an unauthenticated request") || !strings.Contains(out, "savepoint triggered") {
		t.Fatalf("the log lacks the refusals or the savepoint; the test sees nothing:\n%s", out)
	}
	for _, secret := range []string{f.Token, wrong} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds a token:\n%s", out)
		}
	}
}
