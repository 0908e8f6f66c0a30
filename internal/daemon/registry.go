//go:build unix

package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// registry is the set of pid files of one kind under one TIDE_HOME. It holds no open files; each
// locked call opens and flocks the lock file anew, so concurrent callers in one process exclude
// each other just as separate processes do (flock locks belong to the open file description).
type registry struct {
	home string // absolute TIDE_HOME
	dir  string // home/pids
	kind Kind
}

func openRegistry(home string, kind Kind) (*registry, error) {
	if err := kind.validate(); err != nil {
		return nil, err
	}
	if home == "" {
		return nil, errors.New("daemon: empty TIDE_HOME")
	}
	abs, err := filepath.Abs(home)
	if err != nil {
		return nil, fmt.Errorf("resolve TIDE_HOME %q: %w", home, err)
	}
	dir := filepath.Join(abs, "pids")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create pid directory: %w", err)
	}
	return &registry{home: abs, dir: dir, kind: kind}, nil
}

func (k Kind) validate() error {
	if k == "" {
		return errors.New("daemon: empty kind")
	}
	for _, c := range k {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return fmt.Errorf("daemon: invalid kind %q: only a-z and 0-9 allowed", string(k))
		}
	}
	return nil
}

// locked runs fn while holding the kind's lock file exclusively.
func (r *registry) locked(fn func() error) error {
	path := filepath.Join(r.dir, string(r.kind)+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open lock file: %w", err)
	}
	defer f.Close() // Closing the last descriptor also drops the lock.
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	return fn()
}

func (r *registry) pidFile(index int) string {
	return filepath.Join(r.dir, fmt.Sprintf("%s-%d.pid", r.kind, index))
}

// indexOf returns the index encoded in a pid file's base name, or false if the name is not a
// pid file of r's kind.
func (r *registry) indexOf(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, string(r.kind)+"-")
	if !ok {
		return 0, false
	}
	digits, ok := strings.CutSuffix(rest, ".pid")
	if !ok || digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// owns reports whether path is one of r's pid files.
func (r *registry) owns(path string) bool {
	if filepath.Dir(path) != r.dir {
		return false
	}
	_, ok := r.indexOf(filepath.Base(path))
	return ok
}

// instance is a live entry of the registry.
type instance struct {
	Process
	start uint64 // recorded start time, see record.Start
	path  string // its pid file
}

// liveLocked returns the live instances, oldest first, removing the pid files of dead ones and
// unreadable ones. The caller holds the lock.
func (r *registry) liveLocked() ([]instance, error) {
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		return nil, fmt.Errorf("list pid files: %w", err)
	}
	var live []instance
	for _, e := range entries {
		idx, ok := r.indexOf(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(r.dir, e.Name())
		rec, err := readPIDFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil && alive(rec.PID, rec.Start) {
			live = append(live, instance{
				Process: Process{PID: rec.PID, Log: rec.Log, Out: rec.Out, Index: idx},
				start:   rec.Start,
				path:    path,
			})
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove stale pid file: %w", err)
		}
	}
	slices.SortFunc(live, func(a, b instance) int { return a.Index - b.Index })
	return live, nil
}

// removeIfPIDLocked removes the pid file at path if it still names pid. The caller holds the lock.
func (r *registry) removeIfPIDLocked(path string, pid int) error {
	rec, err := readPIDFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil && rec.PID != pid {
		return nil // The index has been reused by a newer instance.
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove pid file: %w", err)
	}
	return nil
}

// nextIndex returns the index for a new instance: one more than the newest live one.
func nextIndex(live []instance) int {
	if len(live) == 0 {
		return 1
	}
	return live[len(live)-1].Index + 1
}

// Running returns the live instances of kind in home, oldest first. Pid files of processes that
// have exited are removed.
func Running(home string, kind Kind) ([]Process, error) {
	r, err := openRegistry(home, kind)
	if err != nil {
		return nil, fmt.Errorf("list running %s: %w", kind, err)
	}
	var live []instance
	err = r.locked(func() error {
		live, err = r.liveLocked()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list running %s in %s: %w", kind, r.home, err)
	}
	procs := make([]Process, len(live))
	for i, in := range live {
		procs[i] = in.Process
	}
	return procs, nil
}

func hostname() (string, error) {
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("hostname: %w", err)
	}
	if h == "" {
		return "localhost", nil
	}
	return strings.Map(func(c rune) rune {
		if c == '/' || c == os.PathSeparator || c < ' ' {
			return '_'
		}
		return c
	}, h), nil
}
