package stream

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/metrichook"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/state"
)

// fakeContext is the operator.Context of one keyed subtask without a task
// around it: its clock is the field now, and Fail records the failures.
type fakeContext struct {
	backend *state.Backend
	now     time.Time
	failed  []error
}

func newFakeContext(maxP int) *fakeContext {
	return &fakeContext{
		backend: state.NewBackend(maxP, keygroup.RangeFor(maxP, 1, 0)),
		now:     time.Unix(1_700_000_000, 0),
	}
}

func (c *fakeContext) JobID() string              { return "job" }
func (c *fakeContext) OperatorID() string         { return "inactivity-0123abcd" }
func (c *fakeContext) Subtask() int               { return 0 }
func (c *fakeContext) Parallelism() int           { return 1 }
func (c *fakeContext) MaxParallelism() int        { return c.backend.MaxParallelism() }
func (c *fakeContext) Attempt() uint64            { return 1 }
func (c *fakeContext) KeyGroups() keygroup.Range  { return c.backend.Range() }
func (c *fakeContext) Keyed() *state.Backend      { return c.backend }
func (c *fakeContext) RestoredList() [][]byte     { return nil }
func (c *fakeContext) RestoredCheckpoint() uint64 { return 0 }
func (c *fakeContext) RestoredWatermark(keygroup.KeyGroup) int64 {
	return math.MinInt64
}
func (c *fakeContext) Logger() *slog.Logger              { return slog.New(slog.DiscardHandler) }
func (c *fakeContext) Fail(err error)                    { c.failed = append(c.failed, err) }
func (c *fakeContext) Now() time.Time                    { return c.now }
func (c *fakeContext) Wakeup()                           {}
func (c *fakeContext) Context() context.Context          { return context.Background() }
func (c *fakeContext) SideOutput(string) any             { return nil }
func (c *fakeContext) Metrics() metrichook.Group         { return metrichook.NewRegistry() }
func (c *fakeContext) advance(d time.Duration) time.Time { c.now = c.now.Add(d); return c.now }

// inactivity resets its key's inactivity timeout on every record — it
// deletes the key's timer and registers one timeout later, Flink's
// documented pattern — and emits the key when the timeout passes without
// a record.
type inactivity struct {
	timeout time.Duration
	rt      *KeyedRuntime[int64]
	due     *ValueState[int64, int64] // the key's timer, Unix nanoseconds
}

func (f *inactivity) Open(rt *KeyedRuntime[int64]) (err error) {
	f.rt = rt
	f.due, err = Value[int64](rt, "due")
	return err
}

func (f *inactivity) Process(k, v int64, out Collector[string]) error {
	if at, ok := f.due.Get(); ok {
		f.rt.DeleteTimer(time.Unix(0, at))
	}
	at := f.rt.Now().Add(f.timeout)
	f.rt.RegisterTimer(at)
	f.due.Update(at.UnixNano())
	return nil
}

func (f *inactivity) OnTimer(k int64, _ Timer, out Collector[string]) error {
	f.due.Clear()
	out.Emit(fmt.Sprintf("%d:idle", k))
	return nil
}

// collected is an Emitter that keeps what it is given.
type collected[T any] struct{ vs []T }

func (c *collected[T]) Emit(v T, _ int64) { c.vs = append(c.vs, v) }

// openProcess opens a keyed process operator running fn on ctx.
func openProcess[O any](tb testing.TB, ctx *fakeContext, fn ProcessFunction[int64, int64, O], out operator.Emitter[O]) *processOp[int64, int64, O] {
	tb.Helper()
	p := &processOp[int64, int64, O]{fn: fn, key: func(v int64) int64 { return v }, kc: codec.Int64{}, out: collector[O]{next: out}}
	if err := p.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	return p
}

// zipfKeys returns n keys out of keys, drawn from a Zipf distribution
// (s = 1.1) with a fixed seed: a few hot keys and a long tail of rare ones,
// as real keys go.
func zipfKeys(n, keys int) []int64 {
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, uint64(keys-1))
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(z.Uint64())
	}
	return out
}

// resetTimers runs the records vs through an inactivity function, one
// microsecond apart, asking for the next timer and firing the due ones
// every 1000 records as the task's input loop does between batches.
func resetTimers(tb testing.TB, ctx *fakeContext, p *processOp[int64, int64, string], vs []int64) {
	tb.Helper()
	for i, v := range vs {
		now := ctx.advance(time.Microsecond)
		p.Emit(v, NoTimestamp)
		if i%1000 == 999 {
			p.NextTimer()
			if err := p.FireTimers(now); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if len(ctx.failed) > 0 {
		tb.Fatal(ctx.failed)
	}
}

// BenchmarkTimerReset measures a million inactivity-timeout resets
// (DeleteTimer then RegisterTimer per record) over 10,000 Zipf-distributed
// keys, with a timeout longer than the run: the timers of rare keys stay
// live all along, as inactivity timeouts do. Besides the time and allocations per
// million, it reports what stays in memory afterwards: live-B is the heap
// in use once the garbage is collected, queued the entries of the
// operator's timer queue, timers the live timers (one per key seen).
func BenchmarkTimerReset(b *testing.B) {
	const resets, keys, maxP = 1_000_000, 10_000, 128
	vs := zipfKeys(resets, keys)
	run := func() (*fakeContext, *processOp[int64, int64, string], *inactivity) {
		ctx := newFakeContext(maxP)
		fn := &inactivity{timeout: time.Minute}
		p := openProcess[string](b, ctx, fn, &collected[string]{})
		resetTimers(b, ctx, p, vs)
		return ctx, p, fn
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ctx, p, fn := run()
	runtime.GC()
	runtime.ReadMemStats(&after)
	queued, live := p.queuedTimers(), fn.due.t.Len()
	runtime.KeepAlive(ctx)

	for b.Loop() {
		run()
	}
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)), "live-B")
	b.ReportMetric(float64(queued), "queued")
	b.ReportMetric(float64(live), "timers")
}

// queuedTimers is the number of entries in p's timer queue.
func (p *processOp[K, T, O]) queuedTimers() int { return p.rt.timers.Len() }
