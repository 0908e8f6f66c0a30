//go:build unix

package daemon

import (
	"errors"
	"syscall"
)

// alive reports whether pid names a live process. wantStart, when non-zero, is the start time
// recorded with the pid; a different start time means the pid now belongs to another process.
func alive(pid int, wantStart uint64) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false // ESRCH: gone.
	}
	st, ok := procStat(pid)
	if !ok {
		return true // No /proc (or it raced with the exit): trust kill(2).
	}
	if st.zombie {
		return false
	}
	return wantStart == 0 || st.start == 0 || st.start == wantStart
}

// procStartTime returns the start time of pid in clock ticks, if the platform reports it.
func procStartTime(pid int) (uint64, bool) {
	st, ok := procStat(pid)
	if !ok {
		return 0, false
	}
	return st.start, true
}

// stat is what liveness needs from /proc/<pid>/stat.
type stat struct {
	zombie bool   // state Z (zombie) or X (dead)
	start  uint64 // field 22, starttime, in clock ticks since boot
}
