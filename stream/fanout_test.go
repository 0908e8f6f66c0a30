package stream_test

import (
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// TestFanOutChains: a stream read by two operators at its parallelism
// chains to both (one vertex, no network hop, no codec needed on the way),
// and each gets every record, with the job's keyed stage after them exact
// through a crash.
func TestFanOutChains(t *testing.T) {
	job := func(vs []int64, evens, odds *tidetest.Sink[string]) stream.JobFunc {
		return func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidetest.SliceSource("numbers", vs, tidetest.Splits(numSplits), tidetest.Rate(4000)))
			e := stream.Filter(src, "evens", func(v int64) bool { return v%2 == 0 })
			o := stream.Filter(src, "odds", func(v int64) bool { return v%2 == 1 })
			evens.To(countSum(e), "collect-evens")
			odds.To(countSum(o), "collect-odds")
			return nil
		}
	}
	env := stream.NewEnv(128)
	if err := job(numbers(10), tidetest.NewSink[string](), tidetest.NewSink[string]())(env, nil); err != nil {
		t.Fatal(err)
	}
	g, err := env.Plan()
	if err != nil {
		t.Fatal(err)
	}
	jg, err := plan.Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	if v := jg.Vertices[0]; len(v.Operators) != 3 {
		t.Fatalf("the source's vertex is %q (%d operators): both filters should chain to it", v.Name, len(v.Operators))
	}
	synctest.Test(t, func(t *testing.T) {
		vs := numbers(8000)
		evens, odds := tidetest.NewSink[string](), tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{Job: job(vs, evens, odds), TaskManagers: 2, CheckpointInterval: 100 * time.Millisecond, Simulated: true})
		c.WaitParallelism(2, timeout)
		c.WaitCheckpoints(2, timeout)
		c.TaskManagers()[0].Crash()
		c.WaitState(tidetest.Finished, timeout)
		var ev, od []int64
		for _, v := range vs {
			if v%2 == 0 {
				ev = append(ev, v)
			} else {
				od = append(od, v)
			}
		}
		for name, s := range map[string]struct {
			sink *tidetest.Sink[string]
			in   []int64
		}{"evens": {evens, ev}, "odds": {odds, od}} {
			got, want := s.sink.Values(), countSumWant(s.in)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: %s", name, fmt.Sprintf("got %d, want %d\n%s", len(got), len(want), diff(got, want)))
			}
		}
	})
}
