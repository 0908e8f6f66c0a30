package stream_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// coWindowCount is windowCount over two inputs of events: a keyed
// two-input function with state and event-time timers.
type coWindowCount struct{ windowCount }

func (w *coWindowCount) ProcessElement1(key int64, e tsEvent, out stream.Collector[string]) error {
	return w.Process(key, e, out)
}

func (w *coWindowCount) ProcessElement2(key int64, e tsEvent, out stream.Collector[string]) error {
	return w.Process(key, e, out)
}

// TestWatermarksAcrossTwoInputs counts each key's events per second of
// event time over two sources, one an hour of event time behind the other,
// through a Union and through a KeyedCoProcess, straight and through a
// crash. The operator's watermark is the minimum of its inputs': no event
// of the slow input is late, though every one is an hour behind the
// watermark of the fast one; every window (an event-time timer) fires once,
// with every event in it, and the fast input ending first does not end
// event time.
func TestWatermarksAcrossTwoInputs(t *testing.T) {
	const disorder = 300 * time.Millisecond
	for _, shape := range []string{"union", "connect"} {
		for _, tc := range []string{"straight", "crashed"} {
			t.Run(shape+"/"+tc, func(t *testing.T) {
				simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
					fast := disordered(4000, 16, 1, disorder.Milliseconds(), seed)
					slow := disordered(5000, 16, 1, disorder.Milliseconds(), seed+1)
					for i := range slow {
						slow[i].Ts -= time.Hour.Milliseconds()
						slow[i].Seq += int64(len(fast))
					}
					sink := tidetest.NewSink[string]()
					c := tidetest.Start(t, tidetest.Config{
						Job: func(env *stream.Env, _ []string) error {
							wms := stream.WithWatermarks(stream.BoundedOutOfOrderness(disorder, func(e tsEvent) int64 { return e.Ts }))
							a := stream.FromSource(env, tidetest.SliceSource("fast", fast, tidetest.Splits(numSplits), tidetest.Rate(2000)), wms)
							b := stream.FromSource(env, tidetest.SliceSource("slow", slow, tidetest.Splits(numSplits), tidetest.Rate(2000)), wms)
							key := func(e tsEvent) int64 { return e.Key }
							var counts stream.DataStream[string]
							if shape == "union" {
								counts = stream.Process(stream.KeyBy(stream.Union(a, b), key), "window-count",
									func() stream.ProcessFunction[int64, tsEvent, string] { return &windowCount{} })
							} else {
								counts = stream.KeyedCoProcess(stream.KeyByConnected(stream.Connect(a, b), key, key), "window-count",
									func() stream.KeyedCoProcessFunction[int64, tsEvent, tsEvent, string] { return &coWindowCount{} })
							}
							sink.To(counts, "collect")
							return nil
						},
						TaskManagers:       2,
						CheckpointInterval: 100 * time.Millisecond,
						Dynamic:            map[string]string{"pipeline.auto-watermark-interval": "10ms"},
						Simulated:          true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
					})
					c.WaitParallelism(2, timeout)
					c.WaitCheckpoints(1, timeout)
					pause(r)
					if tc == "crashed" {
						c.TaskManagers()[r.IntN(2)].Crash()
					}
					c.WaitState(tidetest.Finished, timeout)
					got, want := sink.Values(), windowWant(append(fast, slow...))
					slices.Sort(got)
					if !slices.Equal(got, want) {
						t.Fatalf("windows differ from the reference: got %d lines, want %d\n%s", len(got), len(want), diff(got, want))
					}
				})
			})
		}
	}
}
