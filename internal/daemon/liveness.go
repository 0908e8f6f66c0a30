//go:build unix

package daemon

import (
	"errors"
	"syscall"
)

// verdict is what a pid file's record says about the process it names, now.
type verdict int

const (
	// gone: no such process, a zombie, or the pid now belongs to a process that started at
	// another time than the recorded one (the pid was reused). The pid file is stale.
	gone verdict = iota
	// ours: the process is running and its start time is the recorded one.
	ours
	// unverified: a process with that pid is running, but nothing proves it is the one the
	// pid file was written for: the record has no start time, or this platform (or /proc's
	// mount options) does not report the process's start time. It must not be signalled.
	unverified
)

// check tells whether pid names the process recorded with start time wantStart (0: unknown).
// Only [ours] proves identity; a pid alone never does, since pids are reused.
func check(pid int, wantStart uint64) verdict {
	if pid <= 0 {
		return gone
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return gone // ESRCH
	}
	st, ok := procStat(pid)
	if !ok {
		// It may have exited between the two calls; otherwise its start time is unknown.
		if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
			return gone
		}
		return unverified
	}
	switch {
	case st.zombie:
		return gone
	case wantStart == 0 || st.start == 0:
		return unverified
	case st.start != wantStart:
		return gone
	}
	return ours
}

// alive reports whether pid is running and proven to be the process recorded with start time
// wantStart: an unverifiable process does not count.
func alive(pid int, wantStart uint64) bool { return check(pid, wantStart) == ours }

// exists reports whether some process (not a zombie) has pid, whoever it is.
func exists(pid int) bool { return check(pid, 0) != gone }

// procStartTime returns the start time of pid, if the platform reports it.
func procStartTime(pid int) (uint64, bool) {
	st, ok := procStat(pid)
	if !ok || st.start == 0 {
		return 0, false
	}
	return st.start, true
}

// stat is what liveness needs from the operating system about a process.
type stat struct {
	zombie bool   // exited but not reaped (Linux state Z or X, BSD SZOMB)
	start  uint64 // start time in a platform-specific unit; see procStat. 0: unknown
}
