package stream

import (
	"fmt"
	"math"
	"time"

	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/timers"
)

// TimerFunction is implemented by a ProcessFunction that registers timers:
// OnTimer runs when a timer of key is due, with state scoped to key. A
// function without it cannot register timers: RegisterTimer fails the job,
// and so does restoring timers into it.
type TimerFunction[K comparable, O any] interface {
	OnTimer(key K, timer Timer, out Collector[O]) error
}

// TimeDomain says which clock a timer follows.
type TimeDomain uint8

const (
	// ProcessingTime timers fire when the wall clock reaches them.
	ProcessingTime TimeDomain = iota
	// EventTime timers fire when the watermark passes them.
	EventTime
)

func (d TimeDomain) String() string {
	if d == EventTime {
		return "event time"
	}
	return "processing time"
}

// Timer is a timer that fired: its clock and its time. What OnTimer emits
// for an event-time timer has the timer's time as its timestamp.
type Timer struct {
	Domain TimeDomain
	At     time.Time
}

// Timestamp is the timer's time in milliseconds since the Unix epoch.
func (t Timer) Timestamp() int64 { return t.At.UnixMilli() }

// timersTable and eventTimersTable are the keyed state that holds the
// keys' processing-time and event-time timers (internal/timers): they live
// in key groups like any state, so a rescale moves them with their keys
// and a restore brings them back.
const (
	timersTable      = "_timers"
	eventTimersTable = "_etimers"
)

// newTimers declares the processing-time timers of p and checks them
// against its function: restored timers need OnTimer to fire, and without
// it RegisterTimer fails the subtask.
func (p *processOp[K, T, O]) newTimers(ctx operator.Context) error {
	ts, err := timers.New(p.rt.backend, timersTable, p.kc)
	if err != nil {
		return err
	}
	ets, err := timers.New(p.rt.backend, eventTimersTable, p.kc)
	if err != nil {
		return err
	}
	p.rt.timers, p.rt.etimers = ts, ets
	p.rt.watermark = math.MinInt64
	p.onTimer, _ = p.fn.(TimerFunction[K, O])
	if p.onTimer != nil {
		return nil
	}
	p.rt.noOnTimer = operator.Permanent(fmt.Errorf("%s: RegisterTimer: the process function %T has no OnTimer method (stream.TimerFunction), so its timers would never fire",
		ctx.OperatorID(), userFunction(p.fn)))
	if n := ts.Len() + ets.Len(); n > 0 {
		return operator.Permanent(fmt.Errorf("the state holds %d timers but the process function %T has no OnTimer method (stream.TimerFunction) to fire them; add one, which may ignore them",
			n, userFunction(p.fn)))
	}
	return nil
}

// RegisterTimer asks for OnTimer(key, at) for the current key once the wall
// clock reaches at (processing time). A timer is registered once per key and
// instant; it is part of the key's state: checkpointed, and moved with the
// key when the job rescales.
//
// The function must implement TimerFunction: if it does not, RegisterTimer
// fails the subtask, and the job, with an error naming the operator (a
// restart cannot mend it).
func (r *KeyedRuntime[K]) RegisterTimer(at time.Time) {
	if r.noOnTimer != nil {
		r.ctx.Fail(r.noOnTimer)
		return
	}
	r.timers.Register(r.kg, r.key, unixNano(at))
}

// RegisterEventTimeTimer asks for OnTimer(key, timer) for the current key
// once the watermark passes ts (milliseconds since the Unix epoch): at the
// first watermark at or after ts, or at the end of the input. Like
// processing-time timers it is the key's state, registered once per key
// and instant.
func (r *KeyedRuntime[K]) RegisterEventTimeTimer(ts int64) {
	if r.noOnTimer != nil {
		r.ctx.Fail(r.noOnTimer)
		return
	}
	r.etimers.Register(r.kg, r.key, ts)
}

// DeleteEventTimeTimer removes the current key's event-time timer at ts,
// if any.
func (r *KeyedRuntime[K]) DeleteEventTimeTimer(ts int64) {
	r.etimers.Delete(r.kg, r.key, ts)
}

// CurrentWatermark is the watermark for the current key: the operator's,
// or, after a restore, the one the key's state was checkpointed with if
// that is later (the subtask that owned the key before may have been
// further ahead). No record at or before it is expected; one that comes is
// late. math.MinInt64 before the first.
func (r *KeyedRuntime[K]) CurrentWatermark() int64 {
	return max(r.watermark, r.ctx.RestoredWatermark(r.kg))
}

// DeleteTimer removes the current key's timer at at, if any: from the state
// and from the queue of timers, at once, so that a function may delete and
// register a timer on every record (an inactivity timeout) in constant
// memory.
func (r *KeyedRuntime[K]) DeleteTimer(at time.Time) {
	r.timers.Delete(r.kg, r.key, unixNano(at))
}

// Now is the wall clock of processing time.
func (r *KeyedRuntime[K]) Now() time.Time { return r.ctx.Now() }

// NextTimer implements operator.Timed.
func (p *processOp[K, T, O]) NextTimer() (time.Time, bool) {
	if p.onTimer == nil {
		return time.Time{}, false
	}
	t, ok := p.rt.timers.Peek()
	return time.Unix(0, t.At), ok
}

// FireTimers implements operator.Timed.
func (p *processOp[K, T, O]) FireTimers(now time.Time) error {
	if p.onTimer == nil {
		return nil
	}
	due := unixNano(now)
	for {
		t, ok := p.rt.timers.PopDue(due)
		if !ok {
			return nil
		}
		p.rt.key, p.rt.kg = t.Key, t.KG
		p.rt.ts, p.out.ts = NoTimestamp, NoTimestamp
		if err := p.onTimer.OnTimer(t.Key, Timer{Domain: ProcessingTime, At: time.Unix(0, t.At)}, &p.out); err != nil {
			return fmt.Errorf("%s: timer of key %v: %w", p.rt.ctx.OperatorID(), t.Key, err)
		}
	}
}

// OnWatermark implements operator.EventTimed: the event-time timers the
// watermark passes fire, in time order, their output stamped with their
// time.
func (p *processOp[K, T, O]) OnWatermark(wm int64) error {
	p.rt.watermark = wm
	if p.onTimer == nil {
		return nil
	}
	for {
		t, ok := p.rt.etimers.PopDue(wm)
		if !ok {
			return nil
		}
		p.rt.key, p.rt.kg = t.Key, t.KG
		p.rt.ts, p.out.ts = t.At, t.At
		if err := p.onTimer.OnTimer(t.Key, Timer{Domain: EventTime, At: time.UnixMilli(t.At)}, &p.out); err != nil {
			return fmt.Errorf("%s: event-time timer of key %v: %w", p.rt.ctx.OperatorID(), t.Key, err)
		}
	}
}

// unixNano is at in Unix nanoseconds, clamped to what int64 holds (years
// 1678 to 2262): a timer beyond is due at the end of representable time,
// not at once, as time.UnixNano's overflow would make it.
func unixNano(at time.Time) int64 {
	switch {
	case at.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	case at.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	}
	return at.UnixNano()
}
