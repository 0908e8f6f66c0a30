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

// instance is an entry of the registry whose process is running.
type instance struct {
	Process
	start uint64 // recorded start time, see record.Start
	path  string // its pid file
}

// Skipped is a pid file that a listing did not count as a running instance: either it was
// stale and has been removed, or it names a running process that cannot be proven to be the
// one the file was written for, which is never signalled and whose file is kept.
type Skipped struct {
	// Path is the pid file.
	Path string
	// PID is the pid it names; 0 if the file could not be read.
	PID int
	// Removed is true for a stale file that has been deleted; false for a kept one.
	Removed bool
	// Reason says why, as a clause: "pid 42 is not running".
	Reason string
}

func (s Skipped) String() string {
	if s.Removed {
		return fmt.Sprintf("removed stale pid file %s: %s", s.Path, s.Reason)
	}
	return fmt.Sprintf("not signalling pid %d named by %s: %s; if that process is not a Tide daemon of this "+
		"TIDE_HOME, delete the pid file", s.PID, s.Path, s.Reason)
}

// listing is the registry's content, sorted by index.
type listing struct {
	live       []instance // running, proven ours: these may be signalled
	unverified []instance // running, not proven ours: never signalled, files kept
	skipped    []Skipped  // unverified ones, and stale files removed by the listing
}

// nextIndex is the index for a new instance: one more than the highest index of any instance
// that may be running, verified or not, so that no running process's log file is reused.
func (l listing) nextIndex() int {
	n := 0
	for _, in := range l.live {
		n = max(n, in.Index)
	}
	for _, in := range l.unverified {
		n = max(n, in.Index)
	}
	return n + 1
}

// listLocked reads every pid file of r's kind, removing stale ones: unreadable files, and
// those whose process has exited or whose pid now names a process started at another time.
// The caller holds the lock.
func (r *registry) listLocked() (listing, error) {
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		return listing{}, fmt.Errorf("list pid files: %w", err)
	}
	var l listing
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
		var reason string
		if err != nil {
			reason = err.Error()
		} else {
			in := instance{
				Process: Process{PID: rec.PID, Log: rec.Log, Out: rec.Out, Index: idx, StopTimeout: rec.StopTimeout},
				start:   rec.Start,
				path:    path,
			}
			switch check(rec.PID, rec.Start) {
			case ours:
				l.live = append(l.live, in)
				continue
			case unverified:
				why := "the pid file records no start time, so the process may not be the one it was written for"
				if rec.Start != 0 {
					why = "this system does not report the process's start time, so it cannot be matched with the recorded one"
				}
				l.unverified = append(l.unverified, in)
				l.skipped = append(l.skipped, Skipped{Path: path, PID: rec.PID, Reason: fmt.Sprintf("pid %d is running but %s", rec.PID, why)})
				continue
			}
			reason = fmt.Sprintf("pid %d is not running", rec.PID)
			if rec.Start != 0 && exists(rec.PID) {
				reason = fmt.Sprintf("pid %d now belongs to another process (its start time differs from the recorded one)", rec.PID)
			}
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return listing{}, fmt.Errorf("remove stale pid file: %w", err)
		}
		l.skipped = append(l.skipped, Skipped{Path: path, PID: rec.PID, Removed: true, Reason: reason})
	}
	byIndex := func(a, b instance) int { return a.Index - b.Index }
	slices.SortFunc(l.live, byIndex)
	slices.SortFunc(l.unverified, byIndex)
	return l, nil
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

// Running returns the running instances of kind in home that are proven to be the processes
// their pid files were written for, oldest first. Stale pid files are removed.
func Running(home string, kind Kind) ([]Process, error) {
	r, err := openRegistry(home, kind)
	if err != nil {
		return nil, fmt.Errorf("list running %s: %w", kind, err)
	}
	l, err := r.list()
	if err != nil {
		return nil, err
	}
	return processes(l.live), nil
}

// list takes the lock and lists the registry.
func (r *registry) list() (listing, error) {
	var l listing
	err := r.locked(func() error {
		var err error
		l, err = r.listLocked()
		return err
	})
	if err != nil {
		return listing{}, fmt.Errorf("list %s in %s: %w", r.kind, r.home, err)
	}
	return l, nil
}

func processes(ins []instance) []Process {
	procs := make([]Process, len(ins))
	for i, in := range ins {
		procs[i] = in.Process
	}
	return procs
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
