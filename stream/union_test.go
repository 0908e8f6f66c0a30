package stream_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// disturbances are the three ways the simulated multi-input tests run a
// job: straight, rescaled from 2 to 3 (a TaskManager joins) and through a
// TaskManager crash after a completed checkpoint. Each must give the
// output of the straight run.
var disturbances = []struct {
	name    string
	disturb func(t *testing.T, c *tidetest.Cluster, r *rand.Rand)
}{
	{"straight", func(*testing.T, *tidetest.Cluster, *rand.Rand) {}},
	{"rescaled", func(t *testing.T, c *tidetest.Cluster, r *rand.Rand) {
		c.AddTaskManager()
		c.WaitParallelism(3, timeout)
	}},
	{"crashed", func(t *testing.T, c *tidetest.Cluster, r *rand.Rand) {
		c.TaskManagers()[r.IntN(2)].Crash()
	}},
}

// TestUnionOfTwoSources unions two sources, one of them at parallelism 1
// (its edge into the union spreads), and requires every record of both
// exactly once, straight, rescaled and through a crash.
func TestUnionOfTwoSources(t *testing.T) {
	for _, tc := range disturbances {
		t.Run(tc.name, func(t *testing.T) {
			simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
				as, bs := numbers(4000), numbers(3000)
				for i := range bs {
					bs[i] = -1 - bs[i]
				}
				sink := tidetest.NewSink[string]()
				c := tidetest.Start(t, tidetest.Config{
					Job: func(env *stream.Env, _ []string) error {
						a := stream.FromSource(env, tidetest.SliceSource("a", as, tidetest.Splits(numSplits), tidetest.Rate(2000)))
						b := stream.FromSource(env, tidetest.SliceSource("b", bs, tidetest.Splits(numSplits), tidetest.Rate(1500)), stream.Parallelism(1))
						sink.To(stream.Map(stream.Union(a, b), "format", itoa), "collect")
						return nil
					},
					TaskManagers:       2,
					CheckpointInterval: 100 * time.Millisecond,
					Simulated:          true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
				})
				c.WaitParallelism(2, timeout)
				c.WaitCheckpoints(1, timeout)
				pause(r)
				requireUnfinished(t, sink, as)
				tc.disturb(t, c, r)
				c.WaitState(tidetest.Finished, timeout)
				var want []string
				for _, v := range append(as, bs...) {
					want = append(want, itoa(v))
				}
				slices.Sort(want)
				got := sink.Values()
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("output differs: got %d records, want %d\n%s", len(got), len(want), diff(got, want))
				}
			})
		})
	}
}
