package tidetest_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

func seq(n int) []int64 {
	vs := make([]int64, n)
	for i := range vs {
		vs[i] = int64(i)
	}
	return vs
}

func TestClusterRunsBoundedJob(t *testing.T) {
	sink := tidetest.NewSink[int64]()
	vals := seq(1000)
	c := tidetest.Start(t, tidetest.Config{
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidetest.SliceSource("numbers", vals, tidetest.Rate(5000)))
			sink.To(stream.Map(src, "double", func(v int64) int64 { return 2 * v }), "collect")
			return nil
		},
		TaskManagers: 1,
	})
	c.WaitState(tidetest.Finished, 20*time.Second)
	got := sink.Values()
	slices.Sort(got)
	want := make([]int64, len(vals))
	for i, v := range vals {
		want[i] = 2 * v
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %d values %v..., want %d", len(got), got[:min(10, len(got))], len(want))
	}
}

// TestTinyBoundedJobFinishes runs bounded jobs whose sources end at once,
// before every task of the attempt has reported RUNNING: the job must still
// take its final checkpoint and finish.
func TestTinyBoundedJobFinishes(t *testing.T) {
	for i := range 5 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			sink := tidetest.NewSink[int64]()
			c := tidetest.Start(t, tidetest.Config{
				Job: func(env *stream.Env, _ []string) error {
					src := stream.FromSource(env, tidetest.SliceSource("numbers", seq(3)))
					sink.To(src.Rebalance(), "collect")
					return nil
				},
				TaskManagers: 1,
				Slots:        3,
			})
			c.WaitState(tidetest.Finished, 3*time.Second)
			if n := sink.Len(); n != 3 {
				t.Fatalf("committed %d records, want 3", n)
			}
		})
	}
}
