package stream

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/operator"
)

// WindowedStream is a keyed stream cut into windows, before its window
// function is given.
type WindowedStream[K comparable, T any] struct {
	k        KeyedStream[K, T]
	assigner WindowAssigner
	trigger  Trigger[T]
	evictor  Evictor[T]
	lateness time.Duration
	lateTag  *OutputTag[T]
}

// Window cuts the keyed stream into the windows of a.
func (k KeyedStream[K, T]) Window(a WindowAssigner) WindowedStream[K, T] {
	return WindowedStream[K, T]{k: k, assigner: a}
}

// Trigger replaces the assigner's default trigger.
func (w WindowedStream[K, T]) Trigger(t Trigger[T]) WindowedStream[K, T] {
	w.trigger = t
	return w
}

// Evictor removes records from a window before (or after) its function
// runs. A windowed stream with an evictor buffers its records, even under
// Reduce or Aggregate.
func (w WindowedStream[K, T]) Evictor(e Evictor[T]) WindowedStream[K, T] {
	w.evictor = e
	return w
}

// AllowedLateness keeps an event-time window's state for d after the
// watermark passed its end: a record that comes in that time fires it
// again (with EventTimeTrigger). Records later than that are dropped (or
// sent to SideOutputLateData's side output) and counted; the count is
// logged at the 1st, 2nd, 4th, 8th… such record. Default 0.
func (w WindowedStream[K, T]) AllowedLateness(d time.Duration) WindowedStream[K, T] {
	w.lateness = d
	return w
}

// SideOutputLateData sends the records that come after their windows'
// allowed lateness to side output tag (read it with GetSideOutput on the
// window's result) instead of only counting them.
func (w WindowedStream[K, T]) SideOutputLateData(tag OutputTag[T]) WindowedStream[K, T] {
	w.lateTag = &tag
	return w
}

// ProcessWindowFunction gets all the records of a window when it fires.
type ProcessWindowFunction[K comparable, T, O any] interface {
	Process(key K, w Window, elems []Element[T], out Collector[O]) error
}

// WindowProcess applies a function to all the records of each window when
// it fires. The records are buffered in the window's state.
func WindowProcess[K comparable, T, O any](w WindowedStream[K, T], name string, fn func() ProcessWindowFunction[K, T, O], opts ...Option) DataStream[O] {
	return windowed(w, name, func() *windowFn[K, T, struct{}, O] {
		f := fn()
		return &windowFn[K, T, struct{}, O]{buffered: func(key K, win Window, elems []Element[T], out Collector[O]) error {
			return f.Process(key, win, elems, out)
		}}
	}, nil, opts)
}

// WindowReduce reduces each window's records with f, incrementally unless
// the window has an evictor, and emits the reduction when it fires.
func WindowReduce[K comparable, T any](w WindowedStream[K, T], name string, f func(acc, v T) T, opts ...Option) DataStream[T] {
	c, _ := w.k.in.edgeCodec(name)
	out := windowed(w, name, func() *windowFn[K, T, T, T] {
		return &windowFn[K, T, T, T]{
			add:    func(acc T, v T, first bool) T { return reduceFirst(f, acc, v, first) },
			merge:  f,
			result: func(_ K, _ Window, acc T) T { return acc },
		}
	}, c, opts)
	out.codec = w.k.in.codec
	return out
}

func reduceFirst[T any](f func(acc, v T) T, acc, v T, first bool) T {
	if first {
		return v
	}
	return f(acc, v)
}

// MergingAggregateFunction is an AggregateFunction that can also combine
// two accumulators, which session windows need when they merge.
type MergingAggregateFunction[T, A, O any] interface {
	AggregateFunction[T, A, O]
	Merge(a, b A) A
}

// WindowAggregate folds each window's records into an accumulator (encoded
// with ac, or codec.For's) and emits f.Result when the window fires.
// Session windows need f to implement MergingAggregateFunction.
func WindowAggregate[K comparable, T, A, O any](w WindowedStream[K, T], name string, f AggregateFunction[T, A, O], ac codec.Codec[A], opts ...Option) DataStream[O] {
	return windowAggregate(w, name, f, ac, func(_ K, _ Window, acc A) O { return f.Result(acc) }, opts)
}

// WindowAggregateWithWindow is WindowAggregate whose output also sees the
// key and the window: f folds the records incrementally, and result makes
// the output from the key, the window and f's result when the window fires
// (Flink's aggregate(AggregateFunction, ProcessWindowFunction)).
func WindowAggregateWithWindow[K comparable, T, A, R, O any](w WindowedStream[K, T], name string, f AggregateFunction[T, A, R], ac codec.Codec[A], result func(key K, win Window, r R) O, opts ...Option) DataStream[O] {
	return windowAggregate(w, name, f, ac, func(key K, win Window, acc A) O { return result(key, win, f.Result(acc)) }, opts)
}

