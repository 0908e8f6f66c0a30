package stream

import (
	"time"
)

// TriggerResult is what a trigger decides for a window.
type TriggerResult uint8

const (
	// Continue: nothing now.
	Continue TriggerResult = iota
	// Fire: run the window function over the window's contents, and keep
	// them.
	Fire
	// Purge: drop the window's contents without firing.
	Purge
	// FireAndPurge: fire, then drop the contents.
	FireAndPurge
)

func (r TriggerResult) fires() bool  { return r == Fire || r == FireAndPurge }
func (r TriggerResult) purges() bool { return r == Purge || r == FireAndPurge }

// TriggerState is what a trigger keeps per key and window: a counter (a
// count, the next firing time) and a record (the last one a delta trigger
// fired on). It is checkpointed with the window.
type TriggerState[T any] struct {
	// N is a counter or a time; HasN says it holds one (a time of 0 is a
	// time).
	N             int64
	HasN          bool
	HasLast       bool
	Last          T
	LastTimestamp int64
}

// StateMerger is implemented by a trigger whose state does not merge the
// default way when session windows merge (counters added, the latest
// record kept): a trigger that keeps a time in N keeps the earliest.
type StateMerger[T any] interface {
	MergeState(into *TriggerState[T], from TriggerState[T])
}

// mergeTriggerState combines from into into for trigger t.
func mergeTriggerState[T any](t Trigger[T], into *TriggerState[T], from TriggerState[T]) {
	if m, ok := t.(StateMerger[T]); ok {
		m.MergeState(into, from)
		return
	}
	if from.HasN {
		into.N, into.HasN = into.N+from.N, true
	}
	if from.HasLast && (!into.HasLast || from.LastTimestamp >= into.LastTimestamp) {
		into.HasLast, into.Last, into.LastTimestamp = true, from.Last, from.LastTimestamp
	}
}

// TriggerContext is a trigger's view of its key and window: timers, time
// and its state. Times are milliseconds since the Unix epoch.
type TriggerContext[T any] struct {
	op triggerHost
	st *TriggerState[T]
}

// triggerHost is what a trigger reaches of its window operator.
type triggerHost interface {
	registerEventTime(at int64)
	registerProcessingTime(at int64)
	watermark() int64
	now() int64
}

// RegisterEventTimeTimer asks for OnEventTime(at) when the watermark
// passes at. Timers are the key's: a timer a trigger no longer needs may
// still call it, and it answers Continue.
func (c *TriggerContext[T]) RegisterEventTimeTimer(at int64) { c.op.registerEventTime(at) }

// RegisterProcessingTimeTimer asks for OnProcessingTime(at) when the wall
// clock reaches at.
func (c *TriggerContext[T]) RegisterProcessingTimeTimer(at int64) { c.op.registerProcessingTime(at) }

// CurrentWatermark is the key's watermark.
func (c *TriggerContext[T]) CurrentWatermark() int64 { return c.op.watermark() }

// CurrentProcessingTime is the wall clock in milliseconds.
func (c *TriggerContext[T]) CurrentProcessingTime() int64 { return c.op.now() }

// State is the trigger's state for this key and window; changes to it are
// kept.
func (c *TriggerContext[T]) State() *TriggerState[T] { return c.st }

// Trigger decides when a window fires (Flink's Trigger). Its methods run
// with the key's state in scope.
type Trigger[T any] interface {
	// OnElement runs for each record added to window w.
	OnElement(v T, ts int64, w Window, ctx *TriggerContext[T]) TriggerResult
	// OnEventTime runs when an event-time timer of the key at time at
	// fires, for each of the key's windows.
	OnEventTime(at int64, w Window, ctx *TriggerContext[T]) TriggerResult
	// OnProcessingTime runs when a processing-time timer fires, likewise.
	OnProcessingTime(at int64, w Window, ctx *TriggerContext[T]) TriggerResult
	// OnMerge runs when session windows merged into w; the merged windows'
	// states have been combined into ctx.State (counters added, the latest
	// record kept).
	OnMerge(w Window, ctx *TriggerContext[T])
}

