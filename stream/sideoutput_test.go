package stream_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

var (
	oddTag   = stream.NewOutputTag[tsEvent]("odd")
	thirdTag = stream.NewOutputTag[int64]("third")
)

// splitFn emits the events with an even Seq on its main output and those
// with an odd one on side output "odd", and counts each key's events in
// state.
type splitFn struct {
	odd   stream.Collector[tsEvent]
	count *stream.ValueState[int64, int64]
}

func (s *splitFn) Open(rt *stream.KeyedRuntime[int64]) error {
	s.odd = stream.SideOutput(rt, oddTag)
	var err error
	s.count, err = stream.Value[int64](rt, "count")
	return err
}

func (s *splitFn) Process(key int64, e tsEvent, out stream.Collector[string]) error {
	n := s.count.Value() + 1
	s.count.Update(n)
	if e.Seq%2 == 1 {
		s.odd.Emit(e)
		return nil
	}
	out.Emit(fmt.Sprintf("even %d,%d,%d", key, e.Seq, n))
	return nil
}

// stampFn reports whether each event kept its timestamp.
type stampFn struct{ rt *stream.KeyedRuntime[int64] }

func (s *stampFn) Open(rt *stream.KeyedRuntime[int64]) error { s.rt = rt; return nil }

func (s *stampFn) Process(_ int64, e tsEvent, out stream.Collector[string]) error {
	if ts, ok := s.rt.Timestamp(); !ok || ts != e.Ts {
		out.Emit(fmt.Sprintf("odd %d has timestamp %d (%v), want %d", e.Seq, ts, ok, e.Ts))
		return nil
	}
	out.Emit(fmt.Sprintf("odd %d", e.Seq))
	return nil
}

// thirdsFn emits nothing on its main output and the Seq of every third
// event on side output "third".
type thirdsFn struct{ third stream.Collector[int64] }

func (f *thirdsFn) Open(rt *stream.KeyedRuntime[int64]) error {
	f.third = stream.SideOutput(rt, thirdTag)
	return nil
}

func (f *thirdsFn) Process(_ int64, e tsEvent, _ stream.Collector[string]) error {
	if e.Seq%3 == 0 {
		f.third.Emit(e.Seq)
	}
	return nil
}

// TestSideOutputs splits a keyed Process's output into its main output and
// a side output, read by operators in other subtasks, and runs a second
// keyed Process whose only reader is its side output, chained to it. Every
// record reaches its output exactly once, straight and through a crash,
// and records on a side output keep their timestamps.
func TestSideOutputs(t *testing.T) {
	for _, tc := range []string{"straight", "crashed"} {
		t.Run(tc, func(t *testing.T) {
			simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
				evs := disordered(6000, 16, 1, 100, seed)
				sink := tidetest.NewSink[string]()
				c := tidetest.Start(t, tidetest.Config{
					Job: func(env *stream.Env, _ []string) error {
						src := stream.FromSource(env, tidetest.SliceSource("events", evs, tidetest.Splits(numSplits), tidetest.Rate(2000)),
							stream.WithWatermarks(stream.BoundedOutOfOrderness(100*time.Millisecond, func(e tsEvent) int64 { return e.Ts })))
						key := func(e tsEvent) int64 { return e.Key }
						split := stream.Process(stream.KeyBy(src, key), "split",
							func() stream.ProcessFunction[int64, tsEvent, string] { return &splitFn{} })
						sink.To(split, "collect-even")
						odd := stream.Process(stream.KeyBy(stream.GetSideOutput(split, oddTag), key), "stamp",
							func() stream.ProcessFunction[int64, tsEvent, string] { return &stampFn{} })
						sink.To(odd, "collect-odd")
						thirds := stream.Process(stream.KeyBy(src, key), "thirds",
							func() stream.ProcessFunction[int64, tsEvent, string] { return &thirdsFn{} })
						sink.To(stream.Map(stream.GetSideOutput(thirds, thirdTag), "format", func(seq int64) string { return fmt.Sprintf("third %d", seq) }),
							"collect-thirds")
						return nil
					},
					TaskManagers:       2,
					CheckpointInterval: 100 * time.Millisecond,
					Simulated:          true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
				})
				c.WaitParallelism(2, timeout)
				c.WaitCheckpoints(1, timeout)
				pause(r)
				if tc == "crashed" {
					c.TaskManagers()[r.IntN(2)].Crash()
				}
				c.WaitState(tidetest.Finished, timeout)
				var want []string
				counts := map[int64]int64{}
				for _, e := range evs {
					counts[e.Key]++
					if e.Seq%2 == 1 {
						want = append(want, fmt.Sprintf("odd %d", e.Seq))
					} else {
						want = append(want, fmt.Sprintf("even %d,%d,%d", e.Key, e.Seq, counts[e.Key]))
					}
					if e.Seq%3 == 0 {
						want = append(want, fmt.Sprintf("third %d", e.Seq))
					}
				}
				slices.Sort(want)
				got := sink.Values()
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("output differs from the reference: got %d lines, want %d\n%s", len(got), len(want), diff(got, want))
				}
			})
		})
	}
}
