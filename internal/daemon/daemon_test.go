//go:build unix

package daemon

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestStartDetachesAndWritesFiles(t *testing.T) {
	home := t.TempDir()
	p := startChild(t, home, KindTaskManager)

	host, err := hostname()
	if err != nil {
		t.Fatal(err)
	}
	wantBase := filepath.Join(home, "log", fmt.Sprintf("tide-taskmanager-1-%s", host))
	if p.Index != 1 || p.Log != wantBase+".log" || p.Out != wantBase+".out" {
		t.Fatalf("Start = %+v, want index 1 and files %s.{log,out}", p, wantBase)
	}
	waitFor(t, "child ready on .out", func() bool { return fileContains(p.Out, "ready") })
	waitFor(t, "child log on .log", func() bool { return fileContains(p.Log, "child started") })

	out, _ := os.ReadFile(p.Out)
	// pgid == pid: the child leads its own session/process group, detached from ours.
	if want := fmt.Sprintf("pid=%d pgid=%d stdin=devnull", p.PID, p.PID); !strings.Contains(string(out), want) {
		t.Errorf(".out = %q, want it to contain %q", out, want)
	}
	if log, _ := os.ReadFile(p.Log); strings.Contains(string(log), "ready") {
		t.Errorf(".log got stdout content: %q", log)
	}

	// The child's Register adopted the entry Start wrote instead of adding a second one.
	got, err := Running(home, KindTaskManager)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != p {
		t.Fatalf("Running = %+v, want [%+v]", got, p)
	}
	if files := pidFiles(t, home); !slices.Equal(files, []string{"taskmanager-1.pid"}) {
		t.Fatalf("pid files = %v, want [taskmanager-1.pid]", files)
	}
	if other, err := Running(home, KindStandaloneJob); err != nil || len(other) != 0 {
		t.Fatalf("Running(standalonejob) = %v, %v; want none", other, err)
	}

	stopped, err := Stop(home, KindTaskManager, syscall.SIGTERM, 5*time.Second)
	if err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if stopped != p {
		t.Fatalf("Stop stopped %+v, want %+v", stopped, p)
	}
	if alive(p.PID, 0) {
		t.Fatalf("pid %d still alive after Stop", p.PID)
	}
	if log, _ := os.ReadFile(p.Log); !strings.Contains(string(log), "child stopping on SIGTERM") {
		t.Errorf(".log = %q, want the child's shutdown message", log)
	}
	if files := pidFiles(t, home); len(files) != 0 {
		t.Fatalf("pid files after Stop = %v, want none", files)
	}
}

func TestStopNewestThenStopAll(t *testing.T) {
	home := t.TempDir()
	// Three concurrent starts, as `tide taskmanager start` run three times at once.
	procs := make([]Process, 3)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Go(func() { procs[i] = startChild(t, home, KindTaskManager) })
	}
	wg.Wait()
	slices.SortFunc(procs, func(a, b Process) int { return a.Index - b.Index })
	for i, p := range procs {
		if p.Index != i+1 {
			t.Fatalf("indexes = %+v, want 1, 2, 3", procs)
		}
		waitFor(t, "child ready", func() bool { return fileContains(p.Out, "ready") })
	}
	if got, err := Running(home, KindTaskManager); err != nil || !slices.Equal(got, procs) {
		t.Fatalf("Running = %+v, %v; want %+v", got, err, procs)
	}

	stopped, err := Stop(home, KindTaskManager, syscall.SIGTERM, 5*time.Second)
	if err != nil || stopped != procs[2] {
		t.Fatalf("Stop = %+v, %v; want the newest %+v", stopped, err, procs[2])
	}
	if got, err := Running(home, KindTaskManager); err != nil || !slices.Equal(got, procs[:2]) {
		t.Fatalf("Running after Stop = %+v, %v; want %+v", got, err, procs[:2])
	}

	// A new start takes the next index after the newest live one.
	p4 := startChild(t, home, KindTaskManager)
	if p4.Index != 3 {
		t.Fatalf("index after restart = %d, want 3", p4.Index)
	}

	all, err := StopAll(home, KindTaskManager, syscall.SIGTERM, 5*time.Second)
	if want := []Process{procs[0], procs[1], p4}; err != nil || !slices.Equal(all, want) {
		t.Fatalf("StopAll = %+v, %v; want %+v", all, err, want)
	}
	for _, p := range all {
		if alive(p.PID, 0) {
			t.Errorf("pid %d alive after StopAll", p.PID)
		}
	}
	if files := pidFiles(t, home); len(files) != 0 {
		t.Fatalf("pid files after StopAll = %v, want none", files)
	}
	// The reused name's earlier output was rotated, not overwritten.
	if !fileContains(procs[2].Out+".1", fmt.Sprintf("pid=%d", procs[2].PID)) {
		t.Errorf("%s.1 does not hold the first instance's output", procs[2].Out)
	}
}

