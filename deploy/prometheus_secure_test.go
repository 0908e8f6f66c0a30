package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/metrics"
	"github.com/tide-stream/tide/internal/pki"
	"github.com/tide-stream/tide/internal/security"
)

// TestPrometheusScrapesASecuredPort runs a real Prometheus with the
// JobManager's scrape config of prometheus-local-secure.yml (its scheme,
// tls_config and authorization as written; the target moved to a free
// port) against a Tide metrics port served over HTTPS behind the REST
// token: the target is up and its series arrive. A second job without the
// token sees the port refuse it.
func TestPrometheusScrapesASecuredPort(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("TIDE_REQUIRE_PROMETHEUS") != "" {
			t.Fatal("prometheus is required (Debian's prometheus package)")
		}
		t.Skip("no prometheus (Debian's prometheus package)")
	}
	dir := t.TempDir()
	// The files the example names, as `tide secrets create --dir secrets`
	// writes them: secrets/rest-ca.pem and secrets/rest.token.
	f, err := pki.Create(pki.Options{Dir: filepath.Join(dir, "secrets")})
	if err != nil {
		t.Fatal(err)
	}

	// The metrics port, as a secured JobManager serves it.
	conf, err := config.Load(config.LoadOptions{Home: t.TempDir(), Dynamic: f.Dynamic()})
	if err != nil {
		t.Fatal(err)
	}
	sec, err := security.RESTFromConfig(conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	reg.Collect(metrics.TaskManagers, func(emit metrics.Emit) { emit(2) })
	ln, err := metrics.Listen("127.0.0.1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := metrics.Serve(reg, ln, slog.New(slog.DiscardHandler), metrics.Options{TLS: sec.ServerTLS(), Auth: sec.Require})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	_, port, _ := net.SplitHostPort(srv.Addr())

	// The example's JobManager job, its target on that port.
	b, err := os.ReadFile("prometheus/prometheus-local-secure.yml")
	if err != nil {
		t.Fatal(err)
	}
	var example struct {
		ScrapeConfigs []map[string]any `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &example); err != nil {
		t.Fatal(err)
	}
	var job map[string]any
	for _, sc := range example.ScrapeConfigs {
		if sc["job_name"] == "tide-jobmanager" {
			job = sc
		}
	}
	if job == nil || job["scheme"] != "https" || job["authorization"] == nil || job["tls_config"] == nil {
		t.Fatalf("prometheus-local-secure.yml: no tide-jobmanager job with scheme https, tls_config and authorization: %v", job)
	}
	job["static_configs"] = []any{map[string]any{"targets": []string{"localhost:" + port}}}
	anon := map[string]any{"job_name": "no-token", "scheme": "https", "tls_config": job["tls_config"],
		"static_configs": []any{map[string]any{"targets": []string{"localhost:" + port}}}}
	rules, err := filepath.Abs("prometheus/flink-compat.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := yaml.Marshal(map[string]any{
		"global":         map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
		"rule_files":     []string{rules},
		"scrape_configs": []any{job, anon},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "prometheus.yml") // secrets/… resolve beside it, as beside the example
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		t.Fatal(err)
	}

	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	promAddr := pl.Addr().String()
	pl.Close()
	var logs strings.Builder
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // owner: this test, whose cleanup waits on exited
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	type target struct {
		Labels    map[string]string `json:"labels"`
		Health    string            `json:"health"`
		LastError string            `json:"lastError"`
	}
	targets := func() (map[string]target, error) {
		c := &http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get("http://" + promAddr + "/api/v1/targets")
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		var r struct {
			Data struct {
				ActiveTargets []target `json:"activeTargets"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, fmt.Errorf("%w: %s", err, body)
		}
		out := map[string]target{}
		for _, tg := range r.Data.ActiveTargets {
			out[tg.Labels["job"]] = tg
		}
		return out, nil
	}
	deadline := time.Now().Add(25 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("prometheus exited: %v\n%s", err, logs.String())
		default:
		}
		ts, err := targets()
		secured, refused := ts["tide-jobmanager"], ts["no-token"]
		if err == nil && secured.Health == "up" && refused.Health == "down" {
			if !strings.Contains(refused.LastError, "401") {
				t.Errorf("the scrape without the token failed with %q, want a 401", refused.LastError)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus did not see the secured target up and the other down: %+v (%v)\n%s", ts, err, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The series arrived.
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + promAddr + "/api/v1/query?query=" + "tide_jobmanager_taskmanagers")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `"tide-jobmanager"`) || !strings.Contains(string(body), `"2"]`) {
		t.Errorf("the scraped series is not in Prometheus: %s", body)
	}
}
