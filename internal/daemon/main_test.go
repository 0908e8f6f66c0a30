//go:build unix

package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment switches of the helper child process: the test binary re-executed.
const (
	envChild      = "DAEMON_TEST_CHILD"       // "1": run childMain instead of the tests
	envHome       = "DAEMON_TEST_HOME"        // if set, the child calls Register(home, kind)
	envKind       = "DAEMON_TEST_KIND"        // kind for Register
	envIgnoreTerm = "DAEMON_TEST_IGNORE_TERM" // "1": ignore SIGTERM (only SIGKILL stops it)
	envExit       = "DAEMON_TEST_EXIT"        // "1": exit at once
	envFail       = "DAEMON_TEST_FAIL"        // "1": log an error and exit 3 before it is up
	envNoReady    = "DAEMON_TEST_NO_READY"    // "1": never report that it is up
	envWatch      = "DAEMON_TEST_WATCH"       // "1": watch the parent; exit 7 when it is gone
)

// childLifetime bounds how long a helper lives, so that a broken test cannot leak processes
// forever.
const childLifetime = 60 * time.Second

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		os.Exit(childMain())
	}
	os.Exit(m.Run())
}

// childMain is a tiny stand-in for `tide taskmanager start-foreground`: it reports facts about
// its process on stdout, logs to stderr, registers itself and exits on SIGTERM.
func childMain() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if os.Getenv(envExit) == "1" {
		return 0
	}
	if os.Getenv(envWatch) == "1" {
		return watchMain(log)
	}
	if os.Getenv(envFail) == "1" {
		for i := range 30 {
			log.Info("preparing", "step", i) // more lines than the tail a failed start shows
		}
		log.Error("listen tcp 127.0.0.1:1: bind: address already in use")
		return 3
	}
	terms := make(chan os.Signal, 1)
	if os.Getenv(envIgnoreTerm) == "1" {
		signal.Ignore(syscall.SIGTERM)
	} else {
		signal.Notify(terms, syscall.SIGTERM)
	}
	release := func() {}
	if home := os.Getenv(envHome); home != "" {
		var err error
		release, err = Register(home, Kind(os.Getenv(envKind)))
		if err != nil {
			log.Error("register failed", "err", err)
			return 1
		}
	}
	defer release()

	pgid, _ := syscall.Getpgid(0)
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(out, "pid=%d pgid=%d stdin=%s\nready\n", os.Getpid(), pgid, stdinKind())
	_ = out.Flush()
	log.Info("child started", "pid", os.Getpid())
	if os.Getenv(envNoReady) != "1" {
		if err := NotifyReady(map[string]string{"pid": fmt.Sprint(os.Getpid())}); err != nil {
			log.Error("notify ready failed", "err", err)
			return 1
		}
		// A second report is a no-op, and the descriptor is not inherited further.
		if err := NotifyReady(nil); err != nil || os.Getenv(EnvReadyFD) != "" {
			log.Error("second NotifyReady", "err", err)
			return 1
		}
	}

	select {
	case <-terms:
		log.Info("child stopping on SIGTERM")
		return 0
	case <-time.After(childLifetime):
		log.Error("child lived too long")
		return 2
	}
}

// watchMain watches the parent through its lifeline, reports that it is up, and exits 7 once
// the parent is gone.
func watchMain(log *slog.Logger) int {
	gone := make(chan struct{})
	stop, err := WatchParent(func() { close(gone) })
	if err != nil {
		log.Error("watch parent", "err", err)
		return 1
	}
	defer stop()
	if v := os.Getenv(EnvLifelineFD); v != "" {
		log.Error("the lifeline would be inherited", "fd", v)
		return 1
	}
	if err := NotifyReady(nil); err != nil {
		log.Error("notify ready", "err", err)
		return 1
	}
	select {
	case <-gone:
		return 7
	case <-time.After(childLifetime):
		return 2
	}
}

// stdinKind reports "devnull" if stdin is /dev/null.
func stdinKind() string {
	var in, null syscall.Stat_t
	if err := syscall.Fstat(0, &in); err != nil {
		return "error"
	}
	if err := syscall.Stat(os.DevNull, &null); err != nil {
		return "error"
	}
	if in.Dev == null.Dev && in.Ino == null.Ino && in.Rdev == null.Rdev {
		return "devnull"
	}
	return "other"
}

// childEnv returns the environment for a helper child registering under home as kind. Under
// -race a child would otherwise sleep 1 s at exit (GORACE atexit_sleep_ms).
func childEnv(home string, kind Kind, extra ...string) []string {
	env := []string{"GORACE=atexit_sleep_ms=0", envChild + "=1", envHome + "=" + home, envKind + "=" + string(kind)}
	return append(env, extra...)
}

// startChild daemonizes a helper child and arranges for it to be killed and reaped at the end.
func startChild(t *testing.T, home string, kind Kind, extraEnv ...string) Process {
	t.Helper()
	p, err := StartWithOptions(home, kind, []string{"taskmanager", "start-foreground"},
		StartOptions{Executable: os.Args[0], Env: childEnv(home, kind, extraEnv...)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { killAndReap(p.PID) })
	if want := fmt.Sprint(p.PID); p.Ready["pid"] != want {
		t.Fatalf("Start reported %v, want the child's report pid=%s", p.Ready, want)
	}
	return p.Process
}

// killAndReap kills pid and reaps it if it is our child (Start releases its children, so
// nobody else waits for them). It is a no-op for other processes.
func killAndReap(pid int) {
	if !isOurChild(pid) {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if !errors.Is(err, syscall.EINTR) {
			return
		}
	}
}

// isOurChild reports whether pid's parent is this process, so cleanup never signals a stranger
// that reused the pid.
func isOurChild(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // No /proc: Wait4 only reaps our own children anyway.
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(s[i+1:])
	return len(f) > 1 && f[1] == fmt.Sprint(os.Getpid())
}

// waitFor polls cond until it holds or a generous deadline passes. Real processes are involved,
// so there is no clock to fake.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func fileContains(path, sub string) bool {
	data, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(data), sub)
}
