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

func TestIntervalJoinBounds(t *testing.T) {
	for _, b := range [][2]int64{{0, 0}, {100, 300}, {-300, -100}, {40, 40}} {
		t.Run(fmt.Sprint(b), func(t *testing.T) {
			simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
				left := disordered(3000, 8, 20, 100, seed)
				right := disordered(3000, 8, 20, 100, seed+1)
				for i := range right {
					right[i].Seq += 1_000_000
					right[i].Ts -= right[i].Ts % 20 // many exact ties
				}
				for i := range left {
					left[i].Ts -= left[i].Ts % 20
				}
				sink := tidetest.NewSink[string]()
				c := tidetest.Start(t, tidetest.Config{
					Job: twoSourceJoinJob(left, right, func(k stream.KeyedConnectedStreams[int64, tsEvent, tsEvent]) stream.DataStream[string] {
						return stream.IntervalJoin(k, time.Duration(b[0])*time.Millisecond, time.Duration(b[1])*time.Millisecond, "ij", pair)
					}, sink),
					TaskManagers: 2, CheckpointInterval: 200 * time.Millisecond,
					Dynamic:   map[string]string{"pipeline.auto-watermark-interval": "10ms"},
					Simulated: true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
				})
				c.WaitParallelism(2, timeout)
				c.WaitCheckpoints(1, timeout)
				pause(r)
				c.TaskManagers()[r.IntN(2)].Crash()
				c.WaitState(tidetest.Finished, timeout)
				var want []string
				for _, a := range left {
					for _, x := range right {
						if a.Key == x.Key && x.Ts >= a.Ts+b[0] && x.Ts <= a.Ts+b[1] {
							want = append(want, pair(a, x))
						}
					}
				}
				got := sink.Values()
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("got %d pairs, want %d\n%s", len(got), len(want), diff(got, want))
				}
				t.Logf("%d pairs", len(want))
			})
		})
	}
}
