package stream_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// tsEvent is a keyed record with an event time; Seq makes every record
// distinct.
type tsEvent struct {
	Key int64
	Ts  int64 // ms
	Seq int64
}

// disordered returns n events over keys keys, step ms of event time apart,
// each shifted back by up to disorder ms: out of timestamp order, but never
// by more than disorder within any subsequence (a split).
func disordered(n, keys int, step, disorder int64, seed uint64) []tsEvent {
	r := rand.New(rand.NewPCG(seed, 1))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	out := make([]tsEvent, n)
	for i := range out {
		out[i] = tsEvent{Key: int64(i % keys), Ts: base + int64(i)*step - r.Int64N(disorder+1), Seq: int64(i)}
	}
	return out
}

// windowCount counts each key's records per second of event time and
// emits "key,windowEnd,count" when the watermark passes the window's end:
// a tumbling event-time window written with state and event-time timers.
// A record behind the watermark is late: it is reported, not counted.
type windowCount struct {
	rt     *stream.KeyedRuntime[int64]
	counts *stream.MapState[int64, int64, int64]
}

func (w *windowCount) Open(rt *stream.KeyedRuntime[int64]) error {
	w.rt = rt
	var err error
	w.counts, err = stream.MapOf[int64, int64](rt, "counts", nil, nil)
	return err
}

func (w *windowCount) Process(key int64, e tsEvent, out stream.Collector[string]) error {
	ts, ok := w.rt.Timestamp()
	if !ok || ts != e.Ts {
		return fmt.Errorf("record %+v arrived with timestamp %d (%v)", e, ts, ok)
	}
	end := (e.Ts/1000+1)*1000 - 1
	if end <= w.rt.CurrentWatermark() {
		out.Emit(fmt.Sprintf("late %d,%d", key, e.Seq))
		return nil
	}
	n, _ := w.counts.Get(end)
	w.counts.Put(end, n+1)
	w.rt.RegisterEventTimeTimer(end)
	return nil
}

func (w *windowCount) OnTimer(key int64, t stream.Timer, out stream.Collector[string]) error {
	if t.Domain != stream.EventTime {
		return fmt.Errorf("a %v timer fired", t.Domain)
	}
	end := t.Timestamp()
	if wm := w.rt.CurrentWatermark(); wm < end {
		return fmt.Errorf("window %d fired at watermark %d", end, wm)
	}
	n, _ := w.counts.Get(end)
	w.counts.Remove(end)
	out.Emit(fmt.Sprintf("%d,%d,%d", key, end, n))
	return nil
}

var _ stream.TimerFunction[int64, string] = (*windowCount)(nil)

func windowJob(evs []tsEvent, disorder time.Duration, rate float64, sink *tidetest.Sink[string]) stream.JobFunc {
	return func(env *stream.Env, _ []string) error {
		src := stream.FromSource(env, tidetest.SliceSource("events", evs, tidetest.Splits(numSplits), tidetest.Rate(rate)),
			stream.WithWatermarks(stream.BoundedOutOfOrderness(disorder, func(e tsEvent) int64 { return e.Ts })))
		counts := stream.Process(stream.KeyBy(src, func(e tsEvent) int64 { return e.Key }), "window-count",
			func() stream.ProcessFunction[int64, tsEvent, string] { return &windowCount{} })
		sink.To(counts, "collect")
		return nil
	}
}

// windowWant is what windowCount must emit for evs: every window once,
// with every record counted, none late.
func windowWant(evs []tsEvent) []string {
	type win struct{ key, end int64 }
	n := map[win]int64{}
	for _, e := range evs {
		n[win{e.Key, (e.Ts/1000+1)*1000 - 1}]++
	}
	var out []string
	for w, c := range n {
		out = append(out, fmt.Sprintf("%d,%d,%d", w.key, w.end, c))
	}
	slices.Sort(out)
	return out
}

