package stream

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/codec"
)

// rec is a keyed record with a value, for window tests.
type rec2 struct {
	K string
	V int64
}

// stamped collects what an operator emits, with the timestamps.
type emitted[O any] struct{ got []string }

func (s *emitted[O]) Emit(v O, ts int64) { s.got = append(s.got, fmt.Sprintf("%v@%d", v, ts)) }

func (s *emitted[O]) take() []string {
	g := s.got
	s.got = nil
	return g
}

// windowHarness drives a window operator on one subtask: records with
// timestamps, watermarks, processing time.
type windowHarness[O any] struct {
	t   *testing.T
	ctx *fakeContext
	op  *processOp[string, rec2, O]
	out *emitted[O]
}

func newWindowHarness[O any](t *testing.T, ds func(w WindowedStream[string, rec2]) DataStream[O], w func(k KeyedStream[string, rec2]) WindowedStream[string, rec2]) *windowHarness[O] {
	t.Helper()
	env := NewEnv(8)
	src := FromSource(env, Source[rec2]{Name: "src", Open: func(SourceContext, [][]byte) (SourceReader[rec2], error) { return nil, nil }}).WithCodec(codec.JSON[rec2]{})
	out := ds(w(KeyBy(src, func(r rec2) string { return r.K })))
	g, err := env.Plan()
	if err != nil {
		t.Fatal(err)
	}
	h := &windowHarness[O]{t: t, ctx: newFakeContext(8), out: &emitted[O]{}}
	emitter, _, err := g.Operators[out.op].Build(h.out)
	if err != nil {
		t.Fatal(err)
	}
	h.op = emitter.(*processOp[string, rec2, O])
	if err := h.op.Open(h.ctx); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *windowHarness[O]) rec(k string, v, ts int64) {
	h.op.Emit(rec2{k, v}, ts)
	h.failed()
}

func (h *windowHarness[O]) watermark(wm int64) {
	if err := h.op.OnWatermark(wm); err != nil {
		h.t.Fatal(err)
	}
}

func (h *windowHarness[O]) failed() {
	if len(h.ctx.failed) > 0 {
		h.t.Fatalf("operator failed: %v", h.ctx.failed)
	}
}

// expect checks what was emitted since the last expect, in any order.
func (h *windowHarness[O]) expect(want ...string) {
	h.t.Helper()
	got := h.out.take()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		h.t.Fatalf("emitted %v, want %v", got, want)
	}
}

func sumV(w WindowedStream[string, rec2]) DataStream[rec2] {
	return WindowSum(w, "sum", func(r rec2) int64 { return r.V }, func(r rec2, v int64) rec2 { r.V = v; return r })
}

func TestTumblingWindowsWithLateness(t *testing.T) {
	h := newWindowHarness(t, sumV, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(TumblingEventTimeWindows(10 * time.Millisecond)).AllowedLateness(5 * time.Millisecond)
	})
	h.rec("a", 1, 0)
	h.rec("a", 2, 9)
	h.rec("a", 4, 10)
	h.rec("b", 8, 3)
	h.watermark(8)
	h.expect()
	h.watermark(9) // [0,10) ends at 9
	h.expect("{a 3}@9", "{b 8}@9")
	// Late but within the allowed lateness: fires again with it.
	h.rec("a", 16, 5)
	h.expect("{a 19}@9")
	h.watermark(14)   // the lateness of [0,10) ends at 14: its state goes
	h.rec("a", 32, 2) // too late: dropped and counted
	h.expect()
	h.watermark(19)
	h.expect("{a 4}@19")
	if late := h.op.fn.(*windowFn[string, rec2, rec2, rec2]).late; late != 1 {
		t.Fatalf("%d late records counted, want 1", late)
	}
}

func TestSlidingWindows(t *testing.T) {
	h := newWindowHarness(t, sumV, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(SlidingEventTimeWindows(10*time.Millisecond, 5*time.Millisecond))
	})
	h.rec("a", 1, 0)  // [-5,5) [0,10)
	h.rec("a", 2, 7)  // [0,10) [5,15)
	h.rec("a", 4, 12) // [5,15) [10,20)
	h.watermark(4)
	h.expect("{a 1}@4")
	h.watermark(100)
	h.expect("{a 3}@9", "{a 6}@14", "{a 4}@19")
}