// EventTimeTrigger fires a window once the watermark passes its end, and
// again for each record within the allowed lateness (Flink's default for
// event-time windows).
func EventTimeTrigger[T any]() Trigger[T] { return eventTimeTrigger[T]{} }

type eventTimeTrigger[T any] struct{}

func (eventTimeTrigger[T]) OnElement(_ T, _ int64, w Window, ctx *TriggerContext[T]) TriggerResult {
	if w.MaxTimestamp() <= ctx.CurrentWatermark() {
		return Fire // a late record within the allowed lateness
	}
	ctx.RegisterEventTimeTimer(w.MaxTimestamp())
	return Continue
}

func (eventTimeTrigger[T]) OnEventTime(at int64, w Window, _ *TriggerContext[T]) TriggerResult {
	if at == w.MaxTimestamp() {
		return Fire
	}
	return Continue
}

func (eventTimeTrigger[T]) OnProcessingTime(int64, Window, *TriggerContext[T]) TriggerResult {
	return Continue
}

func (eventTimeTrigger[T]) OnMerge(w Window, ctx *TriggerContext[T]) {
	if w.MaxTimestamp() > ctx.CurrentWatermark() {
		ctx.RegisterEventTimeTimer(w.MaxTimestamp())
	}
}

// ProcessingTimeTrigger fires a window when the wall clock passes its end
// (the default for processing-time windows).
func ProcessingTimeTrigger[T any]() Trigger[T] { return processingTimeTrigger[T]{} }

type processingTimeTrigger[T any] struct{}

func (processingTimeTrigger[T]) OnElement(_ T, _ int64, w Window, ctx *TriggerContext[T]) TriggerResult {
	ctx.RegisterProcessingTimeTimer(w.MaxTimestamp())
	return Continue
}

func (processingTimeTrigger[T]) OnEventTime(int64, Window, *TriggerContext[T]) TriggerResult {
	return Continue
}

func (processingTimeTrigger[T]) OnProcessingTime(at int64, w Window, _ *TriggerContext[T]) TriggerResult {
	if at == w.MaxTimestamp() {
		return Fire
	}
	return Continue
}

func (processingTimeTrigger[T]) OnMerge(w Window, ctx *TriggerContext[T]) {
	ctx.RegisterProcessingTimeTimer(w.MaxTimestamp())
}

// NeverTrigger never fires (the default of GlobalWindows).
func NeverTrigger[T any]() Trigger[T] { return neverTrigger[T]{} }

type neverTrigger[T any] struct{}

func (neverTrigger[T]) OnElement(T, int64, Window, *TriggerContext[T]) TriggerResult { return Continue }
func (neverTrigger[T]) OnEventTime(int64, Window, *TriggerContext[T]) TriggerResult  { return Continue }
func (neverTrigger[T]) OnProcessingTime(int64, Window, *TriggerContext[T]) TriggerResult {
	return Continue
}
func (neverTrigger[T]) OnMerge(Window, *TriggerContext[T]) {}

// CountTrigger fires a window every n records (Flink's CountTrigger: it
// fires and keeps the contents; wrap it in Purging to drop them).
func CountTrigger[T any](n int64) Trigger[T] { return countTrigger[T]{n: n} }

type countTrigger[T any] struct{ n int64 }

func (t countTrigger[T]) OnElement(_ T, _ int64, _ Window, ctx *TriggerContext[T]) TriggerResult {
	st := ctx.State()
	st.N, st.HasN = st.N+1, true
	if st.N >= t.n {
		st.N = 0
		return Fire
	}
	return Continue
}

func (countTrigger[T]) OnEventTime(int64, Window, *TriggerContext[T]) TriggerResult { return Continue }
func (countTrigger[T]) OnProcessingTime(int64, Window, *TriggerContext[T]) TriggerResult {
	return Continue
}

func (t countTrigger[T]) OnMerge(_ Window, ctx *TriggerContext[T]) {}

// DeltaTrigger fires when delta(last, v) exceeds threshold, where last is
// the record it last fired on (the first record is kept without firing),
// as Flink's DeltaTrigger.
func DeltaTrigger[T any](threshold float64, delta func(last, v T) float64) Trigger[T] {
	return deltaTrigger[T]{threshold: threshold, delta: delta}
}

