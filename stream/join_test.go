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

// twoSourceJoinJob joins two sources of events keyed by Key, with join (WindowJoin
// or IntervalJoin) given the keyed connected streams.
func twoSourceJoinJob(left, right []tsEvent, join func(k stream.KeyedConnectedStreams[int64, tsEvent, tsEvent]) stream.DataStream[string], sink *tidetest.Sink[string]) stream.JobFunc {
	return func(env *stream.Env, _ []string) error {
		ws := stream.WithWatermarks(stream.BoundedOutOfOrderness(100*time.Millisecond, func(e tsEvent) int64 { return e.Ts }))
		l := stream.FromSource(env, tidetest.SliceSource("left", left, tidetest.Splits(4), tidetest.Rate(1000)), ws)
		r := stream.FromSource(env, tidetest.SliceSource("right", right, tidetest.Splits(4), tidetest.Rate(1000)), ws)
		k := stream.KeyByConnected(stream.Connect(l, r), func(e tsEvent) int64 { return e.Key }, func(e tsEvent) int64 { return e.Key })
		sink.To(join(k), "collect")
		return nil
	}
}

func pair(a, b tsEvent) string { return fmt.Sprintf("%d,%d,%d", a.Key, a.Seq, b.Seq) }

// TestJoins runs a window join (tumbling 1s windows) and an interval join
// ([-200ms, +300ms]) over two streams up to 100ms out of order, straight,
// rescaled and through a crash, and requires exactly the pairs a reference
// computed here finds.
func TestJoins(t *testing.T) {
	type join struct {
		name string
		run  func(k stream.KeyedConnectedStreams[int64, tsEvent, tsEvent]) stream.DataStream[string]
		want func(left, right []tsEvent) []string
	}
	joins := []join{
		{"window", func(k stream.KeyedConnectedStreams[int64, tsEvent, tsEvent]) stream.DataStream[string] {
			return stream.WindowJoin(k, stream.TumblingEventTimeWindows(time.Second), "window-join", pair)
		}, func(left, right []tsEvent) []string {
			var out []string
			for _, a := range left {
				for _, b := range right {
					if a.Key == b.Key && a.Ts/1000 == b.Ts/1000 {
						out = append(out, pair(a, b))
					}
				}
			}
			return out
		}},
		{"interval", func(k stream.KeyedConnectedStreams[int64, tsEvent, tsEvent]) stream.DataStream[string] {
			return stream.IntervalJoin(k, -200*time.Millisecond, 300*time.Millisecond, "interval-join", pair)
		}, func(left, right []tsEvent) []string {
			var out []string
			for _, a := range left {
				for _, b := range right {
					if a.Key == b.Key && b.Ts >= a.Ts-200 && b.Ts <= a.Ts+300 {
						out = append(out, pair(a, b))
					}
				}
			}
			return out
		}},
	}
	for _, j := range joins {
		for _, tc := range disturbances {
			t.Run(j.name+"/"+tc.name, func(t *testing.T) {
				simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
					// 20ms of event time between a side's records, 8 keys:
					// each key has about 6 records a second on each side.
					left := disordered(3000, 8, 20, 100, seed)
					right := disordered(3000, 8, 20, 100, seed+1)
					for i := range right {
						right[i].Seq += 1_000_000
					}
					sink := tidetest.NewSink[string]()
					c := tidetest.Start(t, tidetest.Config{
						Job:                twoSourceJoinJob(left, right, j.run, sink),
						TaskManagers:       2,
						CheckpointInterval: 200 * time.Millisecond,
						Dynamic:            map[string]string{"pipeline.auto-watermark-interval": "10ms"},
						Simulated:          true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
					})
					c.WaitParallelism(2, timeout)
					c.WaitCheckpoints(1, timeout)
					pause(r)
					tc.disturb(t, c, r)
					c.WaitState(tidetest.Finished, timeout)
					got, want := sink.Values(), j.want(left, right)
					slices.Sort(got)
					slices.Sort(want)
					if len(want) < 1000 {
						t.Fatalf("the reference has only %d pairs: a weak test", len(want))
					}
					if !slices.Equal(got, want) {
						t.Fatalf("%s join differs from the reference: got %d pairs, want %d\n%s", j.name, len(got), len(want), diff(got, want))
					}
				})
			})
		}
	}
}
