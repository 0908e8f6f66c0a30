//go:build darwin

package daemon

import "golang.org/x/sys/unix"

// szomb is p_stat of a zombie (sys/proc.h SZOMB).
const szomb = 5

// procStat asks the kernel (sysctl kern.proc.pid) for pid's state and start time, in
// microseconds since the epoch. It returns false if the process cannot be looked up.
func procStat(pid int) (stat, bool) {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || int(kp.Proc.P_pid) != pid {
		return stat{}, false
	}
	tv := kp.Proc.P_starttime
	start := uint64(tv.Sec)*1e6 + uint64(tv.Usec)
	return stat{zombie: kp.Proc.P_stat == szomb, start: start}, true
}
