//go:build linux

package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/daemon"
)

// becomeSubreaper makes this process adopt its orphaned descendants for the rest of the test,
// so that the test can watch them die and reap them instead of leaving zombies to init.
func becomeSubreaper(t *testing.T) {
	t.Helper()
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		t.Skipf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
	}
	t.Cleanup(func() { syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 0, 0) })
}

// reap waits up to a generous deadline for pid, a child of ours, to exit, reaps it and says
// how it ended. A process that is no longer there at all has exited too: the dying parent may
// have reaped it, in a wait it was in when its child died.
func reap(t *testing.T, pid int) (string, bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.ECHILD) && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH):
			return "reaped by its parent", true
		case err != nil:
			t.Errorf("wait4(%d): %v", pid, err)
			return "", false
		case got == pid:
			return describe(ws), true
		}
		if time.Now().After(deadline) {
			return "", false
		}
		<-tick.C
	}
}

// TestRunChildrenDieWithIt is kill -9 of `tide run`: its JobManager and TaskManagers must not
// outlive it with their ports bound.
func TestRunChildrenDieWithIt(t *testing.T) {
	becomeSubreaper(t)
	e := newEnv(t)
	logPath := filepath.Join(e.dir, "run.log")
	logF, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logF.Close()
	cmd := e.command(append(append([]string{"run", "-j", "Verify", "--taskmanagers", "2"}, e.dynamic()...),
		"--", "--count", "0", "--rate", "200", "--output", filepath.Join(e.dir, "out"))...)
	cmd.Stdout, cmd.Stderr = logF, logF
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	runDone := false
	t.Cleanup(func() {
		if !runDone {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	eventually(t, "the local cluster to be up", func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.Contains(string(b), "local cluster up")
	})
	// Kill it once the cluster is quiet. A child that writes a log line after its parent died
	// gets SIGPIPE (its stderr is a pipe to tide run), which would hide a missing fix; a
	// running job with no checkpoints to take logs nothing.
	eventually(t, "the job to run on 2 slots", func() bool {
		body, err := e.get("/jobs/overview")
		if err != nil || !strings.Contains(body, `"state":"RUNNING"`) {
			return false
		}
		body, err = e.get("/taskmanagers")
		return err == nil && strings.Count(body, `"freeSlots":0`) == 2
	})
	var kids []daemon.Process
	for _, kind := range []daemon.Kind{daemon.KindStandaloneJob, daemon.KindTaskManager} {
		ps, err := daemon.Running(e.home, kind)
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, ps...)
	}
	if len(kids) != 3 {
		t.Fatalf("registered processes %+v, want a jobmanager and 2 taskmanagers", kids)
	}
	reaped := map[int]bool{}
	t.Cleanup(func() {
		for _, p := range kids {
			if !reaped[p.PID] { // the test failed; the process is our child (we are its subreaper)
				_ = syscall.Kill(p.PID, syscall.SIGKILL)
				reap(t, p.PID)
			}
		}
	})

	for _, p := range kids {
		if err := syscall.Kill(p.PID, 0); err != nil {
			t.Fatalf("pid %d died before tide run was killed: %v\n%s", p.PID, err, readFile(logPath))
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	runDone = true
	for _, p := range kids {
		how, ok := reap(t, p.PID)
		reaped[p.PID] = ok
		if !ok {
			t.Fatalf("pid %d outlived the tide run that started it\n%s", p.PID, readFile(logPath))
		}
		t.Logf("pid %d ended: %s", p.PID, how)
	}
	for _, port := range []int{e.restPort, e.rpcPort} {
		if !portFree(port) {
			t.Errorf("port %d still bound after the local cluster died", port)
		}
	}
}

func describe(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return fmt.Sprintf("signal %d (%v)", int(ws.Signal()), ws.Signal())
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}