func TestStopNotRunning(t *testing.T) {
	home := t.TempDir()
	_, err := Stop(home, KindTaskManager, syscall.SIGTERM, time.Second)
	if !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Stop error = %v, want ErrNotRunning", err)
	}
	if want := "no taskmanager running in " + home; !strings.Contains(err.Error(), want) {
		t.Errorf("Stop error = %q, want it to say %q", err, want)
	}
	if got, err := StopAll(home, KindStandaloneJob, syscall.SIGTERM, time.Second); !errors.Is(err, ErrNotRunning) || got != nil {
		t.Fatalf("StopAll = %v, %v; want nil, ErrNotRunning", got, err)
	}
}

func TestStopEscalates(t *testing.T) {
	home := t.TempDir()
	p := startChild(t, home, KindStandaloneJob, envIgnoreTerm+"=1")
	waitFor(t, "child ready", func() bool { return fileContains(p.Out, "ready") })

	got, err := Stop(home, KindStandaloneJob, syscall.SIGTERM, 100*time.Millisecond)
	if !errors.Is(err, ErrStillRunning) || got != p {
		t.Fatalf("Stop(SIGTERM) = %+v, %v; want %+v, ErrStillRunning", got, err, p)
	}
	if running, _ := Running(home, KindStandaloneJob); len(running) != 1 {
		t.Fatalf("Running after failed stop = %+v, want the process still listed", running)
	}
	// The killed child stays a zombie (we are its parent and do not reap it); Stop must
	// count it as exited.
	got, err = Stop(home, KindStandaloneJob, syscall.SIGKILL, 5*time.Second)
	if err != nil || got != p {
		t.Fatalf("Stop(SIGKILL) = %+v, %v; want %+v, nil", got, err, p)
	}
	if files := pidFiles(t, home); len(files) != 0 {
		t.Fatalf("pid files = %v, want none", files)
	}
}

func TestForegroundRegisterAndStop(t *testing.T) {
	home := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv(home, KindTaskManager)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	buf := make([]byte, 256)
	if _, err := stdout.Read(buf); err != nil { // first line: registered and ready
		t.Fatal(err)
	}

	got, err := Running(home, KindTaskManager)
	if err != nil || len(got) != 1 || got[0].PID != cmd.Process.Pid || got[0].Log != "" || got[0].Out != "" {
		t.Fatalf("Running = %+v, %v; want one foreground entry for pid %d", got, err, cmd.Process.Pid)
	}
	if _, err := Stop(home, KindTaskManager, syscall.SIGTERM, 5*time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child exit: %v", err)
	}
	if files := pidFiles(t, home); len(files) != 0 {
		t.Fatalf("pid files = %v, want none", files)
	}
}

