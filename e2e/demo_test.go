package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoReports runs `tide demo` briefly (30 s of the seed's load, 60×
// faster, the tide policy): it starts everything itself, ends on its own,
// leaves no process or cgroup behind, and writes the report: summary.json
// in DESIGN.md's shape, the four panels' charts, report.html.
func TestDemoReports(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	report := filepath.Join(dir, "report")
	cmd := exec.Command(tideBin, "demo", "--duration", "30s", "--speedup", "60", "--policy", "tide", "--rest-port", "0",
		"--max", "3", "--report", report)
	cmd.Env = append(os.Environ(), "TIDE_HOME="+filepath.Join(dir, "home"))
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { // owner: this test, which waits on done
		defer close(done)
		out, err = cmd.CombinedOutput()
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("tide demo did not end:\n%s", out)
	}
	if err != nil {
		t.Fatalf("tide demo: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(report, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Runs []struct {
			Policy             string  `json:"policy"`
			TaskManagerSeconds float64 `json:"taskmanager_seconds"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &sum); err != nil || len(sum.Runs) != 1 || sum.Runs[0].Policy != "tide" || sum.Runs[0].TaskManagerSeconds < 10 {
		t.Fatalf("summary.json: %v\n%s", err, b)
	}
	html, err := os.ReadFile(filepath.Join(report, "report.html"))
	if err != nil || !strings.Contains(string(html), `src="tide-4.svg"`) {
		t.Errorf("report.html: %v", err)
	}
	logs, err := os.ReadFile(filepath.Join(report, "processes.log"))
	if err != nil || !strings.Contains(string(logs), "msg=decision") {
		t.Errorf("processes.log has no autoscaler decision (%v)", err)
	}
	if !strings.Contains(string(out), "tide demo: report at ") {
		t.Errorf("the demo does not say where its report is:\n%s", out)
	}
}
