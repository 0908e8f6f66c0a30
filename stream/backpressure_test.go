package stream_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// countingSource emits 0, 1, 2, ... as fast as the job lets it and counts
// what it emitted.
type countingSource struct {
	next    int64
	emitted *atomic.Int64
}

func (s *countingSource) Poll(_ context.Context, out stream.SourceOutput[int64]) (stream.PollStatus, time.Duration, error) {
	for range 256 {
		out.Emit(s.next)
		s.next++
	}
	s.emitted.Add(256)
	return stream.More, 0, nil
}
func (s *countingSource) Snapshot(uint64) ([][]byte, error) { return nil, nil }
func (s *countingSource) Position() int64                   { return s.next }
func (s *countingSource) Close() error                      { return nil }

// slowWriter takes at least 20µs a record.
type slowWriter struct{ consumed *atomic.Int64 }

func (w slowWriter) Open(context.Context, stream.SinkContext, [][]byte) error { return nil }
func (w slowWriter) Write(context.Context, int64) error {
	time.Sleep(20 * time.Microsecond)
	w.consumed.Add(1)
	return nil
}
func (w slowWriter) PreCommit(context.Context, uint64) ([][]byte, error) { return nil, nil }
func (w slowWriter) Commit(context.Context, uint64) error                { return nil }
func (w slowWriter) Close() error                                        { return nil }

// TestSlowConsumerSlowsItsProducer runs a source that could emit millions of
// records a second into a sink that takes at least 20µs a record, across two
// TaskManagers, and checks that the source is held back: what it emitted
// but the sink has not consumed stays within the network's buffers
// (credits × buffer size per channel), instead of growing with time.
//
// It runs on the simulation (virtual time): the sink's 20µs a record and
// the rates are the bubble's clock, so the figures are exact, not the
// machine's.
func TestSlowConsumerSlowsItsProducer(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testSlowConsumerSlowsItsProducer)
}

func testSlowConsumerSlowsItsProducer(t *testing.T) {
	var emitted, consumed atomic.Int64
	c := tidetest.Start(t, tidetest.Config{
		Simulated:    true,
		TaskManagers: 2,
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, stream.Source[int64]{
				Name:        "Counting",
				NonParallel: true,
				Open: func(stream.SourceContext, [][]byte) (stream.SourceReader[int64], error) {
					return &countingSource{emitted: &emitted}, nil
				},
			})
			stream.SinkTo(src.Rebalance(), "Slow", func() stream.SinkWriter[int64] { return slowWriter{&consumed} })
			return nil
		},
	})
	c.WaitParallelism(2, timeout)
	// Two channels of 4 credits × 32 KiB, 8-byte records: 8192 records a
	// credit, plus a partly filled buffer and the sink's current one.
	const bound = 2 * (4 + 2) * 4096
	for range 3 {
		time.Sleep(500 * time.Millisecond)
		e, k := emitted.Load(), consumed.Load()
		if k == 0 {
			t.Fatalf("the sink consumed nothing (emitted %d)", e)
		}
		if e-k > bound {
			t.Fatalf("emitted %d, consumed %d: %d records in flight, above the network's bound %d", e, k, e-k, bound)
		}
		t.Logf("emitted %d, consumed %d, in flight %d (bound %d)", e, k, e-k, bound)
	}
	// The time split says where the bottleneck is: the source waits for
	// credits, the sink is busy.
	c.WaitFor("the time split of both vertices", timeout, func() bool {
		vs := c.Job().Vertices
		return len(vs) == 2 && vs[0].Metrics.BackPressuredTimeMsPerSecond >= 0 && vs[1].Metrics.BusyTimeMsPerSecond >= 0
	})
	vs := c.Job().Vertices
	src, sink := vs[0].Metrics, vs[1].Metrics
	t.Logf("source %+v, sink %+v", src, sink)
	if src.BackPressuredTimeMsPerSecond < 500 || sink.BusyTimeMsPerSecond < 500 {
		t.Fatalf("source %+v should be mostly backpressured and sink %+v mostly busy", src, sink)
	}
}

// TestRecordRates paces a source at 4000 records/s and checks that the
// JobManager's per-vertex rates see it: the source emits, and the keyed
// vertex reads, about that many records a second.
// It runs on the simulation: the rates are exact in virtual time.
func TestRecordRates(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testRecordRates)
}

func testRecordRates(t *testing.T) {
	vs := numbers(12000)
	sink := tidetest.NewSink[string]()
	c := tidetest.Start(t, tidetest.Config{
		Simulated: true,
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidetest.SliceSource("numbers", vs, tidetest.Splits(numSplits), tidetest.Rate(4000)))
			sink.To(countSum(src), "collect")
			return nil
		},
		TaskManagers: 2,
	})
	c.WaitParallelism(2, timeout)
	inBand := func(v int64) bool { return v >= 3800 && v <= 4200 } // virtual time: close to exact
	c.WaitFor("rates near 4000 records/s", timeout, func() bool {
		vs := c.Job().Vertices
		return len(vs) == 2 && inBand(vs[0].Metrics.NumRecordsOutPerSecond) && inBand(vs[1].Metrics.NumRecordsInPerSecond)
	})
	t.Logf("vertices: %+v", c.Job().Vertices)
}
