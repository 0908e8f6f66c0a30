package procsample

import (
	"testing"

	"github.com/tide-stream/tide/internal/metrics"
)

// TestSample reads this process: it has used CPU, holds a heap, runs
// goroutines, and its limit is -1 or positive.
func TestSample(t *testing.T) {
	s := Sample(metrics.NewCPU())
	if s.CPUNs <= 0 || s.HeapUsed <= 0 || s.HeapCommitted < s.HeapUsed || s.NonHeapCommitted <= 0 || s.Goroutines < 1 {
		t.Fatalf("sample %+v", s)
	}
	if l := MemoryLimit(); l != -1 && l <= 0 {
		t.Fatalf("MemoryLimit = %d", l)
	}
	if PhysicalMemory() < 0 {
		t.Fatal("negative physical memory")
	}
}
