package metrics

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// CPU is what a process may use and has used of the CPU, as a Kubernetes
// HorizontalPodAutoscaler sees a pod: its limit in cores (the cgroup's CPU
// quota, cgroup v2 cpu.max or v1 cpu.cfs_quota_us, else the machine's
// cores) and the CPU time it used.
type CPU struct {
	// root is the cgroup file system's mount point (a test sets another).
	root string
	// proc is the process's cgroup membership file.
	proc string
}

// NewCPU reads the calling process's cgroup.
func NewCPU() *CPU { return &CPU{root: "/sys/fs/cgroup", proc: "/proc/self/cgroup"} }

// Seconds is the CPU time the process used, user and system.
func (c *CPU) Seconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// LimitCores is the CPU the process may use, in cores: its cgroup's quota
// over its period, or the machine's cores when the cgroup sets none (or
// cannot be read).
func (c *CPU) LimitCores() float64 {
	if q, err := c.quota(); err == nil && q > 0 {
		return q
	}
	return float64(runtime.NumCPU())
}

// quota returns the cgroup's CPU quota in cores, 0 for none.
func (c *CPU) quota() (float64, error) {
	paths, err := c.cgroups()
	if err != nil {
		return 0, err
	}
	if p, ok := paths[""]; ok { // cgroup v2
		b, err := os.ReadFile(filepath.Join(c.root, p, "cpu.max"))
		if err == nil {
			return parseCPUMax(string(b))
		}
		if !errors.Is(err, os.ErrNotExist) {
			return 0, err
		}
	}
	for ctrl, p := range paths { // cgroup v1: the cpu controller, mounted as cpu or cpu,cpuacct
		if !strings.Contains(","+ctrl+",", ",cpu,") {
			continue
		}
		for _, dir := range []string{filepath.Join(c.root, "cpu", p), filepath.Join(c.root, ctrl, p)} {
			quota, err1 := readInt(filepath.Join(dir, "cpu.cfs_quota_us"))
			period, err2 := readInt(filepath.Join(dir, "cpu.cfs_period_us"))
			if err1 == nil && err2 == nil {
				if quota <= 0 || period <= 0 {
					return 0, nil
				}
				return float64(quota) / float64(period), nil
			}
		}
	}
	return 0, nil
}

// cgroups maps the process's controllers ("" for cgroup v2) to its cgroup
// paths.
func (c *CPU) cgroups() (map[string]string, error) {
	f, err := os.Open(c.proc)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) == 3 {
			out[parts[1]] = parts[2]
		}
	}
	return out, sc.Err()
}

// parseCPUMax parses cgroup v2's cpu.max: "max 100000" (no limit) or
// "50000 100000" (half a core).
func parseCPUMax(s string) (float64, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, fmt.Errorf("cpu.max %q: want two fields", s)
	}
	if f[0] == "max" {
		return 0, nil
	}
	q, err1 := strconv.ParseInt(f[0], 10, 64)
	p, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || p <= 0 {
		return 0, fmt.Errorf("cpu.max %q: not a quota and a period", s)
	}
	return float64(q) / float64(p), nil
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}