type deltaTrigger[T any] struct {
	threshold float64
	delta     func(last, v T) float64
}

func (t deltaTrigger[T]) OnElement(v T, ts int64, _ Window, ctx *TriggerContext[T]) TriggerResult {
	st := ctx.State()
	if !st.HasLast {
		st.HasLast, st.Last, st.LastTimestamp = true, v, ts
		return Continue
	}
	if t.delta(st.Last, v) > t.threshold {
		st.Last, st.LastTimestamp = v, ts
		return Fire
	}
	return Continue
}

func (deltaTrigger[T]) OnEventTime(int64, Window, *TriggerContext[T]) TriggerResult { return Continue }
func (deltaTrigger[T]) OnProcessingTime(int64, Window, *TriggerContext[T]) TriggerResult {
	return Continue
}
func (deltaTrigger[T]) OnMerge(Window, *TriggerContext[T]) {}

// ContinuousEventTimeTrigger fires a window every interval of event time,
// and at its end (Flink's ContinuousEventTimeTrigger).
func ContinuousEventTimeTrigger[T any](interval time.Duration) Trigger[T] {
	return continuousTrigger[T]{interval: interval.Milliseconds()}
}

// ContinuousProcessingTimeTrigger fires a window every interval of
// processing time.
func ContinuousProcessingTimeTrigger[T any](interval time.Duration) Trigger[T] {
	return continuousTrigger[T]{interval: interval.Milliseconds(), processing: true}
}

// continuousTrigger keeps the next firing time in State().N (HasN: set).
type continuousTrigger[T any] struct {
	interval   int64
	processing bool
}

func (t continuousTrigger[T]) OnElement(_ T, ts int64, w Window, ctx *TriggerContext[T]) TriggerResult {
	if t.processing {
		now := ctx.CurrentProcessingTime()
		if st := ctx.State(); !st.HasN {
			st.N, st.HasN = now-windowRem(now, t.interval)+t.interval, true
			ctx.RegisterProcessingTimeTimer(st.N)
		}
		return Continue
	}
	if w.MaxTimestamp() <= ctx.CurrentWatermark() {
		return Fire
	}
	ctx.RegisterEventTimeTimer(w.MaxTimestamp())
	if st := ctx.State(); !st.HasN {
		st.N, st.HasN = ts-windowRem(ts, t.interval)+t.interval, true
		ctx.RegisterEventTimeTimer(st.N)
	}
	return Continue
}

func windowRem(ts, interval int64) int64 {
	r := ts % interval
	if r < 0 {
		r += interval
	}
	return r
}

func (t continuousTrigger[T]) OnEventTime(at int64, w Window, ctx *TriggerContext[T]) TriggerResult {
	if t.processing {
		return Continue
	}
	if at == w.MaxTimestamp() {
		return Fire
	}
	if st := ctx.State(); st.HasN && at == st.N {
		st.N = at + t.interval
		ctx.RegisterEventTimeTimer(st.N)
		return Fire
	}
	return Continue
}

func (t continuousTrigger[T]) OnProcessingTime(at int64, _ Window, ctx *TriggerContext[T]) TriggerResult {
	if !t.processing {
		return Continue
	}
	if st := ctx.State(); st.HasN && at == st.N {
		st.N = at + t.interval
		ctx.RegisterProcessingTimeTimer(st.N)
		return Fire
	}
	return Continue
}

func (t continuousTrigger[T]) OnMerge(w Window, ctx *TriggerContext[T]) {
	if t.processing {
		return
	}
	if w.MaxTimestamp() > ctx.CurrentWatermark() {
		ctx.RegisterEventTimeTimer(w.MaxTimestamp())
	}
	if st := ctx.State(); st.HasN {
		ctx.RegisterEventTimeTimer(st.N)
	}
}

// MergeState keeps the earliest next firing time (Flink merges it with
// Min).
func (t continuousTrigger[T]) MergeState(into *TriggerState[T], from TriggerState[T]) {
	if from.HasN && (!into.HasN || from.N < into.N) {
		into.N, into.HasN = from.N, true
	}
}

