//go:build unix && !linux

package daemon

// procStat is unavailable without /proc; liveness then relies on kill(pid, 0) alone, which
// counts a zombie as alive.
func procStat(int) (stat, bool) { return stat{}, false }
