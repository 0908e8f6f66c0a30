package stream

import (
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
)

// Map applies f to every record.
func Map[T, U any](s DataStream[T], name string, f func(T) U, opts ...Option) DataStream[U] {
	return add[T, U](s.env, &plan.Operator{
		Name:  name,
		Input: s.op,
		In:    forwardExchange(s.recordCodec()),
		Build: func(out any) (any, operator.Hooks, error) {
			next := out.(operator.Emitter[U])
			return &mapOp[T, U]{f: f, next: next}, operator.NopHooks{}, nil
		},
	}, opts)
}

type mapOp[T, U any] struct {
	f    func(T) U
	next operator.Emitter[U]
}

func (m *mapOp[T, U]) Emit(v T) { m.next.Emit(m.f(v)) }

// FlatMap calls f for every record; f emits any number of results.
func FlatMap[T, U any](s DataStream[T], name string, f func(T, Collector[U]), opts ...Option) DataStream[U] {
	return add[T, U](s.env, &plan.Operator{
		Name:  name,
		Input: s.op,
		In:    forwardExchange(s.recordCodec()),
		Build: func(out any) (any, operator.Hooks, error) {
			next := out.(operator.Emitter[U])
			return operator.EmitterFunc[T](func(v T) { f(v, next) }), operator.NopHooks{}, nil
		},
	}, opts)
}

// Filter keeps the records for which f returns true.
func Filter[T any](s DataStream[T], name string, f func(T) bool, opts ...Option) DataStream[T] {
	return add[T, T](s.env, &plan.Operator{
		Name:  name,
		Input: s.op,
		In:    forwardExchange(s.recordCodec()),
		Build: func(out any) (any, operator.Hooks, error) {
			next := out.(operator.Emitter[T])
			return &filterOp[T]{f: f, next: next}, operator.NopHooks{}, nil
		},
	}, opts)
}

type filterOp[T any] struct {
	f    func(T) bool
	next operator.Emitter[T]
}

func (o *filterOp[T]) Emit(v T) {
	if o.f(v) {
		o.next.Emit(v)
	}
}
