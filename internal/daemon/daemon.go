//go:build unix

package daemon

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Kind names a kind of Tide process. It is part of pid and log file names, so it may only
// contain lower-case ASCII letters and digits.
type Kind string

// The kinds of process the CLI daemonizes.
const (
	// KindStandaloneJob is the JobManager started by `tide standalone-job start`.
	KindStandaloneJob Kind = "standalonejob"
	// KindTaskManager is a TaskManager started by `tide taskmanager start`.
	KindTaskManager Kind = "taskmanager"
)

// EnvPIDFile is the environment variable through which [Start] tells the re-executed process
// which pid file it has already written for it, so that [Register] adopts that entry.
const EnvPIDFile = "TIDE_DAEMON_PID_FILE"

// Process describes one instance of a kind on this host.
type Process struct {
	// PID is the operating system process id.
	PID int
	// Log is the file receiving the daemon's standard error (its slog output); empty for a
	// process registered in the foreground.
	Log string
	// Out is the file receiving the daemon's standard output; empty for a foreground process.
	Out string
	// Index numbers the instances of a kind; a higher index was started later.
	Index int
	// StopTimeout is how long the process said it may take to exit after SIGTERM (see
	// [RecordStopTimeout]); 0 if it did not say.
	StopTimeout time.Duration
}

// ErrNotRunning is wrapped by errors of [Stop] and [StopAll] when no instance is running.
var ErrNotRunning = errors.New("daemon: not running")

// ErrStillRunning is wrapped by errors of [Stop] and [StopAll] when a signalled process has not
// exited within the wait.
var ErrStillRunning = errors.New("daemon: still running")

// NotRunningError reports that no instance of Kind is running in Home, or none that can be
// proven to be one. It matches [ErrNotRunning] with errors.Is.
type NotRunningError struct {
	Kind Kind
	Home string
	// Unverified counts pid files naming a running process that could not be proven to be the
	// one recorded, and so was not signalled.
	Unverified int
}

func (e *NotRunningError) Error() string {
	if e.Unverified > 0 {
		return fmt.Sprintf("no %s running in %s that can be verified (%d pid file(s) name a running "+
			"process of unknown identity, not signalled)", e.Kind, e.Home, e.Unverified)
	}
	return fmt.Sprintf("no %s running in %s", e.Kind, e.Home)
}

// Is reports whether target is [ErrNotRunning].
func (e *NotRunningError) Is(target error) bool { return target == ErrNotRunning }

// StartOptions adjusts [StartWithOptions].
type StartOptions struct {
	// Executable is the binary to run. Default: os.Executable(), i.e. the running binary.
	Executable string
	// Env is appended to the current environment of the child (entries later in the list win,
	// as with exec.Cmd). Default: none.
	Env []string
	// ReadyTimeout bounds the wait for the child to report that it is up. Default:
	// [DefaultReadyTimeout].
	ReadyTimeout time.Duration
}

// Started is a daemon that [Start] saw come up.
type Started struct {
	Process
	// Ready holds the details the process reported when it came up (see [NotifyReady]).
	Ready map[string]string
}

// Start daemonizes one instance of kind: it re-executes the running binary with
// foregroundArgs (e.g. ["taskmanager", "start-foreground", "-Dkey=value"]) in a new session,
// with stdin from /dev/null and stdout/stderr appended to the instance's .out/.log files under
// home/log, records its pid under home/pids, and waits until the process reports that it is up
// ([NotifyReady]) or exits. If it exits first, or does not report within the timeout, the error
// is a [*StartError] with the end of its log; a process that exited has no pid file left, one
// that timed out keeps running.
func Start(home string, kind Kind, foregroundArgs []string) (Started, error) {
	return StartWithOptions(home, kind, foregroundArgs, StartOptions{})
}

