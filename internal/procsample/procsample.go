// Package procsample reads the calling process's CPU time and Go runtime
// memory, which the REST API serves as a process's metrics in Flink's
// names: TaskManagers send a sample to the JobManager every second, the
// JobManager samples itself when asked.
package procsample

import (
	"bufio"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/tide-stream/tide/internal/metrics"
	"github.com/tide-stream/tide/internal/rpc"
)

// Sample reads the process's CPU time (from cpu) and memory. It stops the
// world briefly (runtime.ReadMemStats): call it about once a second, not
// per record.
func Sample(cpu *metrics.CPU) *rpc.ProcessSample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return &rpc.ProcessSample{
		CPUNs:            int64(cpu.Seconds() * 1e9),
		HeapUsed:         int64(ms.HeapAlloc),
		HeapCommitted:    int64(ms.HeapSys - ms.HeapReleased),
		NonHeapUsed:      int64(ms.StackInuse + ms.MSpanInuse + ms.MCacheInuse + ms.BuckHashSys + ms.GCSys + ms.OtherSys),
		NonHeapCommitted: int64(ms.Sys - ms.HeapSys),
		MemoryLimit:      MemoryLimit(),
		GCCount:          int64(ms.NumGC),
		GCPauseNs:        int64(ms.PauseTotalNs),
		Goroutines:       int64(runtime.NumGoroutine()),
	}
}

// MemoryLimit is the Go memory limit (GOMEMLIMIT), -1 when none is set.
func MemoryLimit() int64 {
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		return l
	}
	return -1
}

// PhysicalMemory is the machine's memory in bytes from /proc/meminfo, 0
// when it cannot be read (not Linux).
func PhysicalMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}