func windowAggregate[K comparable, T, A, R, O any](w WindowedStream[K, T], name string, f AggregateFunction[T, A, R], ac codec.Codec[A], result func(K, Window, A) O, opts []Option) DataStream[O] {
	if ac == nil {
		var err error
		if ac, err = codec.For[A](); err != nil {
			w.k.in.env.report(fallbackError(fmt.Sprintf("accumulator of %q", name), err, "pass a codec to WindowAggregate"))
		}
	}
	var merge func(a, b A) A
	if m, ok := f.(interface{ Merge(a, b A) A }); ok {
		merge = m.Merge
	} else if w.assigner.merging() {
		w.k.in.env.fail("stream: window %q: session windows merge, and the aggregate function %T has no Merge method (stream.MergingAggregateFunction)", name, f)
	}
	return windowed(w, name, func() *windowFn[K, T, A, O] {
		return &windowFn[K, T, A, O]{
			add: func(acc A, v T, first bool) A {
				if first {
					acc = f.Create()
				}
				return f.Add(acc, v)
			},
			merge:  merge,
			result: result,
		}
	}, ac, opts)
}

// WindowMaxBy emits, per window, the record that is greatest by less (the
// first one of several equal, as Flink's maxBy).
func WindowMaxBy[K comparable, T any](w WindowedStream[K, T], name string, less func(a, b T) bool, opts ...Option) DataStream[T] {
	return WindowReduce(w, name, func(acc, v T) T {
		if less(acc, v) {
			return v
		}
		return acc
	}, opts...)
}

// WindowMinBy emits, per window, the record that is least by less (the
// first one of several equal).
func WindowMinBy[K comparable, T any](w WindowedStream[K, T], name string, less func(a, b T) bool, opts ...Option) DataStream[T] {
	return WindowReduce(w, name, func(acc, v T) T {
		if less(v, acc) {
			return v
		}
		return acc
	}, opts...)
}

// WindowMax emits, per window, the window's first record with the field
// get reads set (by set) to the largest value of the window (Flink's max).
func WindowMax[K comparable, T any, F cmp.Ordered](w WindowedStream[K, T], name string, get func(T) F, set func(T, F) T, opts ...Option) DataStream[T] {
	return WindowReduce(w, name, func(acc, v T) T { return set(acc, max(get(acc), get(v))) }, opts...)
}

// WindowMin is WindowMax with the smallest value.
func WindowMin[K comparable, T any, F cmp.Ordered](w WindowedStream[K, T], name string, get func(T) F, set func(T, F) T, opts ...Option) DataStream[T] {
	return WindowReduce(w, name, func(acc, v T) T { return set(acc, min(get(acc), get(v))) }, opts...)
}

// Number is a type WindowSum adds.
type Number interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// WindowSum emits, per window, its first record with the field get reads
// set to the sum over the window (Flink's sum).
func WindowSum[K comparable, T any, N Number](w WindowedStream[K, T], name string, get func(T) N, set func(T, N) T, opts ...Option) DataStream[T] {
	return WindowReduce(w, name, func(acc, v T) T { return set(acc, get(acc)+get(v)) }, opts...)
}

// windowed declares the window operator: a keyed process function over
// the window's state. ac encodes the accumulator; nil when the function
// buffers records.
func windowed[K comparable, T, A, O any](w WindowedStream[K, T], name string, newFn func() *windowFn[K, T, A, O], ac codec.Codec[A], opts []Option) DataStream[O] {
	env := w.k.in.env
	if err := w.assigner.check(); err != nil {
		env.fail("stream: window %q: %w", name, err)
	}
	if w.lateness < 0 {
		env.fail("stream: window %q: negative allowed lateness %v", name, w.lateness)
	}
	tc, err := w.k.in.edgeCodec(name)
	if err != nil {
		env.report(err)
	}
	trigger := w.trigger
	if trigger == nil {
		trigger = defaultTrigger[T](w.assigner)
	}
	return Process(w.k, name, func() ProcessFunction[K, T, O] {
		f := newFn()
		f.assigner, f.trigger, f.evictor, f.lateness = w.assigner, trigger, w.evictor, w.lateness.Milliseconds()
		f.lateTag = w.lateTag
		f.tc, f.ac = tc, ac
		if f.result == nil || w.evictor != nil {
			f.ac = nil // the records are buffered
		}
		return f
	}, opts...)
}

// defaultTrigger is an assigner's trigger when the job gives none.
func defaultTrigger[T any](a WindowAssigner) Trigger[T] {
	switch {
	case a.global:
		return NeverTrigger[T]()
	case a.processingTime:
		return ProcessingTimeTrigger[T]()
	}
	return EventTimeTrigger[T]()
}

