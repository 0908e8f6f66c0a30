//go:build unix

package daemon

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStartReportsEarlyExit: a daemon that dies before it is up (say, its port is taken) makes
// Start fail with how it ended and the end of its log, and leaves no pid file behind.
func TestStartReportsEarlyExit(t *testing.T) {
	home := t.TempDir()
	_, err := StartWithOptions(home, KindStandaloneJob, []string{"standalone-job", "start-foreground"},
		StartOptions{Executable: os.Args[0], Env: childEnv(home, KindStandaloneJob, envFail+"=1")})
	var serr *StartError
	if !errors.As(err, &serr) {
		t.Fatalf("Start error = %v, want a StartError", err)
	}
	t.Cleanup(func() { killAndReap(serr.Process.PID) })
	if serr.Exit != "exit status 3" || serr.Timeout != 0 {
		t.Errorf("StartError = %+v, want exit status 3", serr)
	}
	msg := err.Error()
	for _, want := range []string{"exited (exit status 3) before it was up", serr.Process.Log, "address already in use"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
	if n := strings.Count(serr.LogTail, "\n"); n != logTailLines || strings.Contains(serr.LogTail, "step=0 ") {
		t.Errorf("log tail has %d lines, want the last %d:\n%s", n, logTailLines, serr.LogTail)
	}
	if files := pidFiles(t, home); len(files) != 0 {
		t.Errorf("pid files = %v, want none after a failed start", files)
	}
}

// TestStartTimesOut: a daemon that neither reports nor exits makes Start fail after the timeout,
// saying that it is still running; it keeps its pid file so that `stop` finds it.
func TestStartTimesOut(t *testing.T) {
	home := t.TempDir()
	_, err := StartWithOptions(home, KindTaskManager, []string{"taskmanager", "start-foreground"},
		StartOptions{Executable: os.Args[0], Env: childEnv(home, KindTaskManager, envNoReady+"=1"), ReadyTimeout: 300 * time.Millisecond})
	var serr *StartError
	if !errors.As(err, &serr) {
		t.Fatalf("Start error = %v, want a StartError", err)
	}
	t.Cleanup(func() { killAndReap(serr.Process.PID) })
	if serr.Exit != "" || serr.Timeout != 300*time.Millisecond || !strings.Contains(err.Error(), "still running") {
		t.Fatalf("StartError = %v, want a timeout with the process still running", err)
	}
	waitFor(t, "the child to register", func() bool {
		got, err := Running(home, KindTaskManager)
		return err == nil && len(got) == 1 && got[0].PID == serr.Process.PID
	})
	if _, err := Stop(home, KindTaskManager, syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("Stop after a timed-out start: %v", err)
	}
}

// TestNotifyReadyOnlyToAPipe: a stale or forged EnvReadyFD never makes a process write into
// some other file it has open.
func TestNotifyReadyOnlyToAPipe(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "not-a-pipe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Setenv(EnvReadyFD, "0") // restored (and so set again) at the end of the test
	if err := NotifyReady(nil); err == nil {
		t.Error("NotifyReady to descriptor 0 succeeded")
	}
	t.Setenv(EnvReadyFD, strconv.Itoa(int(f.Fd())))
	if err := NotifyReady(nil); err == nil || !strings.Contains(err.Error(), "not a pipe") {
		t.Errorf("NotifyReady to a regular file = %v, want a refusal", err)
	}
	if st, _ := f.Stat(); st.Size() != 0 {
		t.Errorf("NotifyReady wrote %d bytes into a regular file", st.Size())
	}
	os.Unsetenv(EnvReadyFD)
	if err := NotifyReady(nil); err != nil {
		t.Errorf("NotifyReady without %s = %v, want a no-op", EnvReadyFD, err)
	}
}

// TestReadyPipeRoundTrip checks the protocol with a child that reports through a shell.
func TestReadyPipeRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		script string
		want   map[string]string
		err    error
	}{
		{`echo 'READY {"rest":"http://127.0.0.1:1"}' >&$` + EnvReadyFD, map[string]string{"rest": "http://127.0.0.1:1"}, nil},
		{`exit 1`, nil, errNoReport},
		{`echo 'something else' >&$` + EnvReadyFD, nil, errNoReport},
		{`exec sleep 10`, nil, os.ErrDeadlineExceeded},
	} {
		p, err := NewReadyPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(sh, "-c", tc.script)
		p.Attach(cmd)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p.Started()
		got, err := p.Wait(time.Now().Add(300 * time.Millisecond))
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		p.Close()
		if !errors.Is(err, tc.err) || len(got) != len(tc.want) || got["rest"] != tc.want["rest"] {
			t.Errorf("%s: Wait = %v, %v; want %v, %v", tc.script, got, err, tc.want, tc.err)
		}
	}
}