func TestSessionWindowsMerge(t *testing.T) {
	h := newWindowHarness(t, sumV, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(EventTimeSessionWindows(10 * time.Millisecond))
	})
	h.rec("a", 1, 0)  // [0,10)
	h.rec("a", 2, 30) // [30,40)
	h.rec("a", 4, 15) // [15,25): apart from both
	h.rec("a", 8, 22) // [22,32): joins [15,25) and [30,40) into [15,40)
	h.watermark(20)
	h.expect("{a 1}@9")
	h.watermark(38)
	h.expect()
	h.watermark(39)
	h.expect("{a 14}@39")
}

func TestCountAndPurgingTriggers(t *testing.T) {
	h := newWindowHarness(t, sumV, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(GlobalWindows()).Trigger(Purging(CountTrigger[rec2](2)))
	})
	for i := range int64(5) {
		h.rec("a", 1<<i, i)
	}
	h.expect("{a 3}@9223372036854775807", "{a 12}@9223372036854775807")
	h.watermark(1 << 62) // global windows never fire on time
	h.expect()
	h.rec("a", 32, 6)
	h.expect("{a 48}@9223372036854775807")
}

func TestEvictors(t *testing.T) {
	count := newWindowHarness(t, sumV, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(GlobalWindows()).Trigger(CountTrigger[rec2](3)).Evictor(CountEvictor[rec2](2))
	})
	for i := range int64(6) {
		count.rec("a", 1<<i, i)
	}
	// Fires at 3 records (keeps the last 2: 2+4) and at 6 (2, 4 were
	// kept: 4 left after eviction... the buffer is 2,4,8,16,32 → last two).
	count.expect("{a 6}@9223372036854775807", "{a 48}@9223372036854775807")

	delta := newWindowHarness(t, sumV, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(GlobalWindows()).Trigger(CountTrigger[rec2](4)).
			Evictor(DeltaEvictor(5, func(a, b rec2) float64 { return float64(b.V - a.V) }))
	})
	for _, v := range []int64{1, 3, 8, 10} {
		delta.rec("a", v, v)
	}
	delta.expect("{a 18}@9223372036854775807") // 8 and 10 are within 5 of 10
}

func TestContinuousEventTimeTrigger(t *testing.T) {
	h := newWindowHarness(t, sumV, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(TumblingEventTimeWindows(100 * time.Millisecond)).Trigger(ContinuousEventTimeTrigger[rec2](30 * time.Millisecond))
	})
	h.rec("a", 1, 5)
	h.watermark(29)
	h.expect()
	h.watermark(30)
	h.expect("{a 1}@99")
	h.rec("a", 2, 40)
	h.watermark(60)
	h.expect("{a 3}@99")
	h.watermark(99)
	h.expect("{a 3}@99", "{a 3}@99") // the 90 timer and the window's end
}

func TestProcessingTimeWindows(t *testing.T) {
	h := newWindowHarness(t, sumV, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(TumblingProcessingTimeWindows(time.Second))
	})
	h.ctx.now = time.UnixMilli(10_000)
	h.rec("a", 1, NoTimestamp)
	h.rec("a", 2, NoTimestamp)
	h.ctx.now = time.UnixMilli(10_999)
	if err := h.op.FireTimers(h.ctx.now); err != nil {
		t.Fatal(err)
	}
	h.expect("{a 3}@10999")
}

