// Package tmdriver applies an autoscaler's decision: it sets the number of
// a job's TaskManagers. Local runs them as processes on this machine, each
// in a cgroup with a pod-like CPU limit and request, so that one machine
// hosts the seed demo's swing of TaskManagers under the CPU budget pods
// would have; it scales down through graceful decommission (SIGTERM: the
// TaskManager serves until the job has rescaled without it).
package tmdriver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/tide-stream/tide/internal/cgroup"
	"github.com/tide-stream/tide/internal/procs"
)

// LocalConfig configures a Local driver.
type LocalConfig struct {
	// Exe is the tide binary.
	Exe string
	// Flags are the -D flags of every TaskManager (the JobManager's
	// address, slots, ...), after `taskmanager start-foreground`.
	Flags []string
	// CPU is each TaskManager's CPU request and limit, in millicores (the
	// seed's pods: 250m and 500m). Zero: no cgroup.
	CPU cgroup.CPU
	// CgroupRoot is the cgroup file system; default /sys/fs/cgroup.
	CgroupRoot string
	// Stdout and Stderr receive the TaskManagers' output and log lines.
	Stdout, Stderr io.Writer
	// LeaveTimeout bounds a TaskManager's graceful exit on Close before it
	// is killed; default 30s.
	LeaveTimeout time.Duration
	// Env are key=value variables added to the TaskManagers' environment
	// (a TIDE_HOME of their own).
	Env []string
}

// Local runs TaskManagers as local processes. Its methods are called by
// one goroutine.
type Local struct {
	cfg   LocalConfig
	procs *procs.Cluster
	group *cgroup.Group
	// running are the TaskManagers up and not asked to leave, oldest
	// first; leaving those asked to.
	running, leaving []*procs.Child
	next             int
}

// NewLocal prepares the driver. Without access to a cgroup cpu controller
// (not root, not Linux) it says so on Stderr and runs the TaskManagers
// without CPU limits: the demo still runs, but one TaskManager may use a
// whole core.
func NewLocal(cfg LocalConfig) (*Local, error) {
	if cfg.Exe == "" {
		return nil, errors.New("tmdriver: no tide binary")
	}
	if cfg.CgroupRoot == "" {
		cfg.CgroupRoot = "/sys/fs/cgroup"
	}
	if cfg.LeaveTimeout <= 0 {
		cfg.LeaveTimeout = 30 * time.Second
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	l := &Local{cfg: cfg, procs: procs.New(cfg.Exe, "tmdriver: ", cfg.Stdout, cfg.Stderr)}
	if cfg.CPU.LimitMilli > 0 || cfg.CPU.RequestMilli > 0 {
		g, err := cgroup.Open(cfg.CgroupRoot, fmt.Sprintf("tide-%d", os.Getpid()))
		if err != nil {
			l.procs.Say("TaskManagers run without CPU limits: %v", err)
		} else {
			l.group = g
		}
	}
	return l, nil
}

// Limited says whether the TaskManagers run under CPU limits.
func (l *Local) Limited() bool { return l.group != nil }

// Count is the number of TaskManagers running and not leaving.
func (l *Local) Count() int {
	l.reap()
	return len(l.running)
}

// reap forgets the TaskManagers that exited; one that exited without
// being asked is reported.
func (l *Local) reap() {
	for _, ch := range l.procs.TakeExits() {
		if i := slices.Index(l.running, ch); i >= 0 {
			l.running = slices.Delete(l.running, i, i+1)
			l.procs.Say("%s exited (%v)", ch.Name(), ch.ExitErr())
		}
		if i := slices.Index(l.leaving, ch); i >= 0 {
			l.leaving = slices.Delete(l.leaving, i, i+1)
		}
	}
}

// Scale starts TaskManagers, and waits until they are up, or asks the
// newest to leave, until n run. It does not wait for the leaving ones to
// exit: they serve until the job has rescaled without them.
func (l *Local) Scale(ctx context.Context, n int) error {
	if n < 0 {
		return fmt.Errorf("tmdriver: scale to %d", n)
	}
	l.reap()
	var started []*procs.Child
	for len(l.running)+len(started) < n {
		l.next++
		opts := []procs.Option{procs.WithEnv(l.cfg.Env...)}
		if l.group != nil {
			opts = append(opts, procs.WithCPU(l.group, l.cfg.CPU))
		}
		ch, err := l.procs.Start(fmt.Sprintf("taskmanager-%d", l.next), append([]string{"taskmanager", "start-foreground"}, l.cfg.Flags...), opts...)
		if err != nil {
			return err
		}
		started = append(started, ch)
	}
	var errs error
	for _, ch := range started {
		if ctx.Err() != nil {
			ch.Signal(syscall.SIGKILL)
			errs = errors.Join(errs, ctx.Err())
			continue
		}
		if _, err := ch.WaitReady(); err != nil {
			ch.Signal(syscall.SIGKILL)
			errs = errors.Join(errs, err)
			continue
		}
		l.running = append(l.running, ch)
	}
	for len(l.running) > n {
		ch := l.running[len(l.running)-1]
		l.running = l.running[:len(l.running)-1]
		ch.Signal(syscall.SIGTERM)
		l.leaving = append(l.leaving, ch)
	}
	return errs
}

// Close asks every TaskManager to leave, waits up to LeaveTimeout, kills
// what is left, and removes the cgroups.
func (l *Local) Close() error {
	all := append(l.running, l.leaving...)
	for _, ch := range all {
		ch.Signal(syscall.SIGTERM)
	}
	for _, ch := range all {
		ch.Stop(l.cfg.LeaveTimeout)
	}
	l.running, l.leaving = nil, nil
	l.procs.Close()
	if l.group != nil {
		return l.group.Close()
	}
	return nil
}
