package stream_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// pausingReader emits two splits of one subtask, "a" an hour ahead of
// "b" in event time, one record per split every 2ms, pausing 1s (beyond
// the idle timeout) after half of them.
type pausingReader struct {
	now   func() time.Time
	next  int
	n     int
	start time.Time
}

func (r *pausingReader) Poll(_ context.Context, out stream.SourceOutput[tsEvent]) (stream.PollStatus, time.Duration, error) {
	if r.next >= r.n {
		return stream.Done, 0, nil
	}
	el := r.now().Sub(r.start)
	due := int(el / (2 * time.Millisecond))
	if r.next >= r.n/2 {
		due = int((el - time.Second) / (2 * time.Millisecond))
	}
	if due <= r.next {
		return stream.Idle, 2 * time.Millisecond, nil
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for ; r.next < min(due, r.n); r.next++ {
		ts := base + int64(r.next)*2
		out.Split("a").EmitAt(tsEvent{Key: 1, Ts: ts + time.Hour.Milliseconds(), Seq: int64(r.next)}, ts+time.Hour.Milliseconds())
		out.Split("b").EmitAt(tsEvent{Key: 2, Ts: ts, Seq: int64(r.next)}, ts)
	}
	return stream.More, 0, nil
}
func (r *pausingReader) Snapshot(uint64) ([][]byte, error) {
	return [][]byte{[]byte(strconv.Itoa(r.next))}, nil
}
func (r *pausingReader) Position() int64 { return int64(r.next) }
func (r *pausingReader) Close() error    { return nil }

// TestIdleSplitsDoNotJumpAhead: both splits of a subtask go idle; on
// resuming, the lagging split's records must not be late (Flink's source
// keeps its watermark when all its splits are idle).
func TestIdleSplitsDoNotJumpAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 1000
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Job: func(env *stream.Env, _ []string) error {
				src := stream.FromSource(env, stream.Source[tsEvent]{Name: "pausing", Open: func(ctx stream.SourceContext, restored [][]byte) (stream.SourceReader[tsEvent], error) {
					return &pausingReader{now: ctx.Now, n: n, start: ctx.Now()}, nil
				}}, stream.WithWatermarks(stream.WatermarkStrategy[tsEvent]{
					Generator: func() stream.WatermarkGenerator { return &monotonous{} }, IdleTimeout: 200 * time.Millisecond,
				}), stream.Parallelism(1))
				counts := stream.Process(stream.KeyBy(src, func(e tsEvent) int64 { return e.Key }), "window-count",
					func() stream.ProcessFunction[int64, tsEvent, string] { return &windowCount{} })
				sink.To(counts, "collect")
				return nil
			},
			TaskManagers: 1, CheckpointInterval: time.Hour,
			Dynamic:   map[string]string{"pipeline.auto-watermark-interval": "10ms"},
			Simulated: true,
		})
		c.WaitState(tidetest.Finished, timeout)
		late := 0
		for _, v := range sink.Values() {
			if len(v) > 4 && v[:4] == "late" {
				late++
			}
		}
		if late > 0 {
			got := sink.Values()
			slices.Sort(got)
			t.Fatalf("%d records late after the splits resumed (e.g. %v)", late, got[len(got)-1])
		}
	})
}

type monotonous struct{ max int64 }

func (m *monotonous) OnEvent(ts int64) { m.max = max(m.max, ts) }
func (m *monotonous) Watermark() int64 { return m.max - 1 }

var _ = fmt.Sprint

// TestEventTimeWindowsWithoutTimestamps: no watermark strategy at all.
func TestEventTimeWindowsWithoutTimestamps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		evs := disordered(1000, 4, 1, 0, 1)
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Job: func(env *stream.Env, _ []string) error {
				src := stream.FromSource(env, tidetest.SliceSource("events", evs, tidetest.Splits(2)))
				w := stream.KeyBy(src, func(e tsEvent) int64 { return e.Key }).Window(stream.TumblingEventTimeWindows(time.Second))
				sink.To(stream.Map(stream.WindowAggregate(w, "count", countEvents{}, nil), "fmt", func(n int64) string { return fmt.Sprint(n) }), "collect")
				return nil
			},
			TaskManagers: 1, Simulated: true,
		})
		c.WaitState(tidetest.Failed, timeout)
		t.Logf("job: %+v", c.Job())
	})
}