func TestWindowProcessAndAggregate(t *testing.T) {
	h := newWindowHarness(t, func(w WindowedStream[string, rec2]) DataStream[string] {
		return WindowProcess(w, "list", func() ProcessWindowFunction[string, rec2, string] { return listWindow{} })
	}, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(TumblingEventTimeWindows(10 * time.Millisecond))
	})
	h.rec("a", 3, 1)
	h.rec("a", 1, 2)
	h.watermark(9)
	h.expect("a [0,10) 3,1@9")

	agg := newWindowHarness(t, func(w WindowedStream[string, rec2]) DataStream[float64] {
		return WindowAggregate(w, "mean", meanAgg{}, codec.JSON[[2]int64]{})
	}, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(EventTimeSessionWindows(6 * time.Millisecond))
	})
	agg.rec("a", 2, 0)  // [0,6)
	agg.rec("a", 4, 10) // [10,16)
	agg.rec("a", 6, 4)  // [4,10) touches both: [0,16)
	agg.watermark(100)
	agg.expect("4@15")
}

type listWindow struct{}

func (listWindow) Process(key string, w Window, elems []Element[rec2], out Collector[string]) error {
	var vs []string
	for _, e := range elems {
		vs = append(vs, fmt.Sprint(e.Value.V))
	}
	out.Emit(fmt.Sprintf("%s %v %s", key, w, strings.Join(vs, ",")))
	return nil
}

type meanAgg struct{}

func (meanAgg) Create() [2]int64                { return [2]int64{} }
func (meanAgg) Add(a [2]int64, r rec2) [2]int64 { return [2]int64{a[0] + r.V, a[1] + 1} }
func (meanAgg) Result(a [2]int64) float64       { return float64(a[0]) / float64(a[1]) }
func (meanAgg) Merge(a, b [2]int64) [2]int64    { return [2]int64{a[0] + b[0], a[1] + b[1]} }

func TestWindowDeclarationErrors(t *testing.T) {
	for _, tc := range []struct {
		a    WindowAssigner
		want string
	}{
		{TumblingEventTimeWindows(0), "size and slide must be at least 1ms"},
		{SlidingEventTimeWindows(time.Second, 0), "size and slide must be at least 1ms"},
		{EventTimeSessionWindows(0), "session gap must be at least 1ms"},
		{TumblingEventTimeWindows(time.Second, 2*time.Second), "offset 2000ms must be within the slide"},
		{WindowAssigner{}, "no window assigner"},
	} {
		env := NewEnv(8)
		src := FromSource(env, Source[rec2]{Name: "src", Open: func(SourceContext, [][]byte) (SourceReader[rec2], error) { return nil, nil }}).WithCodec(codec.JSON[rec2]{})
		sumV(KeyBy(src, func(r rec2) string { return r.K }).Window(tc.a))
		if _, err := env.Plan(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.a, err, tc.want)
		}
	}
	env := NewEnv(8)
	src := FromSource(env, Source[rec2]{Name: "src", Open: func(SourceContext, [][]byte) (SourceReader[rec2], error) { return nil, nil }}).WithCodec(codec.JSON[rec2]{})
	WindowAggregate(KeyBy(src, func(r rec2) string { return r.K }).Window(EventTimeSessionWindows(time.Second)), "count", countOnly{}, codec.Int64{})
	if _, err := env.Plan(); err == nil || !strings.Contains(err.Error(), "has no Merge method") {
		t.Errorf("sessions without Merge: %v", err)
	}
}

type countOnly struct{}

func (countOnly) Create() int64             { return 0 }
func (countOnly) Add(a int64, _ rec2) int64 { return a + 1 }
func (countOnly) Result(a int64) int64      { return a }

func TestWindowAggregateWithWindow(t *testing.T) {
	h := newWindowHarness(t, func(w WindowedStream[string, rec2]) DataStream[string] {
		return WindowAggregateWithWindow(w, "mean", meanAgg{}, codec.JSON[[2]int64]{}, func(key string, win Window, mean float64) string {
			return fmt.Sprintf("%s %v %g", key, win, mean)
		})
	}, func(k KeyedStream[string, rec2]) WindowedStream[string, rec2] {
		return k.Window(EventTimeSessionWindows(6 * time.Millisecond))
	})
	h.rec("a", 2, 0)
	h.rec("a", 4, 10)
	h.rec("a", 6, 4) // merges both: the aggregate's Merge is used
	h.watermark(100)
	h.expect("a [0,16) 4@15")
}
