package stream

import (
	"container/heap"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/state"
)

// TimerFunction is implemented by a ProcessFunction that registers timers:
// OnTimer runs when a timer of key is due, with state scoped to key.
type TimerFunction[K comparable, O any] interface {
	OnTimer(key K, at time.Time, out Collector[O]) error
}

// timersTable is the name of the keyed state that holds a key's timers:
// they live in key groups like any state, so a rescale moves them with
// their keys and a restore brings them back.
const timersTable = "_timers"

// timers are the processing-time timers of one keyed operator instance:
// the durable set per key (state) and a min-heap to find the next one due,
// rebuilt from the state at open. Heap entries whose timer was deleted are
// dropped when they surface.
type timers[K comparable] struct {
	table *state.Table[K, []int64]
	queue timerQueue[K]
}

type timerEntry[K comparable] struct {
	at  int64 // unix nanos
	kg  keygroup.KeyGroup
	key K
}

type timerQueue[K comparable] []timerEntry[K]

func (q timerQueue[K]) Len() int           { return len(q) }
func (q timerQueue[K]) Less(i, j int) bool { return q[i].at < q[j].at }
func (q timerQueue[K]) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *timerQueue[K]) Push(x any)        { *q = append(*q, x.(timerEntry[K])) }
func (q *timerQueue[K]) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func newTimers[K comparable](b *state.Backend, kc codec.Codec[K]) (*timers[K], error) {
	t, err := state.NewTable(b, timersTable, kc, codec.Slice[int64]{Elem: codec.Int64{}})
	if err != nil {
		return nil, fmt.Errorf("timers: %w", err)
	}
	ts := &timers[K]{table: t}
	r := b.Range()
	for kg := r.Start; kg <= r.End; kg++ {
		t.Range(kg, func(k K, ats []int64) bool {
			for _, at := range ats {
				ts.queue = append(ts.queue, timerEntry[K]{at: at, kg: kg, key: k})
			}
			return true
		})
	}
	heap.Init(&ts.queue)
	return ts, nil
}

func (ts *timers[K]) register(kg keygroup.KeyGroup, k K, at time.Time) {
	n := unixNano(at)
	ats, _ := ts.table.Get(kg, k)
	i, found := slices.BinarySearch(ats, n)
	if found {
		return
	}
	ts.table.Put(kg, k, slices.Insert(ats, i, n))
	heap.Push(&ts.queue, timerEntry[K]{at: n, kg: kg, key: k})
}

func (ts *timers[K]) delete(kg keygroup.KeyGroup, k K, at time.Time) {
	ats, _ := ts.table.Get(kg, k)
	i, found := slices.BinarySearch(ats, unixNano(at))
	if !found {
		return
	}
	if ats = slices.Delete(ats, i, i+1); len(ats) == 0 {
		ts.table.Delete(kg, k)
	} else {
		ts.table.Put(kg, k, ats)
	}
}

// next returns the earliest live timer, dropping deleted ones on top.
func (ts *timers[K]) next() (timerEntry[K], bool) {
	for len(ts.queue) > 0 {
		e := ts.queue[0]
		ats, _ := ts.table.Get(e.kg, e.key)
		if _, live := slices.BinarySearch(ats, e.at); live {
			return e, true
		}
		heap.Pop(&ts.queue)
	}
	return timerEntry[K]{}, false
}

// pop removes the earliest timer, which next returned.
func (ts *timers[K]) pop(e timerEntry[K]) {
	heap.Pop(&ts.queue)
	ts.delete(e.kg, e.key, time.Unix(0, e.at))
}

// RegisterTimer asks for OnTimer(key, at) for the current key once the wall
// clock reaches at (processing time). A timer is registered once per key and
// instant; it is part of the key's state: checkpointed, and moved with the
// key when the job rescales. The function must implement TimerFunction.
func (r *KeyedRuntime[K]) RegisterTimer(at time.Time) {
	r.timers.register(r.kg, r.key, at)
}

// DeleteTimer removes the current key's timer at at, if any.
func (r *KeyedRuntime[K]) DeleteTimer(at time.Time) {
	r.timers.delete(r.kg, r.key, at)
}

// Now is the wall clock of processing time.
func (r *KeyedRuntime[K]) Now() time.Time { return r.ctx.Now() }

// NextTimer implements operator.Timed.
func (p *processOp[K, T, O]) NextTimer() (time.Time, bool) {
	if p.onTimer == nil {
		return time.Time{}, false
	}
	e, ok := p.rt.timers.next()
	return time.Unix(0, e.at), ok
}

// FireTimers implements operator.Timed.
func (p *processOp[K, T, O]) FireTimers(now time.Time) error {
	if p.onTimer == nil {
		return nil
	}
	for {
		e, ok := p.rt.timers.next()
		if !ok || e.at > now.UnixNano() {
			return nil
		}
		p.rt.timers.pop(e)
		p.rt.key, p.rt.kg = e.key, e.kg
		if err := p.onTimer.OnTimer(e.key, time.Unix(0, e.at), p.out); err != nil {
			return fmt.Errorf("%s: timer of key %v: %w", p.rt.ctx.OperatorID(), e.key, err)
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