// TestEventTimeWindowsFireOnce runs a tumbling event-time window (state and
// event-time timers) over records up to 300ms out of order, with a bounded
// out-of-orderness strategy of 300ms: straight, through a rescale, and
// through a TaskManager crash. Every window fires exactly once with every
// record in it and none late: the watermark holds back until a window is
// complete, timers move with their keys, and a restore fires nothing twice.
func TestEventTimeWindowsFireOnce(t *testing.T) {
	for _, tc := range disturbances {
		t.Run(tc.name, func(t *testing.T) {
			simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
				const disorder = 300 * time.Millisecond
				// 2000 records a second, 1ms of event time apart, and a
				// watermark every 10ms: the watermark trails the newest
				// records by much less than the disorder, so that a strategy
				// that allowed less would make records late.
				evs := disordered(6000, 16, 1, disorder.Milliseconds(), seed)
				sink := tidetest.NewSink[string]()
				c := tidetest.Start(t, tidetest.Config{
					Job:                windowJob(evs, disorder, 2000, sink),
					TaskManagers:       2,
					CheckpointInterval: 100 * time.Millisecond,
					Dynamic:            map[string]string{"pipeline.auto-watermark-interval": "10ms"},
					Simulated:          true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
				})
				c.WaitParallelism(2, timeout)
				c.WaitCheckpoints(1, timeout)
				pause(r)
				tc.disturb(t, c, r)
				c.WaitState(tidetest.Finished, timeout)
				got, want := sink.Values(), windowWant(evs)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("windows differ from the reference: got %d lines, want %d\n%s", len(got), len(want), diff(got, want))
				}
			})
		})
	}
}

// TestWatermarksWaitForTheSlowestSplit: two splits of one source subtask,
// one far ahead in event time of the other. Per-split watermarks keep the
// subtask's watermark at the slower split's, so that none of its records
// is late; one clock for both would make the slow split's records late.
func TestWatermarksWaitForTheSlowestSplit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Split 0 holds the even indexes, split 1 the odd ones; the odd ones
		// are an hour behind.
		evs := disordered(4000, 8, 10, 0, 1)
		for i := range evs {
			if i%2 == 1 {
				evs[i].Ts -= time.Hour.Milliseconds()
			}
		}
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Job: func(env *stream.Env, _ []string) error {
				src := stream.FromSource(env, tidetest.SliceSource("events", evs, tidetest.Splits(2), tidetest.Rate(1000)),
					stream.WithWatermarks(stream.MonotonousTimestamps(func(e tsEvent) int64 { return e.Ts })), stream.Parallelism(1))
				counts := stream.Process(stream.KeyBy(src, func(e tsEvent) int64 { return e.Key }), "window-count",
					func() stream.ProcessFunction[int64, tsEvent, string] { return &windowCount{} })
				sink.To(counts, "collect")
				return nil
			},
			TaskManagers: 1,
			Simulated:    true,
		})
		c.WaitState(tidetest.Finished, timeout)
		got, want := sink.Values(), windowWant(evs)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("windows differ from the reference: got %d lines, want %d\n%s", len(got), len(want), diff(got, want))
		}
	})
}

