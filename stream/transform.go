package stream

import (
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
)

// Chained operators pass batches when both ends take them (sources emit in
// batches, network readers decode buffers into batches): one dynamic call
// per batch and operator instead of one per record. Each operator owns the
// slice it passes on and reuses it; receivers do not keep it.

// Map applies f to every record.
func Map[T, U any](s DataStream[T], name string, f func(T) U, opts ...Option) DataStream[U] {
	return add[T, U](s.env, &plan.Operator{
		Name:  name,
		Input: s.op,
		In:    s.forward(name),
		Build: func(out any) (any, operator.Hooks, error) {
			next := out.(operator.Emitter[U])
			return &mapOp[T, U]{f: f, next: next, nb: operator.Batcher(next)}, operator.NopHooks{}, nil
		},
	}, opts)
}

type mapOp[T, U any] struct {
	f    func(T) U
	next operator.Emitter[U]
	nb   operator.BatchEmitter[U]
	buf  []U
}

func (m *mapOp[T, U]) Emit(v T, ts int64) { m.next.Emit(m.f(v), ts) }

// EmitBatch maps one record to one: the timestamps pass on as they are.
func (m *mapOp[T, U]) EmitBatch(vs []T, ts []int64) {
	if m.nb == nil {
		for i, v := range vs {
			m.next.Emit(m.f(v), operator.TimestampAt(ts, i))
		}
		return
	}
	if cap(m.buf) < len(vs) {
		m.buf = make([]U, len(vs))
	}
	buf := m.buf[:len(vs)]
	for i := range vs {
		buf[i] = m.f(vs[i])
	}
	m.nb.EmitBatch(buf, ts)
}

// FlatMap calls f for every record; f emits any number of results.
func FlatMap[T, U any](s DataStream[T], name string, f func(T, Collector[U]), opts ...Option) DataStream[U] {
	return add[T, U](s.env, &plan.Operator{
		Name:  name,
		Input: s.op,
		In:    s.forward(name),
		Build: func(out any) (any, operator.Hooks, error) {
			c := &collector[U]{next: out.(operator.Emitter[U])}
			return operator.EmitterFunc[T](func(v T, ts int64) { c.ts = ts; f(v, c) }), operator.NopHooks{}, nil
		},
	}, opts)
}

// Filter keeps the records for which f returns true. The result keeps the
// stream's codec.
func Filter[T any](s DataStream[T], name string, f func(T) bool, opts ...Option) DataStream[T] {
	out := add[T, T](s.env, &plan.Operator{
		Name:  name,
		Input: s.op,
		In:    s.forward(name),
		Build: func(out any) (any, operator.Hooks, error) {
			next := out.(operator.Emitter[T])
			return &filterOp[T]{f: f, next: next, nb: operator.Batcher(next)}, operator.NopHooks{}, nil
		},
	}, opts)
	out.codec = s.codec
	return out
}

type filterOp[T any] struct {
	f    func(T) bool
	next operator.Emitter[T]
	nb   operator.BatchEmitter[T]
	buf  []T
	tbuf []int64
}

func (o *filterOp[T]) Emit(v T, ts int64) {
	if o.f(v) {
		o.next.Emit(v, ts)
	}
}

// EmitBatch compacts the records it keeps and, if there are any, their
// timestamps.
func (o *filterOp[T]) EmitBatch(vs []T, ts []int64) {
	if o.nb == nil {
		for i, v := range vs {
			o.Emit(v, operator.TimestampAt(ts, i))
		}
		return
	}
	if cap(o.buf) < len(vs) {
		o.buf = make([]T, len(vs))
	}
	var tbuf []int64
	if ts != nil {
		if cap(o.tbuf) < len(vs) {
			o.tbuf = make([]int64, len(vs))
		}
		tbuf = o.tbuf[:len(vs)]
	}
	buf, n := o.buf[:len(vs)], 0
	for i := range vs {
		if o.f(vs[i]) {
			buf[n] = vs[i]
			if tbuf != nil {
				tbuf[n] = ts[i]
			}
			n++
		}
	}
	if n == 0 {
		return
	}
	if tbuf != nil {
		tbuf = tbuf[:n]
	}
	o.nb.EmitBatch(buf[:n], tbuf)
}