func TestRunningRemovesStalePIDFiles(t *testing.T) {
	home := t.TempDir()
	r, err := openRegistry(home, KindTaskManager)
	if err != nil {
		t.Fatal(err)
	}
	// A child that exited but is not reaped yet: a zombie.
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0", envChild+"=1", envExit+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	zombie := cmd.Process.Pid
	waitFor(t, "zombie", func() bool { st, ok := procStat(zombie); return ok && st.zombie })
	self, _ := procStartTime(os.Getpid())

	write := func(index int, content string) {
		t.Helper()
		if err := os.WriteFile(r.pidFile(index), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(1, fmt.Sprintf("%d\n", zombie))
	write(2, "not a pid\n")
	write(3, fmt.Sprintf("%d\nstart=%d\n", os.Getpid(), self+1)) // pid reused by another process
	write(5, fmt.Sprintf("%d\nstart=%d\n", os.Getpid(), self))   // live: us
	if err := os.WriteFile(filepath.Join(r.dir, "standalonejob-1.pid"), []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	got, err := Running(home, KindTaskManager)
	if want := []Process{{PID: os.Getpid(), Index: 5}}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("Running = %+v, %v; want %+v", got, err, want)
	}
	if err := cmd.Wait(); err != nil { // reap; now the pid is gone entirely
		t.Fatal(err)
	}
	write(4, fmt.Sprintf("%d\n", zombie))
	if _, err := Running(home, KindTaskManager); err != nil {
		t.Fatal(err)
	}
	if files, want := pidFiles(t, home), []string{"standalonejob-1.pid", "taskmanager-5.pid"}; !slices.Equal(files, want) {
		t.Fatalf("pid files = %v, want %v (stale ones removed, other kinds untouched)", files, want)
	}
}

func TestRegisterConcurrent(t *testing.T) {
	home := t.TempDir()
	const n = 16
	releases := make([]func(), n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			if releases[i], err = Register(home, KindTaskManager); err != nil {
				t.Errorf("Register: %v", err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	got, err := Running(home, KindTaskManager)
	if err != nil || len(got) != n {
		t.Fatalf("Running = %d entries, %v; want %d", len(got), err, n)
	}
	for i, p := range got {
		if p.Index != i+1 || p.PID != os.Getpid() {
			t.Fatalf("entry %d = %+v, want index %d and our pid", i, p, i+1)
		}
	}
	for _, release := range releases {
		wg.Go(release)
		wg.Go(release) // idempotent, also concurrently
	}
	wg.Wait()
	if files := pidFiles(t, home); len(files) != 0 {
		t.Fatalf("pid files after release = %v, want none", files)
	}
}

// pidFiles lists the pid files under home, sorted.
func pidFiles(t *testing.T, home string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(home, "pids", "*.pid"))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = filepath.Base(m)
	}
	slices.Sort(names)
	return names
}

func TestRecordStopTimeout(t *testing.T) {
	home := t.TempDir()
	if err := RecordStopTimeout(home, KindTaskManager, time.Minute); err == nil {
		t.Fatal("RecordStopTimeout without a pid file succeeded")
	}
	release, err := Register(home, KindTaskManager)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if err := RecordStopTimeout(home, KindTaskManager, 45*time.Second); err != nil {
		t.Fatal(err)
	}
	got, err := Running(home, KindTaskManager)
	if err != nil || len(got) != 1 || got[0].StopTimeout != 45*time.Second || got[0].PID != os.Getpid() {
		t.Fatalf("Running = %+v, %v; want our entry with a 45s stop timeout", got, err)
	}
}

func TestStopReportsProgress(t *testing.T) {
	home := t.TempDir()
	p := startChild(t, home, KindTaskManager, envIgnoreTerm+"=1")
	var signalled []Process
	var waited []time.Duration
	_, err := StopWithOptions(home, KindTaskManager, StopOptions{
		Wait:         300 * time.Millisecond,
		WaitingEvery: 50 * time.Millisecond,
		Signalled:    func(q Process) { signalled = append(signalled, q) },
		Waiting: func(pending []Process, elapsed time.Duration) {
			if len(pending) != 1 || pending[0] != p {
				t.Errorf("Waiting(%+v), want [%+v]", pending, p)
			}
			waited = append(waited, elapsed)
		},
	})
	if !errors.Is(err, ErrStillRunning) {
		t.Fatalf("Stop = %v, want ErrStillRunning (the child ignores SIGTERM)", err)
	}
	if len(signalled) != 1 || signalled[0] != p || len(waited) == 0 || !slices.IsSorted(waited) {
		t.Fatalf("Signalled %+v, Waiting %v; want one signal and progress reports", signalled, waited)
	}
}
