//go:build unix

package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tide-stream/tide/examples/verify"
	"github.com/tide-stream/tide/internal/daemon"
	"github.com/tide-stream/tide/internal/jobs"
)

// envTideMain makes the test binary act as the tide binary (with the Verify job), so that the
// tests run real processes: `tide …` commands, and the daemons and children they start by
// re-executing themselves.
const envTideMain = "TIDE_CLI_TEST_AS_TIDE"

func TestMain(m *testing.M) {
	if os.Getenv(envTideMain) == "1" {
		var reg jobs.Registry
		if err := reg.Register("Verify", verify.Build); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		app := &App{Jobs: &reg, Stdout: os.Stdout, Stderr: os.Stderr}
		os.Exit(app.Run(context.Background(), os.Args[1:]))
	}
	os.Exit(m.Run())
}

// commandTimeout bounds one tide command of a test, so that a hang fails the test instead of
// blocking it forever.
const commandTimeout = 2 * time.Minute

// env is one test's TIDE_HOME, working directory and loopback ports.
type env struct {
	t        *testing.T
	dir      string
	home     string
	restPort int
	rpcPort  int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, home: filepath.Join(dir, "home"), restPort: freePort(t), rpcPort: freePort(t)}
	t.Cleanup(e.killDaemons)
	return e
}

// dynamic is the configuration that keeps a test's processes on loopback and its own ports.
func (e *env) dynamic(extra ...string) []string {
	return append([]string{
		fmt.Sprintf("-Drest.port=%d", e.restPort), "-Drest.address=127.0.0.1",
		fmt.Sprintf("-Djobmanager.rpc.port=%d", e.rpcPort), "-Djobmanager.rpc.address=127.0.0.1",
		"-Dtaskmanager.host=127.0.0.1",
		// Tests run in parallel: metrics on any free port, not the defaults.
		"-Dmetrics.reporter.prom.port=0",
	}, extra...)
}

// command prepares `tide args...` in the test's directory and TIDE_HOME.
func (e *env) command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), envTideMain+"=1", "TIDE_HOME="+e.home, "GORACE=atexit_sleep_ms=0")
	return cmd
}

// result is what a finished command printed.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// tide runs `tide args...` to the end.
func (e *env) tide(args ...string) result {
	e.t.Helper()
	cmd := e.command(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }() // owner: this function, which reads done
	var err error
	select {
	case err = <-done:
	case <-time.After(commandTimeout):
		_ = cmd.Process.Kill()
		<-done
		e.t.Fatalf("tide %s did not end within %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), commandTimeout, &stdout, &stderr)
	}
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// killDaemons kills whatever daemons of this test are still registered, and waits for them.
func (e *env) killDaemons() {
	for _, kind := range []daemon.Kind{daemon.KindTaskManager, daemon.KindStandaloneJob} {
		// Thaw a JobManager a test froze, so that it can die.
		if ps, err := daemon.Running(e.home, kind); err == nil {
			for _, p := range ps {
				_ = syscall.Kill(p.PID, syscall.SIGCONT)
			}
		}
		ps, _ := daemon.StopAll(e.home, kind, syscall.SIGKILL, 10*time.Second)
		for _, p := range ps {
			// Reap it if it is our child (a subreaper's adopted orphan); a no-op otherwise.
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(p.PID, &ws, syscall.WNOHANG, nil)
		}
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// portFree reports whether the loopback port can be bound.
func portFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// get fetches a REST path from the test's JobManager.
func (e *env) get(path string) (string, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d%s", e.restPort, path))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return b.String(), fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return b.String(), err
}

// eventually polls cond until it holds or a generous deadline passes: real processes are
// involved, so there is no clock to fake.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}