// TestLateRecordsStayLateAcrossRestores adds records an hour late to the
// windows of TestEventTimeWindowsFireOnce: they are reported late, never
// counted, in a straight run as after a rescale or a crash. After a
// restore the subtasks start again without a watermark; the watermark each
// key group was checkpointed with keeps its late records late, so that no
// window fires a second time with them (Flink, which does not checkpoint
// watermarks, would).
func TestLateRecordsStayLateAcrossRestores(t *testing.T) {
	for _, tc := range disturbances {
		t.Run(tc.name, func(t *testing.T) {
			simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
				const disorder = 300 * time.Millisecond
				evs := disordered(6000, 16, 1, disorder.Milliseconds(), seed)
				late := map[int64]bool{}
				for i := 600; i < len(evs); i += 37 {
					evs[i].Ts -= time.Hour.Milliseconds()
					late[evs[i].Seq] = true
				}
				sink := tidetest.NewSink[string]()
				c := tidetest.Start(t, tidetest.Config{
					Job:                windowJob(evs, disorder, 2000, sink),
					TaskManagers:       2,
					CheckpointInterval: 100 * time.Millisecond,
					Dynamic:            map[string]string{"pipeline.auto-watermark-interval": "10ms"},
					Simulated:          true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
				})
				c.WaitParallelism(2, timeout)
				c.WaitFor("late records checkpointed", timeout, func() bool { return sink.Len() > 0 })
				pause(r)
				tc.disturb(t, c, r)
				c.WaitState(tidetest.Finished, timeout)
				var kept []tsEvent
				want := []string{}
				for _, e := range evs {
					if late[e.Seq] {
						want = append(want, fmt.Sprintf("late %d,%d", e.Key, e.Seq))
						continue
					}
					kept = append(kept, e)
				}
				want = append(want, windowWant(kept)...)
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

// countEvents counts a window's records.
type countEvents struct{}

func (countEvents) Create() int64                { return 0 }
func (countEvents) Add(a int64, _ tsEvent) int64 { return a + 1 }
func (countEvents) Result(a int64) int64         { return a }
func (countEvents) Merge(a, b int64) int64       { return a + b }

// describeWindow emits "key,start,end,count" for a window.
type describeWindow struct{}

func (describeWindow) Process(key int64, w stream.Window, elems []stream.Element[tsEvent], out stream.Collector[string]) error {
	out.Emit(fmt.Sprintf("%d,%d,%d,%d", key, w.Start, w.End, len(elems)))
	return nil
}

// TestWindowsStraightRescaledRestored runs sliding windows (1s every
// 250ms, counted incrementally) and session windows (a 40ms gap, buffered)
// over records up to 100ms out of order with pauses between bursts, and
// requires the output of a reference computed here: straight, rescaled and
// through a crash. Every window fires exactly once.
func TestWindowsStraightRescaledRestored(t *testing.T) {
	for _, tc := range disturbances {
		t.Run(tc.name, func(t *testing.T) {
			simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
				const keys, gap = 8, 40
				evs := disordered(6000, keys, 1, 100, seed)
				// A pause of 300ms of event time after every 500 records:
				// sessions end there.
				for i := range evs {
					evs[i].Ts += int64(i/500) * 300
				}
				sliding, sessions := tidetest.NewSink[string](), tidetest.NewSink[string]()
				c := tidetest.Start(t, tidetest.Config{
					Job: func(env *stream.Env, _ []string) error {
						src := stream.FromSource(env, tidetest.SliceSource("events", evs, tidetest.Splits(numSplits), tidetest.Rate(2000)),
							stream.WithWatermarks(stream.BoundedOutOfOrderness(100*time.Millisecond, func(e tsEvent) int64 { return e.Ts })))
						byKey := stream.KeyBy(src, func(e tsEvent) int64 { return e.Key })
						counts := stream.WindowAggregate(byKey.Window(stream.SlidingEventTimeWindows(time.Second, 250*time.Millisecond)),
							"sliding", countEvents{}, nil)
						sliding.To(stream.Map(counts, "format", func(n int64) string { return fmt.Sprint(n) }), "collect-sliding")
						sessions.To(stream.WindowProcess(byKey.Window(stream.EventTimeSessionWindows(gap*time.Millisecond)), "sessions",
							func() stream.ProcessWindowFunction[int64, tsEvent, string] { return describeWindow{} }), "collect-sessions")
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
				tc.disturb(t, c, r)
				c.WaitState(tidetest.Finished, timeout)

				// The reference: per key, each sliding window's count, and the
				// sessions of its sorted timestamps.
				ts := map[int64][]int64{}
				for _, e := range evs {
					ts[e.Key] = append(ts[e.Key], e.Ts)
				}
				var wantSliding, wantSessions []string
				for key, kts := range ts {
					slices.Sort(kts)
					n := map[int64]int64{}
					for _, x := range kts {
						last := x - ((x%250)+250)%250
						for start := last; start > x-1000; start -= 250 {
							n[start]++
						}
					}
					for _, c := range n {
						wantSliding = append(wantSliding, fmt.Sprint(c))
					}
					start, end, count := kts[0], kts[0]+gap, 1
					for _, x := range kts[1:] {
						if x <= end {
							end, count = max(end, x+gap), count+1
							continue
						}
						wantSessions = append(wantSessions, fmt.Sprintf("%d,%d,%d,%d", key, start, end, count))
						start, end, count = x, x+gap, 1
					}
					wantSessions = append(wantSessions, fmt.Sprintf("%d,%d,%d,%d", key, start, end, count))
				}
				for name, s := range map[string]struct {
					got  *tidetest.Sink[string]
					want []string
				}{"sliding": {sliding, wantSliding}, "sessions": {sessions, wantSessions}} {
					got := s.got.Values()
					slices.Sort(got)
					slices.Sort(s.want)
					if !slices.Equal(got, s.want) {
						t.Errorf("%s windows differ from the reference: got %d, want %d\n%s", name, len(got), len(s.want), diff(got, s.want))
					}
				}
			})
		})
	}
}

// TestWindowLateDataToSideOutput: records an hour late go to the window's
// late-data side output, each exactly once, and no window counts them:
// straight and through a crash.
func TestWindowLateDataToSideOutput(t *testing.T) {
	for _, crash := range []bool{false, true} {
		t.Run(fmt.Sprint("crash=", crash), func(t *testing.T) {
			simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
				evs := disordered(4000, 8, 1, 50, seed)
				var late []string
				var kept []tsEvent
				for i := range evs {
					if i >= 600 && i%41 == 0 {
						evs[i].Ts -= time.Hour.Milliseconds()
						late = append(late, fmt.Sprint(evs[i].Seq))
						continue
					}
					kept = append(kept, evs[i])
				}
				counts, lateSink := tidetest.NewSink[string](), tidetest.NewSink[string]()
				c := tidetest.Start(t, tidetest.Config{
					Job: func(env *stream.Env, _ []string) error {
						src := stream.FromSource(env, tidetest.SliceSource("events", evs, tidetest.Splits(numSplits), tidetest.Rate(2000)),
							stream.WithWatermarks(stream.BoundedOutOfOrderness(50*time.Millisecond, func(e tsEvent) int64 { return e.Ts })))
						tag := stream.NewOutputTag[tsEvent]("late")
						windows := stream.KeyBy(src, func(e tsEvent) int64 { return e.Key }).
							Window(stream.TumblingEventTimeWindows(time.Second)).SideOutputLateData(tag)
						n := stream.WindowProcess(windows, "count", func() stream.ProcessWindowFunction[int64, tsEvent, string] { return describeWindow{} })
						counts.To(n, "collect")
						lateSink.To(stream.Map(stream.GetSideOutput(n, tag), "seq", func(e tsEvent) string { return fmt.Sprint(e.Seq) }), "collect-late")
						return nil
					},
					TaskManagers:       2,
					CheckpointInterval: 100 * time.Millisecond,
					Dynamic:            map[string]string{"pipeline.auto-watermark-interval": "10ms"},
					Simulated:          true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
				})
				c.WaitParallelism(2, timeout)
				c.WaitFor("late records", timeout, func() bool { return lateSink.Len() > 0 })
				if crash {
					c.TaskManagers()[r.IntN(2)].Crash()
				}
				c.WaitState(tidetest.Finished, timeout)
				got := lateSink.Values()
				slices.Sort(got)
				slices.Sort(late)
				if !slices.Equal(got, late) {
					t.Errorf("late side output differs: got %d, want %d\n%s", len(got), len(late), diff(got, late))
				}
				type win struct{ key, start int64 }
				n := map[win]int{}
				for _, e := range kept {
					n[win{e.Key, e.Ts - ((e.Ts%1000)+1000)%1000}]++
				}
				var want []string
				for w, c := range n {
					want = append(want, fmt.Sprintf("%d,%d,%d,%d", w.key, w.start, w.start+1000, c))
				}
				gotCounts := counts.Values()
				slices.Sort(gotCounts)
				slices.Sort(want)
				if !slices.Equal(gotCounts, want) {
					t.Errorf("windows differ: got %d, want %d\n%s", len(gotCounts), len(want), diff(gotCounts, want))
				}
			})
		})
	}
}
