package tidetest_test

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// TestSimulatedClusterRunsBoundedJob runs TestClusterRunsBoundedJob's job
// on a simulated cluster inside a synctest bubble: on virtual time the
// 200ms the source takes at its rate pass without waiting, and
// synctest.Test fails if the cluster leaves a goroutine behind.
func TestSimulatedClusterRunsBoundedJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := tidetest.NewSink[int64]()
		vals := seq(1000)
		start := time.Now()
		c := tidetest.Start(t, tidetest.Config{
			Job: func(env *stream.Env, _ []string) error {
				src := stream.FromSource(env, tidetest.SliceSource("numbers", vals, tidetest.Rate(5000)))
				sink.To(stream.Map(src, "double", func(v int64) int64 { return 2 * v }), "collect")
				return nil
			},
			TaskManagers: 2,
			Simulated:    true,
		})
		c.WaitState(tidetest.Finished, 20*time.Second)
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Errorf("the job finished after %v of virtual time; its source alone takes 200ms", d)
		}
		got := sink.Values()
		slices.Sort(got)
		want := make([]int64, len(vals))
		for i, v := range vals {
			want[i] = 2 * v
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %d values %v..., want %d", len(got), got[:min(10, len(got))], len(want))
		}
		c.Stop()
	})
}
