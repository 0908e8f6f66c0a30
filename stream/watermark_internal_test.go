package stream

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/operator"
)

// scriptedReader emits what each poll of the test says.
type scriptedReader struct {
	poll func(out SourceOutput[int64])
}

func (r *scriptedReader) Poll(_ context.Context, out SourceOutput[int64]) (PollStatus, time.Duration, error) {
	r.poll(out)
	return More, 0, nil
}
func (r *scriptedReader) Snapshot(uint64) ([][]byte, error) { return nil, nil }
func (r *scriptedReader) Position() int64                   { return 0 }
func (r *scriptedReader) Close() error                      { return nil }

// openSource opens a source operator with strategy ws over a reader the
// test drives, emitting into a discarding chain.
func openSource(t *testing.T, ws *WatermarkStrategy[int64]) (*sourceOp[int64], *scriptedReader, *fakeContext) {
	t.Helper()
	r := &scriptedReader{}
	s := &sourceOp[int64]{src: Source[int64]{Name: "src", Open: func(SourceContext, [][]byte) (SourceReader[int64], error) { return r, nil }}, strategy: ws}
	s.out.out = operator.EmitterFunc[int64](func(int64, int64) {})
	if ws != nil {
		s.out.assign = ws.Timestamp
	}
	ctx := newFakeContext(8)
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	return s, r, ctx
}

// TestSourceWatermarks: per-split clocks, idleness, and the bad inputs a
// strategy meets.
func TestSourceWatermarks(t *testing.T) {
	ident := func(v int64) int64 { return v }
	wmAt := func(s *sourceOp[int64], ctx *fakeContext) (int64, bool) { return s.Watermark(ctx.Now()) }

	t.Run("the minimum over splits that are not idle", func(t *testing.T) {
		ws := BoundedOutOfOrderness(100*time.Millisecond, ident).WithIdleness(time.Second)
		s, r, ctx := openSource(t, &ws)
		if wm, idle := wmAt(s, ctx); wm != math.MinInt64 || idle {
			t.Fatalf("before any record: %d, idle %v", wm, idle)
		}
		r.poll = func(out SourceOutput[int64]) {
			out.Split("a").Emit(5000)
			out.Split("b").Emit(2000)
			out.Split("a").Emit(4000) // out of order within a
		}
		s.Poll(context.Background())
		if wm, idle := wmAt(s, ctx); wm != 2000-100-1 || idle {
			t.Fatalf("two splits: %d, idle %v; want b's 1899", wm, idle)
		}
		// b goes quiet: after the idle timeout it no longer holds a back.
		r.poll = func(out SourceOutput[int64]) { out.Split("a").Emit(6000) }
		ctx.advance(600 * time.Millisecond)
		s.Poll(context.Background())
		ctx.advance(600 * time.Millisecond)
		if wm, idle := wmAt(s, ctx); wm != 6000-101 || idle {
			t.Fatalf("b idle: %d, idle %v; want a's 5899", wm, idle)
		}
		// Both quiet: the subtask is idle, and its watermark does not
		// jump to a's: b may resume with records behind it.
		ctx.advance(2 * time.Second)
		if wm, idle := wmAt(s, ctx); wm != math.MinInt64 || !idle {
			t.Fatalf("all idle: %d, idle %v; want no watermark (MinInt64) and idle", wm, idle)
		}
		// A split that is done holds nothing back.
		r.poll = func(out SourceOutput[int64]) {
			out.Split("b").Emit(2500)
			out.SplitDone("b")
			out.Split("a").Emit(7000)
		}
		s.Poll(context.Background())
		if wm, idle := wmAt(s, ctx); wm != 7000-101 || idle {
			t.Fatalf("b done: %d, idle %v; want 6899", wm, idle)
		}
	})

	t.Run("a record without a timestamp", func(t *testing.T) {
		ws := MonotonousTimestamps[int64](nil) // the source's own timestamps
		s, r, ctx := openSource(t, &ws)
		r.poll = func(out SourceOutput[int64]) { out.EmitAt(1, 1000); out.Emit(2) }
		s.Poll(context.Background())
		if len(ctx.failed) != 1 || !strings.Contains(ctx.failed[0].Error(), "inactivity-0123abcd: a record without a timestamp") ||
			!operator.IsPermanent(ctx.failed[0]) {
			t.Fatalf("failures %v", ctx.failed)
		}
	})

	t.Run("a generator that goes back", func(t *testing.T) {
		back := &backwards{}
		ws := WatermarkStrategy[int64]{Timestamp: ident, Generator: func() WatermarkGenerator { return back }}
		s, r, ctx := openSource(t, &ws)
		r.poll = func(out SourceOutput[int64]) { out.Emit(1) }
		s.Poll(context.Background())
		wmAt(s, ctx)
		wmAt(s, ctx)
		if len(ctx.failed) != 1 || !strings.Contains(ctx.failed[0].Error(), `split "" went back from 100 to 50`) {
			t.Fatalf("failures %v", ctx.failed)
		}
	})

	t.Run("declaration errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			job  func(env *Env)
			want string
		}{
			{"on a map", func(env *Env) {
				s := FromSource(env, Source[int64]{Name: "src", Open: nil})
				Map(s, "m", ident, WithWatermarks(MonotonousTimestamps(ident)))
			}, "WithWatermarks is an option of sources"},
			{"twice", func(env *Env) {
				FromSource(env, Source[int64]{Name: "src"}, WithWatermarks(MonotonousTimestamps(ident)), WithWatermarks(MonotonousTimestamps(ident)))
			}, "WithWatermarks given twice"},
			{"of another type", func(env *Env) {
				FromSource(env, Source[int64]{Name: "src"}, WithWatermarks(MonotonousTimestamps(func(string) int64 { return 0 })))
			}, "WithWatermarks of another record type"},
			{"without a generator", func(env *Env) {
				FromSource(env, Source[int64]{Name: "src"}, WithWatermarks(WatermarkStrategy[int64]{Timestamp: ident}))
			}, "without a Generator"},
		} {
			env := NewEnv(8)
			tc.job(env)
			if _, err := env.Plan(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			}
		}
	})
}

// backwards is a generator whose watermark goes back on its second call.
type backwards struct{ calls int }

func (b *backwards) OnEvent(int64) {}
func (b *backwards) Watermark() int64 {
	b.calls++
	if b.calls == 1 {
		return 100
	}
	return 50
}

// TestSplitTakenUpAgain: a split emitted through Split after SplitDone has
// a clock again, which holds the watermark back.
func TestSplitTakenUpAgain(t *testing.T) {
	ws := MonotonousTimestamps(func(v int64) int64 { return v })
	s, r, ctx := openSource(t, &ws)
	r.poll = func(out SourceOutput[int64]) {
		out.Split("a").Emit(5000)
		out.Split("b").Emit(9000)
		out.SplitDone("a")
	}
	s.Poll(context.Background())
	if wm, _ := s.Watermark(ctx.Now()); wm != 8999 {
		t.Fatalf("a done: %d, want b's 8999", wm)
	}
	r.poll = func(out SourceOutput[int64]) { out.Split("a").Emit(6000) }
	s.Poll(context.Background())
	if wm, _ := s.Watermark(ctx.Now()); wm != 5999 {
		t.Fatalf("a taken up again: %d, want a's 5999", wm)
	}
}