// Purging makes a trigger drop the window's contents whenever it fires
// (Flink's PurgingTrigger).
func Purging[T any](t Trigger[T]) Trigger[T] { return purging[T]{t} }

type purging[T any] struct{ t Trigger[T] }

func purge(r TriggerResult) TriggerResult {
	if r.fires() {
		return FireAndPurge
	}
	return r
}

func (p purging[T]) OnElement(v T, ts int64, w Window, ctx *TriggerContext[T]) TriggerResult {
	return purge(p.t.OnElement(v, ts, w, ctx))
}
func (p purging[T]) OnEventTime(at int64, w Window, ctx *TriggerContext[T]) TriggerResult {
	return purge(p.t.OnEventTime(at, w, ctx))
}
func (p purging[T]) OnProcessingTime(at int64, w Window, ctx *TriggerContext[T]) TriggerResult {
	return purge(p.t.OnProcessingTime(at, w, ctx))
}
func (p purging[T]) OnMerge(w Window, ctx *TriggerContext[T]) { p.t.OnMerge(w, ctx) }

func (p purging[T]) MergeState(into *TriggerState[T], from TriggerState[T]) {
	mergeTriggerState(p.t, into, from)
}

// Evictor removes records from a window's buffer before (or after) its
// function runs (Flink's Evictor); what is left stays in the window.
type Evictor[T any] interface {
	// Evict returns the records to keep; before says whether the window
	// function is about to run (true) or has run.
	Evict(elems []Element[T], w Window, before bool) []Element[T]
}

// CountEvictor keeps the last n records (before the function, unless
// after is given true).
func CountEvictor[T any](n int, after ...bool) Evictor[T] {
	return countEvictor[T]{n: n, after: len(after) > 0 && after[0]}
}

type countEvictor[T any] struct {
	n     int
	after bool
}

func (e countEvictor[T]) Evict(elems []Element[T], _ Window, before bool) []Element[T] {
	if before == e.after || len(elems) <= e.n {
		return elems
	}
	return elems[len(elems)-e.n:]
}

// TimeEvictor keeps the records within size of the newest record in the
// window (Flink's TimeEvictor: it drops records at or before the newest
// timestamp minus size, wherever they are in the buffer).
func TimeEvictor[T any](size time.Duration, after ...bool) Evictor[T] {
	return timeEvictor[T]{size: size.Milliseconds(), after: len(after) > 0 && after[0]}
}

type timeEvictor[T any] struct {
	size  int64
	after bool
}

func (e timeEvictor[T]) Evict(elems []Element[T], _ Window, before bool) []Element[T] {
	if before == e.after || len(elems) == 0 {
		return elems
	}
	newest := elems[0].Timestamp
	for _, el := range elems {
		if el.Timestamp == NoTimestamp {
			return elems // Flink: no timestamps, nothing to evict by
		}
		newest = max(newest, el.Timestamp)
	}
	cut := newest - e.size
	kept := elems[:0:0]
	for _, el := range elems {
		if el.Timestamp > cut {
			kept = append(kept, el)
		}
	}
	return kept
}

// DeltaEvictor keeps the records whose delta to the newest record in the
// buffer is below threshold (Flink's DeltaEvictor).
func DeltaEvictor[T any](threshold float64, delta func(a, b T) float64, after ...bool) Evictor[T] {
	return deltaEvictor[T]{threshold: threshold, delta: delta, after: len(after) > 0 && after[0]}
}

type deltaEvictor[T any] struct {
	threshold float64
	delta     func(a, b T) float64
	after     bool
}

func (e deltaEvictor[T]) Evict(elems []Element[T], _ Window, before bool) []Element[T] {
	if before == e.after || len(elems) == 0 {
		return elems
	}
	last := elems[len(elems)-1].Value
	kept := elems[:0:0]
	for _, el := range elems {
		if e.delta(el.Value, last) < e.threshold {
			kept = append(kept, el)
		}
	}
	return kept
}
