package metrics

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/security"
	"github.com/tide-stream/tide/internal/security/securitytest"
)

// TestServeHTTPSWithToken: a Server with the REST port's TLS and token
// answers /metrics over HTTPS to a client with the token only: without it
// (or with another) a 401, and plain HTTP gets no metrics. Every route is
// guarded, not only /metrics.
func TestServeHTTPSWithToken(t *testing.T) {
	f := securitytest.REST(t, t.TempDir())
	conf, err := config.Load(config.LoadOptions{Home: t.TempDir(), Dynamic: f.Dynamic(false)})
	if err != nil {
		t.Fatal(err)
	}
	sec, err := security.RESTFromConfig(conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRegistry()
	r.Collect(SlotsTotal, func(emit Emit) { emit(4) })
	ln, err := Listen("127.0.0.1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	extra := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "decisions") })
	srv := Serve(r, ln, slog.New(slog.DiscardHandler), Options{TLS: sec.ServerTLS(), Auth: sec.Require,
		Routes: []Route{{Pattern: "GET /decisions", Handler: extra}}})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	client, scheme, err := security.ClientFromConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	client.Timeout = 10 * time.Second
	base := scheme + "://" + srv.Addr()
	get := func(c *http.Client, path, token string) (int, string, error) {
		req, err := http.NewRequestWithContext(t.Context(), "GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}

	status, body, err := get(client, "/metrics", "")
	if err != nil || status != http.StatusOK || !strings.Contains(body, "tide_jobmanager_slots_total 4\n") {
		t.Fatalf("scrape with the token over HTTPS: %d %v\n%s", status, err, body)
	}
	if status, body, err := get(client, "/decisions", ""); err != nil || status != http.StatusOK || body != "decisions" {
		t.Errorf("another route with the token: %d %v %s", status, err, body)
	}

	// A client that trusts the CA, without the token or with another.
	caOnly, _, err := security.ClientFromConfig(&config.Config{RESTTLS: conf.RESTTLS})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, token string }{{"/metrics", ""}, {"/metrics", "wrong-" + f.Token}, {"/decisions", ""}} {
		status, body, err := get(caOnly, tc.path, tc.token)
		if err != nil || status != http.StatusUnauthorized || !strings.Contains(body, `"errors"`) {
			t.Errorf("GET %s with token %q: %d %v %s; want 401 with a JSON error", tc.path, tc.token, status, err, body)
		}
		if strings.Contains(body, "tide_") {
			t.Errorf("GET %s with token %q leaked metrics", tc.path, tc.token)
		}
	}
	// Plain HTTP.
	plain := &http.Client{Timeout: 10 * time.Second}
	if resp, err := plain.Get("http://" + srv.Addr() + "/metrics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), "tide_") {
			t.Errorf("plain HTTP got metrics: %s", b)
		}
	}
}
