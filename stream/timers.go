package stream

import (
	"fmt"
	"math"
	"time"

	"github.com/tide-stream/tide/internal/timers"
)

// TimerFunction is implemented by a ProcessFunction that registers timers:
// OnTimer runs when a timer of key is due, with state scoped to key.
type TimerFunction[K comparable, O any] interface {
	OnTimer(key K, at time.Time, out Collector[O]) error
}

// timersTable is the name of the keyed state that holds the keys'
// processing-time timers (internal/timers): they live in key groups like
// any state, so a rescale moves them with their keys and a restore brings
// them back. Event-time timers will have a table of their own.
const timersTable = "_timers"

// newTimers declares the processing-time timers of p.
func (p *processOp[K, T, O]) newTimers() error {
	ts, err := timers.New(p.rt.backend, timersTable, p.kc)
	if err != nil {
		return err
	}
	p.rt.timers = ts
	p.onTimer, _ = p.fn.(TimerFunction[K, O])
	return nil
}

// RegisterTimer asks for OnTimer(key, at) for the current key once the wall
// clock reaches at (processing time). A timer is registered once per key and
// instant; it is part of the key's state: checkpointed, and moved with the
// key when the job rescales. The function must implement TimerFunction.
func (r *KeyedRuntime[K]) RegisterTimer(at time.Time) {
	r.timers.Register(r.kg, r.key, unixNano(at))
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
		if err := p.onTimer.OnTimer(t.Key, time.Unix(0, t.At), p.out); err != nil {
			return fmt.Errorf("%s: timer of key %v: %w", p.rt.ctx.OperatorID(), t.Key, err)
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
