//go:build unix

package daemon

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestLifelineTellsTheChild: the child notices that the other end of its lifeline is gone, as
// when its parent dies, without the parent-death signal.
func TestLifelineTellsTheChild(t *testing.T) {
	l, err := NewLifeline()
	if err != nil {
		t.Fatal(err)
	}
	ready, err := NewReadyPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer ready.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0", envChild+"=1", envWatch+"=1")
	cmd.Stderr = os.Stderr
	l.Attach(cmd)
	clearParentDeathSignal(cmd.SysProcAttr) // test the second line alone
	ready.Attach(cmd)
	err = cmd.Start()
	l.Started()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killAndReap(cmd.Process.Pid) })
	if _, err := ready.Wait(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatalf("child not up: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("child ended with %v, want exit status 7 (it noticed its parent gone)", err)
	}
}

// TestWatchParentStop: stop ends the watch without calling gone, and without it nothing
// happens.
func TestWatchParentStop(t *testing.T) {
	if stop, err := WatchParent(func() { t.Error("gone called without a lifeline") }); err != nil {
		t.Fatal(err)
	} else {
		stop()
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	fd, err := syscall.Dup(int(r.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvLifelineFD, strconv.Itoa(fd))
	stop, err := WatchParent(func() { t.Error("gone called after stop") })
	if err != nil {
		t.Fatal(err)
	}
	if _, set := os.LookupEnv(EnvLifelineFD); set {
		t.Errorf("%s still set", EnvLifelineFD)
	}
	stop()
	stop() // idempotent
	w.Close()
}
