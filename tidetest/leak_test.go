package tidetest_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// tideGoroutines returns the stacks of live goroutines running Tide code,
// other than this test's.
func tideGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "tide-stream/tide/internal/") || strings.Contains(g, "tide-stream/tide/tidetest.") {
			if !strings.Contains(g, "TestStopLeavesNoGoroutines") {
				out = append(out, g)
			}
		}
	}
	return out
}

// TestStopLeavesNoGoroutines stops a cluster in the middle of a job, with a
// TaskManager killed and one leaving, and requires that no goroutine of
// the runtime outlives Stop.
func TestStopLeavesNoGoroutines(t *testing.T) {
	c := tidetest.Start(t, tidetest.Config{
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidetest.SliceSource("numbers", seq(100000), tidetest.Rate(5000)))
			stream.Discard(stream.Map(src.Rebalance(), "id", func(v int64) int64 { return v }))
			return nil
		},
		TaskManagers:       3,
		CheckpointInterval: 100 * time.Millisecond,
	})
	c.WaitParallelism(3, 20*time.Second)
	c.WaitCheckpoints(1, 20*time.Second)
	c.TaskManagers()[0].Kill()
	c.TaskManagers()[1].Leave()
	c.Stop()
	// Goroutines that were told to stop may need a moment to unwind after
	// Stop returned (gRPC's own, say); Tide's must be gone.
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	left := tideGoroutines()
	for len(left) > 0 {
		select {
		case <-deadline:
			t.Fatalf("%d goroutines of the runtime outlived Stop; the first:\n%s", len(left), left[0])
		case <-tick.C:
			left = tideGoroutines()
		}
	}
}
