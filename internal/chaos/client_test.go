package chaos

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/security"
	"github.com/tide-stream/tide/internal/security/securitytest"
)

// TestClientSecured: the chaos run's REST client reads a JobManager whose
// REST API demands HTTPS, a client certificate and the bearer token, with
// the keys the run passes to its processes; without them it is refused.
func TestClientSecured(t *testing.T) {
	f := securitytest.REST(t, t.TempDir())
	load := func(dynamic ...string) *config.Config {
		conf, err := config.Load(config.LoadOptions{Home: t.TempDir(), Dynamic: dynamic})
		if err != nil {
			t.Fatal(err)
		}
		return conf
	}
	conf := load(f.Dynamic(true)...)
	sec, err := security.RESTFromConfig(conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jobs", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"jobs":[{"id":"0123456789abcdef0123456789abcdef","status":"RUNNING"}]}`))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(sec.Require(mux, nil))
	srv.Listener.Close()
	srv.Listener = ln
	srv.TLS = sec.ServerTLS()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	port := ln.Addr().(*net.TCPAddr).Port

	c, err := newClient(conf, port)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.base, "https://127.0.0.1:"+strconv.Itoa(port)) {
		t.Errorf("base %s, want https://127.0.0.1:%d", c.base, port)
	}
	id, err := c.jobID(context.Background())
	if err != nil || id != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("jobID = %q, %v", id, err)
	}
	// The CA and the certificate, but not the token: 401.
	noToken := load(append(f.Dynamic(false)[:4], "security.ssl.rest.authentication-enabled=true",
		"security.ssl.rest.client-cert-file="+f.ClientCert, "security.ssl.rest.client-key-file="+f.ClientKey)...)
	c2, err := newClient(noToken, port)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.jobID(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("without the token: %v, want a 401", err)
	}
	// No keys at all: plain HTTP to an HTTPS port.
	c3, err := newClient(load(), port)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c3.jobID(context.Background()); err == nil {
		t.Error("a plain client read the HTTPS port")
	}
}
