//go:build unix

package cli

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tide-stream/tide/internal/daemon"
)

// TestDaemonStartWaitsUntilUp: `standalone-job start` and `taskmanager start` return once the
// process is up — a JobManager's ports answer as soon as the command has returned — and fail,
// with the process's error, when it dies first (its port is taken).
func TestDaemonStartWaitsUntilUp(t *testing.T) {
	e := newEnv(t)
	jm := append(append([]string{"standalone-job", "start", "-j", "Verify"}, e.dynamic()...),
		"--", "--count", "0", "--rate", "100", "--output", filepath.Join(e.dir, "out"))

	taken, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", e.restPort))
	if err != nil {
		t.Fatal(err)
	}
	r := e.tide(jm...)
	taken.Close()
	if r.code == 0 || !strings.Contains(r.stderr, "before it was up") || !strings.Contains(r.stderr, "address already in use") {
		t.Fatalf("standalone-job start with rest.port taken: want a failure that shows the process's error; got %v", r)
	}
	if strings.Contains(r.stdout, "Started") {
		t.Errorf("a failed start printed %q", r.stdout)
	}
	if ps, err := daemon.Running(e.home, daemon.KindStandaloneJob); err != nil || len(ps) != 0 {
		t.Fatalf("after the failed start: running %+v, %v; want none", ps, err)
	}

	r = e.tide(jm...)
	if r.code != 0 || !strings.Contains(r.stdout, "Started standalonejob daemon") ||
		!strings.Contains(r.stdout, fmt.Sprintf("http://127.0.0.1:%d", e.restPort)) {
		t.Fatalf("standalone-job start: %v", r)
	}
	// Up means up: no waiting here.
	if _, err := e.get("/overview"); err != nil {
		t.Fatalf("REST API right after start returned: %v", err)
	}

	r = e.tide(append([]string{"taskmanager", "start"}, e.dynamic()...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "Started taskmanager daemon") {
		t.Fatalf("taskmanager start: %v", r)
	}
	// A TaskManager whose data port is taken cannot come up.
	tmTaken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tmTaken.Close()
	port := tmTaken.Addr().(*net.TCPAddr).Port
	r = e.tide(append([]string{"taskmanager", "start"}, e.dynamic(fmt.Sprintf("-Dtaskmanager.data.port=%d", port))...)...)
	if r.code == 0 || !strings.Contains(r.stderr, "before it was up") || !strings.Contains(r.stderr, "address already in use") {
		t.Fatalf("taskmanager start with its data port taken: %v", r)
	}
	if ps, err := daemon.Running(e.home, daemon.KindTaskManager); err != nil || len(ps) != 1 {
		t.Fatalf("running taskmanagers %+v, %v; want the first one only", ps, err)
	}
}

// TestTaskManagerStartWithoutJobManager: a TaskManager waiting for an absent JobManager is up.
func TestTaskManagerStartWithoutJobManager(t *testing.T) {
	e := newEnv(t)
	r := e.tide(append([]string{"taskmanager", "start"}, e.dynamic()...)...)
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("registering with the JobManager at 127.0.0.1:%d", e.rpcPort)) {
		t.Fatalf("taskmanager start with no JobManager: %v", r)
	}
	if r := e.tide("taskmanager", "stop"); r.code != 0 || !strings.Contains(r.stdout, "Stopped taskmanager") {
		t.Fatalf("taskmanager stop: %v", r)
	}
}
