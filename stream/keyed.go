package stream

import (
	"fmt"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/internal/state"
	"github.com/tide-stream/tide/internal/timers"
)

// KeyedStream is a stream partitioned by key: every record of one key goes
// to the subtask that owns the key's key group, where keyed state lives.
type KeyedStream[K comparable, T any] struct {
	in       DataStream[T]
	key      func(T) K
	keyCodec codec.Codec[K]
	// keyErr says why keyCodec is nil: K has no default codec.
	keyErr error
}

// KeyBy partitions s by key. The key's codec gives the bytes whose hash
// decides the key group, and encodes the key in keyed state. It is
// codec.For[K]() unless set with WithKeyCodec; a key type that it refuses
// (one JSON would not give back, such as a struct with an unexported
// field) is refused when the keyed stream is used, by Process, Reduce or
// Aggregate.
func KeyBy[T any, K comparable](s DataStream[T], key func(T) K) KeyedStream[K, T] {
	kc, err := codec.For[K]()
	return KeyedStream[K, T]{in: s, key: key, keyCodec: kc, keyErr: err}
}

// WithKeyCodec sets the codec of the keys.
func (k KeyedStream[K, T]) WithKeyCodec(c codec.Codec[K]) KeyedStream[K, T] {
	k.keyCodec, k.keyErr = c, nil
	if c == nil {
		k.keyCodec, k.keyErr = codec.For[K]()
	}
	return k
}

// KeyedRuntime is what a keyed process function sees: its subtask, the key
// of the record being processed, and its state.
type KeyedRuntime[K comparable] struct {
	ctx     operator.Context
	backend *state.Backend
	kc      codec.Codec[K]
	key     K
	kg      keygroup.KeyGroup
	timers  *timers.Set[K]
	// etimers are the event-time timers, watermark the operator's.
	etimers   *timers.Set[K]
	watermark int64
	// ts is the timestamp of the record being processed.
	ts int64
	// noOnTimer is the error of RegisterTimer when the function does not
	// implement TimerFunction.
	noOnTimer error
}

func (r *KeyedRuntime[K]) keyCodec() codec.Codec[K] { return r.kc }

// Subtask is the index of this subtask.
func (r *KeyedRuntime[K]) Subtask() int { return r.ctx.Subtask() }

// Parallelism is the operator's current parallelism.
func (r *KeyedRuntime[K]) Parallelism() int { return r.ctx.Parallelism() }

// CurrentKey is the key of the record being processed.
func (r *KeyedRuntime[K]) CurrentKey() K { return r.key }

// Timestamp is the event-time timestamp of the record being processed, in
// milliseconds since the Unix epoch, and false if it has none.
func (r *KeyedRuntime[K]) Timestamp() (int64, bool) { return r.ts, r.ts != NoTimestamp }

// ProcessFunction processes the records of a keyed stream, one at a time,
// with state scoped to the record's key.
type ProcessFunction[K comparable, T, O any] interface {
	// Open declares state (Value, List, Map, Reducing) before the first record.
	Open(rt *KeyedRuntime[K]) error
	// Process handles one record; state handles read and write the state of key.
	Process(key K, v T, out Collector[O]) error
}

// Process applies a keyed process function.
func Process[K comparable, T, O any](k KeyedStream[K, T], name string, fn func() ProcessFunction[K, T, O], opts ...Option) DataStream[O] {
	env := k.in.env
	if k.keyErr != nil {
		env.report(fallbackError(fmt.Sprintf("key of %q", name), k.keyErr, "give a codec with WithKeyCodec"))
	}
	rc, err := k.in.edgeCodec(name)
	if err != nil {
		env.report(err)
	}
	return add[T, O](env, &plan.Operator{
		Name:  name,
		Input: k.in.op,
		In:    keyExchange(rc, k.key, k.keyCodec),
		Keyed: true,
		Build: func(out any) (any, operator.Hooks, error) {
			op := &processOp[K, T, O]{fn: fn(), key: k.key, kc: k.keyCodec, out: collector[O]{next: out.(operator.Emitter[O])}}
			return op, op, nil
		},
	}, opts)
}

type processOp[K comparable, T, O any] struct {
	operator.NopHooks
	fn      ProcessFunction[K, T, O]
	onTimer TimerFunction[K, O]
	key     func(T) K
	kc      codec.Codec[K]
	out     collector[O]
	rt      KeyedRuntime[K]
	maxP    int
	scratch []byte
}

