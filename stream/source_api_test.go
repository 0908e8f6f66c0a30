package stream_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// pushReader stands for a client that fetches in the background (a Kafka
// consumer): a goroutine it owns makes records available over time and
// wakes the subtask, while Poll, caught up, asks to be left alone for an
// hour. It also records the checkpoints it is told have completed.
type pushReader struct {
	ctx       stream.SourceContext
	available atomic.Int64
	emitted   int64
	total     int64
	completed *atomic.Uint64
	stop      chan struct{}
	done      sync.WaitGroup
}

func (r *pushReader) fetch() {
	defer r.done.Done()
	for r.available.Load() < r.total {
		select {
		case <-r.stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
		r.available.Add(10)
		r.ctx.Wakeup()
	}
}

func (r *pushReader) Poll(_ context.Context, out stream.SourceOutput[int64]) (stream.PollStatus, time.Duration, error) {
	if r.emitted == r.total {
		return stream.Done, 0, nil
	}
	for ; r.emitted < min(r.available.Load(), r.total); r.emitted++ {
		out.Emit(r.emitted)
	}
	if r.emitted == r.total {
		return stream.Done, 0, nil
	}
	return stream.Idle, time.Hour, nil
}

func (r *pushReader) Snapshot(uint64) ([][]byte, error) { return nil, nil }
func (r *pushReader) Position() int64                   { return r.emitted }
func (r *pushReader) CheckpointComplete(_ context.Context, cp uint64) error {
	for old := r.completed.Load(); cp > old && !r.completed.CompareAndSwap(old, cp); old = r.completed.Load() {
	}
	return nil
}
func (r *pushReader) Close() error {
	close(r.stop)
	r.done.Wait()
	return nil
}

// TestSourceWakeupAndCompletions: a reader whose client pushes records
// wakes its subtask instead of being polled — 200 records arriving over 2s
// take seconds, not the hour each idle poll asks for — and a reader that
// implements CheckpointListener is told of completed checkpoints, the
// final one included.
func TestSourceWakeupAndCompletions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var completed atomic.Uint64
		sink := tidetest.NewSink[int64]()
		start := time.Now()
		c := tidetest.Start(t, tidetest.Config{
			Job: func(env *stream.Env, _ []string) error {
				src := stream.FromSource(env, stream.Source[int64]{Name: "push", NonParallel: true,
					Open: func(ctx stream.SourceContext, _ [][]byte) (stream.SourceReader[int64], error) {
						r := &pushReader{ctx: ctx, total: 200, completed: &completed, stop: make(chan struct{})}
						r.done.Add(1)
						go r.fetch() // owner: the reader, whose Close stops and waits for it
						return r, nil
					}})
				sink.To(src, "collect")
				return nil
			},
			// No periodic checkpoints: their barriers would wake the
			// subtask too. The final checkpoint's completion is told.
			TaskManagers: 1,
			Simulated:    true,
		})
		c.WaitState(tidetest.Finished, 2*time.Hour)
		if took := time.Since(start); took > time.Minute {
			t.Fatalf("the job took %v of virtual time: the reader's wakeups did not end the subtask's idle waits", took)
		}
		if n := sink.Len(); n != 200 {
			t.Fatalf("%d records, want 200", n)
		}
		if completed.Load() == 0 {
			t.Fatal("the reader was told of no completed checkpoint")
		}
	})
}
