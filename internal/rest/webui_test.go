package rest

import (
	"net/http"
	"strings"
	"testing"
)

// TestWebUI: GET / is the page, its script, style sheet and the vendored
// uPlot are same-origin files under /ui/, every one with the strict
// Content-Security-Policy, and nothing else is served as a file.
func TestWebUI(t *testing.T) {
	ts := newTestServer(t, populatedBackend(), Config{})
	r := do(t, http.MethodGet, ts.URL+"/", "")
	if r.status != http.StatusOK {
		t.Fatalf("GET /: status %d", r.status)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	page := string(r.body)
	for _, want := range []string{`src="/ui/vendor/uPlot.iife.min.js"`, `src="/ui/app.js"`, `href="/ui/vendor/uPlot.min.css"`, `href="/ui/app.css"`,
		`id="chart-lag"`, `id="chart-tput"`, `id="chart-cpu"`, `id="chart-tms"`, `id="graph"`, `id="taskmanagers"`, `id="checkpoints"`, `id="exceptions"`, `id="rescales"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "<style") || strings.Contains(page, "style=") {
		t.Error("page has inline script or style, which the Content-Security-Policy refuses")
	}

	files := map[string]string{
		"/":                            "text/html; charset=utf-8",
		"/ui/app.js":                   "text/javascript; charset=utf-8",
		"/ui/app.css":                  "text/css; charset=utf-8",
		"/ui/vendor/uPlot.iife.min.js": "text/javascript; charset=utf-8",
		"/ui/vendor/uPlot.min.css":     "text/css; charset=utf-8",
		"/ui/vendor/uPlot.LICENSE":     "text/plain; charset=utf-8",
	}
	for path, ct := range files {
		r := do(t, http.MethodGet, ts.URL+path, "")
		if r.status != http.StatusOK || len(r.body) == 0 {
			t.Errorf("GET %s: status %d, %d bytes", path, r.status, len(r.body))
			continue
		}
		if got := r.header.Get("Content-Type"); got != ct {
			t.Errorf("GET %s: Content-Type %q, want %q", path, got, ct)
		}
		csp := r.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: Content-Security-Policy %q allows unsafe sources", path, csp)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", path)
		}
	}

	app := string(do(t, http.MethodGet, ts.URL+"/ui/app.js", "").body)
	for _, want := range []string{`"/overview"`, `"/jobs/overview"`, `"/jobs/" + selected`, `"/rescales"`, `"/checkpoints"`, `"/exceptions"`,
		`"/taskmanagers"`, `"/metrics"`, "pendingRecords", "numRecordsOutPerSecond", "numRecordsInPerSecond", "Status.JVM.CPU.Load",
		"heartbeatAge", "pause_ms", "reprocessed_records", "busyTimeMsPerSecond", "backPressuredTimeMsPerSecond", "new uPlot("} {
		if !strings.Contains(app, want) {
			t.Errorf("app.js lacks %s", want)
		}
	}
	for _, bad := range []string{"http://", "https://", "innerHTML", "eval(", "Math.random"} {
		if strings.Contains(app, bad) {
			t.Errorf("app.js contains %q (external asset, HTML injection, or made-up data)", bad)
		}
	}

	// Only the UI's files are served: not the directory, not the vendor
	// README, not paths out of ui/; other paths are JSON 404s.
	for _, path := range []string{"/index.html", "/ui/", "/ui/vendor", "/ui/vendor/", "/ui/vendor/README.md", "/ui/nope.js", "/ui/../12_web_ui.go", "/ui/%2e%2e/12_web_ui.go"} {
		r := do(t, http.MethodGet, ts.URL+path, "")
		if r.status != http.StatusNotFound && r.status/100 != 3 {
			t.Errorf("GET %s: status %d, want 404", path, r.status)
		}
	}
	if r := do(t, http.MethodPost, ts.URL+"/", ""); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /: status %d, want 405", r.status)
	}
}