func (p *processOp[K, T, O]) Open(ctx operator.Context) error {
	p.rt = KeyedRuntime[K]{ctx: ctx, backend: ctx.Keyed(), kc: p.kc}
	p.maxP = ctx.MaxParallelism()
	// Timers are state: declared before the function's own state, they are
	// restored (and taken over after a local rescale) like it.
	if err := p.newTimers(ctx); err != nil {
		return fmt.Errorf("open %s: %w", ctx.OperatorID(), err)
	}
	if err := p.fn.Open(&p.rt); err != nil {
		return fmt.Errorf("open %s: %w", ctx.OperatorID(), err)
	}
	return nil
}

func (p *processOp[K, T, O]) Emit(v T, ts int64) {
	k := p.key(v)
	p.scratch = p.kc.Append(p.scratch[:0], k)
	p.rt.key, p.rt.kg = k, keygroup.OfBytes(p.scratch, p.maxP)
	p.rt.ts, p.out.ts = ts, ts
	if err := p.fn.Process(k, v, &p.out); err != nil {
		p.rt.ctx.Fail(fmt.Errorf("%s: process key %v: %w", p.rt.ctx.OperatorID(), k, err))
	}
}

// Reduce keeps, per key, the reduction of all records so far and emits it
// after every record. The result keeps the input's codec, which also
// encodes the reductions in state.
func Reduce[K comparable, T any](k KeyedStream[K, T], name string, f func(acc, v T) T, opts ...Option) DataStream[T] {
	// The state codec is the records' codec; Process reports its absence.
	c, _ := k.in.edgeCodec(name)
	out := Process(k, name, func() ProcessFunction[K, T, T] {
		return &reduceFn[K, T]{f: f, c: c}
	}, opts...)
	out.codec = k.in.codec
	return out
}

type reduceFn[K comparable, T any] struct {
	f   func(acc, v T) T
	c   codec.Codec[T]
	acc *ReducingState[K, T]
}

func (r *reduceFn[K, T]) Open(rt *KeyedRuntime[K]) error {
	var err error
	r.acc, err = Reducing(rt, "reduce", r.f, r.c)
	return err
}

func (r *reduceFn[K, T]) Process(_ K, v T, out Collector[T]) error {
	out.Emit(r.acc.Add(v))
	return nil
}

// AggregateFunction folds the records of a key into an accumulator of type
// A and derives the output from it (Flink's AggregateFunction without the
// merge of session windows).
type AggregateFunction[T, A, O any] interface {
	// Create returns a new accumulator for a key's first record.
	Create() A
	// Add folds v into acc and returns the new accumulator.
	Add(acc A, v T) A
	// Result derives the output from an accumulator.
	Result(acc A) O
}

// Aggregate keeps, per key, an accumulator of all records so far (in
// ValueState, encoded with ac) and emits its result after every record.
func Aggregate[K comparable, T, A, O any](k KeyedStream[K, T], name string, f AggregateFunction[T, A, O], ac codec.Codec[A], opts ...Option) DataStream[O] {
	if ac == nil {
		var err error
		if ac, err = codec.For[A](); err != nil {
			k.in.env.report(fallbackError(fmt.Sprintf("accumulator of %q", name), err, "pass a codec to Aggregate"))
		}
	}
	return Process(k, name, func() ProcessFunction[K, T, O] {
		return &aggregateFn[K, T, A, O]{f: f, c: ac}
	}, opts...)
}

type aggregateFn[K comparable, T, A, O any] struct {
	f   AggregateFunction[T, A, O]
	c   codec.Codec[A]
	acc *ValueState[K, A]
}

func (a *aggregateFn[K, T, A, O]) Open(rt *KeyedRuntime[K]) error {
	var err error
	a.acc, err = Value(rt, "aggregate", a.c)
	return err
}

func (a *aggregateFn[K, T, A, O]) Process(_ K, v T, out Collector[O]) error {
	acc, ok := a.acc.Get()
	if !ok {
		acc = a.f.Create()
	}
	acc = a.f.Add(acc, v)
	a.acc.Update(acc)
	out.Emit(a.f.Result(acc))
	return nil
}