// windowFn is the window operator as a keyed process function: per key, a
// map from window to its state; event-time and processing-time timers of
// the key drive triggers and cleanup.
type windowFn[K comparable, T, A, O any] struct {
	assigner WindowAssigner
	trigger  Trigger[T]
	evictor  Evictor[T]
	lateness int64
	tc       codec.Codec[T]
	ac       codec.Codec[A] // nil: records are buffered

	// add, merge and result make an incremental function (Reduce,
	// Aggregate); buffered is a full one (Process).
	add      func(acc A, v T, first bool) A
	merge    func(a, b A) A
	result   func(key K, w Window, acc A) O
	buffered func(key K, w Window, elems []Element[T], out Collector[O]) error

	rt      *KeyedRuntime[K]
	windows *MapState[K, Window, *windowState[T, A]]
	scratch []Window
	// late counts the records dropped for coming after their windows'
	// allowed lateness; lateOut, if the job reads them, gets them.
	late    int64
	lateTag *OutputTag[T]
	lateOut Collector[T]
}

func (f *windowFn[K, T, A, O]) Open(rt *KeyedRuntime[K]) error {
	f.rt = rt
	if f.lateTag != nil {
		f.lateOut = SideOutput(rt, *f.lateTag)
	}
	var err error
	f.windows, err = MapOf[Window, *windowState[T, A]](rt, "windows", windowCodec{}, windowStateCodec[T, A]{t: f.tc, acc: f.ac})
	return err
}

// triggerHost: timers and time for triggers, on the current key.
func (f *windowFn[K, T, A, O]) registerEventTime(at int64) { f.rt.RegisterEventTimeTimer(at) }
func (f *windowFn[K, T, A, O]) registerProcessingTime(at int64) {
	f.rt.RegisterTimer(time.UnixMilli(at))
}
func (f *windowFn[K, T, A, O]) watermark() int64 { return f.rt.CurrentWatermark() }
func (f *windowFn[K, T, A, O]) now() int64       { return f.rt.Now().UnixMilli() }

// cleanupTime is when a window's state goes: the end of its allowed
// lateness in event time, its end in processing time; never for the
// global window.
func (f *windowFn[K, T, A, O]) cleanupTime(w Window) int64 {
	if w == GlobalWindow {
		return math.MaxInt64
	}
	if f.assigner.EventTime() {
		return addClamped(w.MaxTimestamp(), f.lateness)
	}
	return w.MaxTimestamp()
}

func (f *windowFn[K, T, A, O]) windowLate(w Window) bool {
	return f.assigner.EventTime() && w != GlobalWindow && f.cleanupTime(w) <= f.watermark()
}

func (f *windowFn[K, T, A, O]) Process(key K, v T, out Collector[O]) error {
	ts, ok := f.rt.Timestamp()
	switch {
	case f.assigner.processingTime:
		ts = f.now()
	case f.assigner.EventTime() && !ok:
		return operator.Permanent(fmt.Errorf("a record without a timestamp in %s: give the source a watermark strategy (WithWatermarks)", f.assigner.name))
	}
	f.scratch = f.assigner.assign(ts, f.scratch[:0])
	skipped := true
	for _, w := range f.scratch {
		if f.assigner.merging() {
			var late bool
			if w, late = f.mergeInto(w); late {
				continue
			}
		} else if f.windowLate(w) {
			continue
		}
		skipped = false
		st, _ := f.windows.Get(w)
		if st == nil {
			st = &windowState[T, A]{}
		}
		if f.ac != nil {
			st.Acc, st.HasAcc = f.add(st.Acc, v, !st.HasAcc), true
		} else {
			st.Elems = append(st.Elems, Element[T]{Value: v, Timestamp: ts})
		}
		res := f.trigger.OnElement(v, ts, w, &TriggerContext[T]{op: f, st: &st.Trigger})
		if err := f.act(key, w, st, res, out); err != nil {
			return err
		}
		f.windows.Put(w, st)
		f.registerCleanup(w)
	}
	if skipped && f.assigner.EventTime() && addClamped(ts, f.lateness) <= f.watermark() {
		f.late++
		if f.lateOut != nil {
			f.lateOut.Emit(v)
		}
		if f.late&(f.late-1) == 0 {
			// The 1st, 2nd, 4th, 8th… late record: a log line now and then,
			// not one a record. (A metric comes with the metrics layer.)
			f.rt.ctx.Logger().Warn("records came after their windows' allowed lateness", "operator", f.rt.ctx.OperatorID(),
				"late_records", f.late, "timestamp", ts, "watermark", f.watermark(), "side_output", f.lateOut != nil)
		}
	}
	return nil
}