// StartWithOptions is [Start] with the executable, extra environment and timeout adjustable.
func StartWithOptions(home string, kind Kind, foregroundArgs []string, opts StartOptions) (Started, error) {
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	exe := opts.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return Started{}, fmt.Errorf("start %s: find own executable: %w", kind, err)
		}
	}
	host, err := hostname()
	if err != nil {
		return Started{}, fmt.Errorf("start %s: %w", kind, err)
	}
	r, err := openRegistry(home, kind)
	if err != nil {
		return Started{}, fmt.Errorf("start %s: %w", kind, err)
	}
	logDir := filepath.Join(r.home, "log")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return Started{}, fmt.Errorf("start %s: create log directory: %w", kind, err)
	}
	ready, err := NewReadyPipe()
	if err != nil {
		return Started{}, fmt.Errorf("start %s: %w", kind, err)
	}
	defer ready.Close()

	var p Process
	var proc *os.Process
	var pidFile string
	err = r.locked(func() error {
		l, err := r.listLocked()
		if err != nil {
			return err
		}
		p.Index = l.nextIndex()
		base := fmt.Sprintf("tide-%s-%d-%s", kind, p.Index, host)
		p.Log = filepath.Join(logDir, base+".log")
		p.Out = filepath.Join(logDir, base+".out")
		pidFile = r.pidFile(p.Index)

		proc, err = spawn(exe, foregroundArgs, append(opts.Env, EnvPIDFile+"="+pidFile), p.Log, p.Out, ready)
		if err != nil {
			return err
		}
		p.PID = proc.Pid
		// The child's Register blocks on our lock until the pid file exists, so it always
		// finds and adopts it.
		rec := record{PID: p.PID, Log: p.Log, Out: p.Out}
		rec.Start, _ = procStartTime(p.PID)
		if err := writePIDFile(pidFile, rec); err != nil {
			// An unrecorded daemon could never be stopped by `stop`; do not leave it behind.
			_ = proc.Kill()
			_, _ = proc.Wait()
			return fmt.Errorf("record pid %d: %w", p.PID, err)
		}
		return nil
	})
	if err != nil {
		return Started{}, fmt.Errorf("start %s in %s: %w", kind, r.home, err)
	}

	// Not under the lock: the child takes it to register.
	deadline := time.Now().Add(opts.ReadyTimeout)
	details, err := ready.Wait(deadline)
	if err == nil {
		// Nobody in this process waits for the daemon; the CLI exits and init reaps it.
		_ = proc.Release()
		return Started{Process: p, Ready: details}, nil
	}
	serr := &StartError{Kind: kind, Process: p}
	if errors.Is(err, errNoReport) {
		serr.Exit = reap(proc.Pid, deadline)
	}
	_ = proc.Release()
	if serr.Exit == "" {
		serr.Timeout = opts.ReadyTimeout
	} else {
		// It may have died before it could remove its own entry.
		_ = r.locked(func() error { return r.removeIfPIDLocked(pidFile, p.PID) })
	}
	serr.LogTail = tail(p.Log)
	return Started{}, fmt.Errorf("start %s in %s: %w", kind, r.home, serr)
}

// reap waits until deadline for our child pid to exit and reaps it. It returns how it ended
// ("exit status 1", "signal: killed"), or "" if it is still running at the deadline.
func reap(pid int, deadline time.Time) string {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			return fmt.Sprintf("exit status unknown: %v", err)
		case got == pid && ws.Exited():
			return fmt.Sprintf("exit status %d", ws.ExitStatus())
		case got == pid && ws.Signaled():
			return fmt.Sprintf("killed by signal %v", ws.Signal())
		}
		if !time.Now().Before(deadline) {
			return ""
		}
		<-tick.C
	}
}

// spawn starts exe detached, passing it the write end of ready. Its stdout and stderr go to
// outPath and logPath, rotated first.
func spawn(exe string, args, extraEnv []string, logPath, outPath string, ready *ReadyPipe) (*os.Process, error) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer devNull.Close()
	logF, err := openRotated(logPath)
	if err != nil {
		return nil, err
	}
	defer logF.Close()
	outF, err := openRotated(outPath)
	if err != nil {
		return nil, err
	}
	defer outF.Close()

	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Stdin = devNull
	cmd.Stdout = outF
	cmd.Stderr = logF
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	ready.Attach(cmd)
	err = cmd.Start()
	ready.Started()
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", exe, err)
	}
	return cmd.Process, nil
}

// Register records the current process as a running instance of kind, so that [Stop] and
// [StopAll] find it. The returned release removes the entry; call it (typically deferred) when
// the process shuts down. release is idempotent and safe to call from any goroutine.
//
// If the process was started by [Start], Register adopts the entry [Start] wrote.
func Register(home string, kind Kind) (release func(), err error) {
	r, err := openRegistry(home, kind)
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", kind, err)
	}
	pid := os.Getpid()
	var path string
	err = r.locked(func() error {
		if adopted := os.Getenv(EnvPIDFile); adopted != "" && r.owns(adopted) {
			if rec, err := readPIDFile(adopted); err == nil && rec.PID == pid {
				path = adopted
				return nil
			}
		}
		l, err := r.listLocked()
		if err != nil {
			return err
		}
		rec := record{PID: pid}
		rec.Start, _ = procStartTime(pid)
		path = r.pidFile(l.nextIndex())
		return writePIDFile(path, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("register %s pid %d in %s: %w", kind, pid, r.home, err)
	}
	release = sync.OnceFunc(func() {
		// Best effort: a stale entry left by a failure here is removed by the next Running.
		_ = r.locked(func() error { return r.removeIfPIDLocked(path, pid) })
	})
	return release, nil
}

// RecordStopTimeout notes in the current process's pid file (written by [Register] or
// [Start]) that it may take up to d to exit after SIGTERM, so that `stop` can say how long it
// will wait and wait long enough. A TaskManager declares its taskmanager.decommission.timeout.
func RecordStopTimeout(home string, kind Kind, d time.Duration) error {
	r, err := openRegistry(home, kind)
	if err != nil {
		return fmt.Errorf("record stop timeout: %w", err)
	}
	pid := os.Getpid()
	err = r.locked(func() error {
		l, err := r.listLocked()
		if err != nil {
			return err
		}
		for _, in := range l.live {
			if in.PID != pid {
				continue
			}
			rec, err := readPIDFile(in.path)
			if err != nil {
				return err
			}
			rec.StopTimeout = d
			return writePIDFile(in.path, rec)
		}
		return fmt.Errorf("no pid file names pid %d", pid)
	})
	if err != nil {
		return fmt.Errorf("record stop timeout of %s pid %d in %s: %w", kind, pid, r.home, err)
	}
	return nil
}
