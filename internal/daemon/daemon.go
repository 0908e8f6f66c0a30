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
}

// Start daemonizes one instance of kind: it re-executes the running binary with
// foregroundArgs (e.g. ["taskmanager", "start-foreground", "-Dkey=value"]) in a new session,
// with stdin from /dev/null and stdout/stderr appended to the instance's .out/.log files under
// home/log, and records its pid under home/pids. It returns as soon as the process has been
// started; it does not wait for it to become healthy.
func Start(home string, kind Kind, foregroundArgs []string) (Process, error) {
	return StartWithOptions(home, kind, foregroundArgs, StartOptions{})
}

// StartWithOptions is [Start] with the executable and extra environment adjustable.
func StartWithOptions(home string, kind Kind, foregroundArgs []string, opts StartOptions) (Process, error) {
	exe := opts.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return Process{}, fmt.Errorf("start %s: find own executable: %w", kind, err)
		}
	}
	host, err := hostname()
	if err != nil {
		return Process{}, fmt.Errorf("start %s: %w", kind, err)
	}
	r, err := openRegistry(home, kind)
	if err != nil {
		return Process{}, fmt.Errorf("start %s: %w", kind, err)
	}
	logDir := filepath.Join(r.home, "log")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return Process{}, fmt.Errorf("start %s: create log directory: %w", kind, err)
	}

	var p Process
	err = r.locked(func() error {
		l, err := r.listLocked()
		if err != nil {
			return err
		}
		p.Index = l.nextIndex()
		base := fmt.Sprintf("tide-%s-%d-%s", kind, p.Index, host)
		p.Log = filepath.Join(logDir, base+".log")
		p.Out = filepath.Join(logDir, base+".out")
		pidFile := r.pidFile(p.Index)

		p.PID, err = spawn(exe, foregroundArgs, append(opts.Env, EnvPIDFile+"="+pidFile), p.Log, p.Out)
		if err != nil {
			return err
		}
		// The child's Register blocks on our lock until the pid file exists, so it always
		// finds and adopts it.
		rec := record{PID: p.PID, Log: p.Log, Out: p.Out}
		rec.Start, _ = procStartTime(p.PID)
		if err := writePIDFile(pidFile, rec); err != nil {
			// An unrecorded daemon could never be stopped by `stop`; do not leave it behind.
			_ = syscall.Kill(p.PID, syscall.SIGKILL)
			return fmt.Errorf("record pid %d: %w", p.PID, err)
		}
		return nil
	})
	if err != nil {
		return Process{}, fmt.Errorf("start %s in %s: %w", kind, r.home, err)
	}
	return p, nil
}

// spawn starts exe detached and returns its pid. Its stdout and stderr go to outPath and
// logPath, rotated first.
func spawn(exe string, args, extraEnv []string, logPath, outPath string) (int, error) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer devNull.Close()
	logF, err := openRotated(logPath)
	if err != nil {
		return 0, err
	}
	defer logF.Close()
	outF, err := openRotated(outPath)
	if err != nil {
		return 0, err
	}
	defer outF.Close()

	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Stdin = devNull
	cmd.Stdout = outF
	cmd.Stderr = logF
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("exec %s: %w", exe, err)
	}
	pid := cmd.Process.Pid
	// Nobody in this process waits for the daemon; the CLI exits right away and init reaps it.
	if err := cmd.Process.Release(); err != nil {
		return 0, fmt.Errorf("release pid %d: %w", pid, err)
	}
	return pid, nil
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
