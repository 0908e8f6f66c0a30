//go:build unix && !linux && !darwin

package daemon

// procStat is not implemented here: without a process start time no pid file can be
// verified, so [Stop] and [StopAll] refuse to signal and say so.
func procStat(int) (stat, bool) { return stat{}, false }
