package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBadStartInput checks that a process refuses bad input at start with
// an error that names it.
func TestBadStartInput(t *testing.T) {
	home := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown job", []string{"standalone-job", "start-foreground", "-j", "NoSuchJob"}, []string{`unknown job "NoSuchJob"`, "Verify"}},
		{"malformed -D", []string{"taskmanager", "start-foreground", "-Dheartbeat.timeout"}, []string{"heartbeat.timeout"}},
		{"unknown key", []string{"taskmanager", "start-foreground", "-Dheartbeat.timout=5s"}, []string{"heartbeat.timout", "heartbeat.timeout"}},
		{"bad value", []string{"taskmanager", "start-foreground", "-Dtaskmanager.numberOfTaskSlots=zero"}, []string{"taskmanager.numberOfTaskSlots", "zero"}},
		{"bad job args", []string{"standalone-job", "start-foreground", "-j", "Verify", "--", "--keys", "0"}, []string{"--keys 0"}},
		{"unwritable checkpoint dir", []string{"standalone-job", "start-foreground", "-j", "Verify",
			"-Dstate.checkpoints.dir=file:///proc/tide-cannot-write-here", "-Drest.port=0", "-Djobmanager.rpc.port=0"},
			[]string{"/proc/tide-cannot-write-here"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(tideBin, tc.args...)
			cmd.Env = append(os.Environ(), "TIDE_HOME="+home)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("exit 0, want an error; output:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output does not name %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestTaskManagerOfAnotherVersionIsRefused builds a second binary with
// another version and checks that its TaskManager is refused at
// registration, with a message, while the job keeps running.
func TestTaskManagerOfAnotherVersionIsRefused(t *testing.T) {
	other := filepath.Join(t.TempDir(), "tide-other")
	build := exec.Command("go", "build", "-o", other,
		"-ldflags", "-X github.com/tide-stream/tide/internal/cli.Version=9.9.9-other",
		"github.com/tide-stream/tide/cmd/tide")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	c := newCluster(t)
	c.startJM("Verify", "--count", "0", "--rate", "1000", "--output", filepath.Join(c.dir, "out"))
	id := c.jobID(t)
	c.startTM()
	c.waitRunningAt(t, id, countSum, 1)
	cmd := exec.Command(other, append([]string{"taskmanager", "start-foreground"}, c.dynamic...)...)
	cmd.Env = append(os.Environ(), "TIDE_HOME="+c.home)
	done := make(chan []byte, 1)
	go func() { out, _ := cmd.CombinedOutput(); done <- out }()
	select {
	case out := <-done:
		if !strings.Contains(string(out), "9.9.9-other") || !strings.Contains(string(out), "refused") {
			t.Fatalf("refused taskmanager's output does not explain:\n%s", out)
		}
		if cmd.ProcessState.ExitCode() == 0 {
			t.Fatalf("a refused taskmanager must exit non-zero")
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("taskmanager of another version was not refused")
	}
	if j, err := c.job(id); err != nil || j.State != "RUNNING" || j.Vertices[1].Parallelism != 1 {
		t.Fatalf("job after the refusal: %+v %v", j, err)
	}
}

// TestRESTErrors checks that bad ids and paths get a 4xx JSON error.
func TestRESTErrors(t *testing.T) {
	c := newCluster(t)
	c.startJM("Verify", "--count", "0", "--rate", "100", "--output", filepath.Join(c.dir, "out"))
	c.jobID(t)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/jobs/not-a-job-id", 400},
		{"GET", "/jobs/0123456789abcdef0123456789abcdef", 404},
		{"GET", "/jobs/0123456789abcdef0123456789abcdef/rescales", 404},
		{"GET", "/no/such/path", 404},
		{"DELETE", "/overview", 405},
		{"POST", "/jobs/0123456789abcdef0123456789abcdef/savepoints", 404},
	} {
		req, _ := http.NewRequest(tc.method, fmt.Sprintf("http://127.0.0.1:%d%s", c.restPort, tc.path), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Errors []string `json:"errors"`
		}
		if resp.StatusCode != tc.status || json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 {
			t.Errorf("%s %s: %d %s, want %d with a JSON error", tc.method, tc.path, resp.StatusCode, body, tc.status)
		}
	}
}

// TestVerifyReportsBadOutput checks that tide verify fails, precisely, on
// output with a missing and a duplicated line.
func TestVerifyReportsBadOutput(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	// Two keys, four records: key 0 gets i=0,2 and key 1 gets i=1,3.
	b.WriteString("0,1,0\n0,2,2\n1,1,1\n1,1,1\n")
	os.WriteFile(filepath.Join(dir, "part-1-0-0"), []byte(b.String()), 0o644)
	out, err := tide(t, "verify", "--output", dir, "--keys", "2", "--count", "4")
	if err == nil {
		t.Fatalf("verify passed bad output:\n%s", out)
	}
	for _, w := range []string{"missing 1", "duplicates 1"} {
		if !strings.Contains(out, w) {
			t.Errorf("report lacks %q:\n%s", w, out)
		}
	}
}
