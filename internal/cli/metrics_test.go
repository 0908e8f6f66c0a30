//go:build unix

package cli

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/metrics"
	"github.com/tide-stream/tide/internal/security"
	"github.com/tide-stream/tide/internal/security/securitytest"
)

// TestServeMetricsSecured serves a registry with serveMetrics as the
// JobManager does, secured by the REST keys, and scrapes it: the token (or
// a client certificate) is demanded unless
// metrics.reporter.prom.allow-unauthenticated, which keeps HTTPS but asks
// the client for nothing.
func TestServeMetricsSecured(t *testing.T) {
	f := securitytest.REST(t, t.TempDir())
	tls := []string{"security.ssl.rest.enabled=true", "security.ssl.rest.cert-file=" + f.Cert,
		"security.ssl.rest.key-file=" + f.Key, "security.ssl.rest.ca-file=" + f.CA}
	token := "rest.auth.token-file=" + f.TokenFile
	clientAuth := []string{"security.ssl.rest.authentication-enabled=true",
		"security.ssl.rest.client-cert-file=" + f.ClientCert, "security.ssl.rest.client-key-file=" + f.ClientKey}
	open := "metrics.reporter.prom.allow-unauthenticated=true"
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		server  []string // the keys the server is started with
		client  []string // the keys of the scraper's ClientFromConfig
		want    int      // 0: refused in the handshake
		refused bool
	}{
		{"plain, no keys", nil, nil, 200, false},
		{"token over HTTPS, scraper with it", cat(tls, []string{token}), cat(tls, []string{token}), 200, false},
		{"token over HTTPS, scraper without", cat(tls, []string{token}), tls, 401, false},
		{"token, allow-unauthenticated, scraper without", cat(tls, []string{token, open}), tls, 200, false},
		{"client certificates, scraper with one", cat(tls, clientAuth), cat(tls, clientAuth), 200, false},
		{"client certificates, scraper without", cat(tls, clientAuth), tls, 0, true},
		{"client certificates, allow-unauthenticated, scraper without", cat(tls, clientAuth, []string{open}), tls, 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			conf, err := config.Load(config.LoadOptions{Home: t.TempDir(),
				Dynamic: append([]string{fmt.Sprintf("metrics.reporter.prom.port=%d", port)}, tc.server...)})
			if err != nil {
				t.Fatal(err)
			}
			sec, err := security.RESTFromConfig(conf, nil)
			if err != nil {
				t.Fatal(err)
			}
			reg := metrics.NewRegistry()
			reg.Collect(metrics.SlotsTotal, func(emit metrics.Emit) { emit(3) })
			stop := serveMetrics(conf, reg, "127.0.0.1", false, sec, slog.New(slog.DiscardHandler))
			defer stop()
			cconf, err := config.Load(config.LoadOptions{Home: t.TempDir(), Dynamic: tc.client})
			if err != nil {
				t.Fatal(err)
			}
			client, scheme, err := security.ClientFromConfig(cconf)
			if err != nil {
				t.Fatal(err)
			}
			client.Timeout = 10 * time.Second
			defer client.CloseIdleConnections() // before stop: a graceful close would wait for the scraper's connection
			resp, err := client.Get(fmt.Sprintf("%s://127.0.0.1:%d/metrics", scheme, port))
			if tc.refused {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("a scraper without a client certificate was answered %s", resp.Status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if got := strings.Contains(string(body), "tide_jobmanager_slots_total 3"); got != (tc.want == 200) {
				t.Errorf("metrics in the answer: %v, want %v:\n%.300s", got, tc.want == 200, body)
			}
		})
	}
}
