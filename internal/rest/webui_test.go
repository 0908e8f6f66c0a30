package rest

import (
	"net/http"
	"strings"
	"testing"
)

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
	for _, want := range []string{`"/overview"`, `"/jobs/overview"`, `"/jobs/" + selected`, `"/rescales"`, `"/taskmanagers"`, "pause_ms", "parallelism", "setTimeout(loop, 1000)"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, bad := range []string{"http://", "https://", "innerHTML"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q (external asset or HTML injection)", bad)
		}
	}
	// Only / itself is the UI; other paths are JSON 404s.
	if r := do(t, http.MethodGet, ts.URL+"/index.html", ""); r.status != http.StatusNotFound {
		t.Errorf("GET /index.html: status %d, want 404", r.status)
	}
	if r := do(t, http.MethodPost, ts.URL+"/", ""); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /: status %d, want 405", r.status)
	}
}