// mergeInto merges the new session window w with the key's sessions it
// touches; it returns the merged window, or reports that w is late and
// touches none.
func (f *windowFn[K, T, A, O]) mergeInto(w Window) (Window, bool) {
	var victims []Window
	merged := w
	for changed := true; changed; {
		changed = false
		f.windows.All(func(e Window, _ *windowState[T, A]) bool {
			if e != merged && !slices.Contains(victims, e) && e.intersects(merged) {
				victims = append(victims, e)
				merged = merged.cover(e)
				changed = true
			}
			return true
		})
	}
	if len(victims) == 0 {
		return w, f.windowLate(w)
	}
	if len(victims) == 1 && victims[0] == merged {
		return merged, false // w lies within an existing session
	}
	slices.SortFunc(victims, func(a, b Window) int { return cmp.Compare(a.Start, b.Start) })
	into := &windowState[T, A]{}
	for _, e := range victims {
		st, _ := f.windows.Get(e)
		if st == nil {
			continue
		}
		switch {
		case st.HasAcc && into.HasAcc:
			into.Acc = f.merge(into.Acc, st.Acc)
		case st.HasAcc:
			into.Acc, into.HasAcc = st.Acc, true
		}
		into.Elems = append(into.Elems, st.Elems...)
		mergeTriggerState(f.trigger, &into.Trigger, st.Trigger)
		f.windows.Remove(e)
	}
	f.trigger.OnMerge(merged, &TriggerContext[T]{op: f, st: &into.Trigger})
	f.windows.Put(merged, into)
	return merged, false
}

func (f *windowFn[K, T, A, O]) registerCleanup(w Window) {
	at := f.cleanupTime(w)
	switch {
	case at == math.MaxInt64:
	case f.assigner.EventTime():
		f.rt.RegisterEventTimeTimer(at)
	default:
		f.rt.RegisterTimer(time.UnixMilli(at))
	}
}

// act carries out a trigger's result for window w.
func (f *windowFn[K, T, A, O]) act(key K, w Window, st *windowState[T, A], res TriggerResult, out Collector[O]) error {
	if res.fires() {
		if err := f.emit(key, w, st, out); err != nil {
			return err
		}
	}
	if res.purges() {
		var zero A
		st.Acc, st.HasAcc, st.Elems = zero, false, nil
	}
	return nil
}

// emit runs the window function over w's contents; what it emits has the
// window's last millisecond as its timestamp.
func (f *windowFn[K, T, A, O]) emit(key K, w Window, st *windowState[T, A], out Collector[O]) error {
	if c, ok := out.(*collector[O]); ok {
		defer func(ts int64) { c.ts = ts }(c.ts)
		c.ts = w.MaxTimestamp()
	}
	if f.ac != nil {
		if st.HasAcc {
			out.Emit(f.result(key, w, st.Acc))
		}
		return nil
	}
	if len(st.Elems) == 0 {
		return nil
	}
	elems := st.Elems
	if f.evictor != nil {
		elems = f.evictor.Evict(elems, w, true)
	}
	if f.buffered != nil {
		if err := f.buffered(key, w, elems, out); err != nil {
			return err
		}
	} else if len(elems) > 0 {
		var acc A
		for i, e := range elems {
			acc = f.add(acc, e.Value, i == 0)
		}
		out.Emit(f.result(key, w, acc))
	}
	if f.evictor != nil {
		elems = f.evictor.Evict(elems, w, false)
	}
	st.Elems = elems
	return nil
}

// OnTimer implements TimerFunction: a timer of the key runs the trigger of
// each of its windows, and removes the windows whose cleanup time it is.
func (f *windowFn[K, T, A, O]) OnTimer(key K, t Timer, out Collector[O]) error {
	at := t.Timestamp()
	var ws []Window
	f.windows.All(func(w Window, _ *windowState[T, A]) bool {
		ws = append(ws, w)
		return true
	})
	slices.SortFunc(ws, func(a, b Window) int {
		if c := cmp.Compare(a.End, b.End); c != 0 {
			return c
		}
		return cmp.Compare(a.Start, b.Start)
	})
	cleanupDomain := EventTime
	if !f.assigner.EventTime() {
		cleanupDomain = ProcessingTime
	}
	for _, w := range ws {
		st, ok := f.windows.Get(w)
		if !ok {
			continue
		}
		ctx := &TriggerContext[T]{op: f, st: &st.Trigger}
		var res TriggerResult
		if t.Domain == EventTime {
			res = f.trigger.OnEventTime(at, w, ctx)
		} else {
			res = f.trigger.OnProcessingTime(at, w, ctx)
		}
		if err := f.act(key, w, st, res, out); err != nil {
			return err
		}
		if t.Domain == cleanupDomain && at == f.cleanupTime(w) {
			f.windows.Remove(w)
			continue
		}
		f.windows.Put(w, st)
	}
	return nil
}
