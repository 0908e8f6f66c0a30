//go:build linux

package daemon

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startStranger starts a process that has nothing to do with Tide and that dies of the first
// SIGTERM it gets (sleep keeps the default disposition). wasTerminated, after Stop returned,
// kills and reaps it and reports whether a SIGTERM had reached it: a fatal signal sets the exit
// status as it is sent, so a later SIGKILL does not hide it.
func startStranger(t *testing.T) (pid int, wasTerminated func() bool) {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary:", err)
	}
	cmd := exec.Command(sleep, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reaped := false
	reap := func() {
		if !reaped {
			reaped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(reap)
	return cmd.Process.Pid, func() bool {
		reap()
		ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
		return ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM
	}
}

// TestStopNeverSignalsAnUnverifiedProcess is issue 11 item 7: a pid file without a start time
// names whatever process now has that pid. Stop must not signal it, must say why, and must keep
// the file while that process runs.
func TestStopNeverSignalsAnUnverifiedProcess(t *testing.T) {
	home := t.TempDir()
	r, err := openRegistry(home, KindTaskManager)
	if err != nil {
		t.Fatal(err)
	}
	pid, wasTerminated := startStranger(t)
	path := r.pidFile(1)
	if err := os.WriteFile(path, fmt.Appendf(nil, "%d\n", pid), 0o644); err != nil { // Flink style: pid only
		t.Fatal(err)
	}

	var skipped []Skipped
	_, err = StopWithOptions(home, KindTaskManager, StopOptions{Wait: time.Second, All: true,
		Skipped: func(s Skipped) { skipped = append(skipped, s) }})
	var nre *NotRunningError
	if !errors.As(err, &nre) || nre.Unverified != 1 {
		t.Fatalf("StopAll error = %v, want a NotRunningError counting 1 unverified pid file", err)
	}
	if !strings.Contains(err.Error(), "can be verified") {
		t.Errorf("error %q does not say that the process could not be verified", err)
	}
	if len(skipped) != 1 || skipped[0].PID != pid || skipped[0].Removed || skipped[0].Path != path ||
		!strings.Contains(skipped[0].String(), "records no start time") {
		t.Fatalf("skipped = %+v, want one kept entry for pid %d explaining the missing start time", skipped, pid)
	}
	if _, err := Stop(home, KindTaskManager, syscall.SIGTERM, time.Second); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Stop error = %v, want ErrNotRunning", err)
	}
	if got, err := Running(home, KindTaskManager); err != nil || len(got) != 0 {
		t.Fatalf("Running = %+v, %v; want no verified instance", got, err)
	}
	if files := pidFiles(t, home); !slices.Equal(files, []string{"taskmanager-1.pid"}) {
		t.Fatalf("pid files = %v, want the unverifiable one kept", files)
	}
	// A new instance does not take the index (and so the log file) of a process that may be ours.
	if l, err := r.list(); err != nil || l.nextIndex() != 2 {
		t.Fatalf("next index = %d, %v; want 2", l.nextIndex(), err)
	}
	if wasTerminated() {
		t.Fatalf("pid %d, named by a pid file without a start time, got SIGTERM", pid)
	}
}

// TestStopRemovesAReusedPID: a pid file whose start time differs from the running process's is
// stale (the pid was reused); it is removed and reported, and the process is not signalled.
func TestStopRemovesAReusedPID(t *testing.T) {
	home := t.TempDir()
	r, err := openRegistry(home, KindTaskManager)
	if err != nil {
		t.Fatal(err)
	}
	pid, wasTerminated := startStranger(t)
	start, ok := procStartTime(pid)
	if !ok {
		t.Fatal("no start time for a child")
	}
	if err := writePIDFile(r.pidFile(1), record{PID: pid, Start: start - 1}); err != nil {
		t.Fatal(err)
	}
	var skipped []Skipped
	_, err = StopWithOptions(home, KindTaskManager, StopOptions{Wait: time.Second,
		Skipped: func(s Skipped) { skipped = append(skipped, s) }})
	if !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Stop error = %v, want ErrNotRunning", err)
	}
	if len(skipped) != 1 || !skipped[0].Removed || !strings.Contains(skipped[0].Reason, "another process") {
		t.Fatalf("skipped = %+v, want the stale file removed because the pid was reused", skipped)
	}
	if files := pidFiles(t, home); len(files) != 0 {
		t.Fatalf("pid files = %v, want none", files)
	}
	if wasTerminated() {
		t.Fatalf("pid %d, reused by another process, got SIGTERM", pid)
	}
}

// TestStopSignalsAVerifiedStranger is the control of the two tests above: with the right start
// time the same process is taken for ours and signalled, so those tests would see a signal.
func TestStopSignalsAVerifiedStranger(t *testing.T) {
	home := t.TempDir()
	r, err := openRegistry(home, KindTaskManager)
	if err != nil {
		t.Fatal(err)
	}
	pid, wasTerminated := startStranger(t)
	start, _ := procStartTime(pid)
	if err := writePIDFile(r.pidFile(1), record{PID: pid, Start: start}); err != nil {
		t.Fatal(err)
	}
	// Our child stays a zombie until reaped, which counts as exited.
	if got, err := Stop(home, KindTaskManager, syscall.SIGTERM, 10*time.Second); err != nil || got.PID != pid {
		t.Fatalf("Stop = %+v, %v; want pid %d stopped", got, err, pid)
	}
	if !wasTerminated() {
		t.Fatalf("pid %d was not signalled", pid)
	}
}
