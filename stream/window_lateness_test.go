package stream_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// TestAllowedLatenessRefiresExactlyOnce: records up to 400ms late in
// 500ms tumbling windows with 2s of allowed lateness. Each late record
// fires its window again, so a window's outputs are c0, c0+1, ..., total,
// each exactly once, whatever the watermark's timing: straight, rescaled
// and through a crash.
func TestAllowedLatenessRefiresExactlyOnce(t *testing.T) {
	for _, tc := range disturbances {
		t.Run(tc.name, func(t *testing.T) {
			simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
				evs := disordered(6000, 8, 1, 30, seed)
				for i := 600; i < len(evs); i += 23 {
					evs[i].Ts -= 400
				}
				sink := tidetest.NewSink[string]()
				c := tidetest.Start(t, tidetest.Config{
					Job: func(env *stream.Env, _ []string) error {
						src := stream.FromSource(env, tidetest.SliceSource("events", evs, tidetest.Splits(numSplits), tidetest.Rate(2000)),
							stream.WithWatermarks(stream.BoundedOutOfOrderness(30*time.Millisecond, func(e tsEvent) int64 { return e.Ts })))
						w := stream.KeyBy(src, func(e tsEvent) int64 { return e.Key }).
							Window(stream.TumblingEventTimeWindows(500 * time.Millisecond)).AllowedLateness(2 * time.Second)
						sink.To(stream.WindowProcess(w, "count", func() stream.ProcessWindowFunction[int64, tsEvent, string] { return describeWindow{} }), "collect")
						return nil
					},
					TaskManagers:       2,
					CheckpointInterval: 100 * time.Millisecond,
					Dynamic:            map[string]string{"pipeline.auto-watermark-interval": "10ms"},
					Simulated:          true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
				})
				c.WaitParallelism(2, timeout)
				c.WaitFor("some windows", timeout, func() bool { return sink.Len() > 20 })
				pause(r)
				tc.disturb(t, c, r)
				c.WaitState(tidetest.Finished, timeout)
				total := map[string]int{}
				for _, e := range evs {
					start := e.Ts - ((e.Ts%500)+500)%500
					total[fmt.Sprintf("%d,%d,%d", e.Key, start, start+500)]++
				}
				fired := map[string][]int{}
				for _, line := range sink.Values() {
					i := strings.LastIndexByte(line, ',')
					n, _ := strconv.Atoi(line[i+1:])
					fired[line[:i]] = append(fired[line[:i]], n)
				}
				refires := 0
				for w, n := range total {
					f := fired[w]
					slices.Sort(f)
					if len(f) == 0 || f[len(f)-1] != n {
						t.Errorf("window %s: fired %v, want its last firing to count %d", w, f, n)
						continue
					}
					for i := 1; i < len(f); i++ {
						if f[i] != f[i-1]+1 {
							t.Errorf("window %s: fired %v: not one firing per late record", w, f)
							break
						}
					}
					refires += len(f) - 1
				}
				if len(fired) != len(total) {
					t.Errorf("%d windows fired, want %d", len(fired), len(total))
				}
				t.Logf("%d windows, %d re-firings", len(total), refires)
			})
		})
	}
}

// TestUnionOneInputEndsEarly: a union of a short source and a long
// one into event-time windows: once the short one ends (its watermark is
// the end of time), the long one alone drives the windows, which fire while
// it runs, not only at its end.
func TestUnionOneInputEndsEarly(t *testing.T) {
	simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
		short := disordered(100, 4, 1, 0, seed)
		long := disordered(6000, 4, 1, 0, seed+1)
		for i := range long {
			long[i].Seq += 1_000_000
		}
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Job: func(env *stream.Env, _ []string) error {
				ws := stream.WithWatermarks(stream.MonotonousTimestamps(func(e tsEvent) int64 { return e.Ts }))
				a := stream.FromSource(env, tidetest.SliceSource("short", short, tidetest.Splits(1)), ws, stream.Parallelism(1))
				b := stream.FromSource(env, tidetest.SliceSource("long", long, tidetest.Splits(numSplits), tidetest.Rate(1000)), ws)
				w := stream.KeyBy(stream.Union(a, b), func(e tsEvent) int64 { return e.Key }).Window(stream.TumblingEventTimeWindows(100 * time.Millisecond))
				sink.To(stream.Map(stream.WindowAggregate(w, "count", countEvents{}, nil), "fmt", func(n int64) string { return fmt.Sprint(n) }), "collect")
				return nil
			},
			TaskManagers:       2,
			CheckpointInterval: 100 * time.Millisecond,
			Dynamic:            map[string]string{"pipeline.auto-watermark-interval": "10ms"},
			Simulated:          true, Seed: seed,
		})
		c.WaitParallelism(2, timeout)
		c.WaitFor("windows while the long source runs", timeout, func() bool { return sink.Len() >= 20 })
		if c.State() == tidetest.Finished {
			t.Fatalf("windows fired only at the end")
		}
		c.WaitState(tidetest.Finished, timeout)
		var sum int
		for _, v := range sink.Values() {
			n, _ := strconv.Atoi(v)
			sum += n
		}
		if sum != len(short)+len(long) {
			t.Fatalf("windows counted %d records, want %d", sum, len(short)+len(long))
		}
	})
}

// TestFilterKeepsTimestampsAligned: a Filter that drops most records
// of a source batch and a Map, chained, then a keyed function that checks
// rt.Timestamp() against the record's own event time.
func TestFilterKeepsTimestampsAligned(t *testing.T) {
	simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
		evs := disordered(20000, 16, 1, 50, seed)
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Job: func(env *stream.Env, _ []string) error {
				src := stream.FromSource(env, tidetest.SliceSource("events", evs, tidetest.Splits(numSplits)),
					stream.WithWatermarks(stream.BoundedOutOfOrderness(50*time.Millisecond, func(e tsEvent) int64 { return e.Ts })))
				kept := stream.Filter(src, "some", func(e tsEvent) bool { return e.Seq%7 == 3 || e.Seq%11 == 0 })
				mapped := stream.Map(kept, "id", func(e tsEvent) tsEvent { return e })
				fm := stream.FlatMap(mapped, "dup", func(e tsEvent, out stream.Collector[tsEvent]) { out.Emit(e); out.Emit(e) })
				counts := stream.Process(stream.KeyBy(fm, func(e tsEvent) int64 { return e.Key }), "window-count",
					func() stream.ProcessFunction[int64, tsEvent, string] { return &windowCount{} })
				sink.To(counts, "collect")
				return nil
			},
			TaskManagers: 2, CheckpointInterval: 100 * time.Millisecond,
			Simulated: true, Seed: seed,
		})
		c.WaitState(tidetest.Finished, timeout)
		var kept []tsEvent
		for _, e := range evs {
			if e.Seq%7 == 3 || e.Seq%11 == 0 {
				kept = append(kept, e, e)
			}
		}
		got, want := sink.Values(), windowWant(kept)
		slices.Sort(got)
		// late records are possible only if timestamps are misaligned
		if !slices.Equal(got, want) {
			t.Fatalf("differs: %d vs %d\n%s", len(got), len(want), diff(got, want))
		}
	})
}
