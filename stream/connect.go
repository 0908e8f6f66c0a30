package stream

import (
	"fmt"
	"time"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
)

// ConnectedStreams are two streams, maybe of different types, that one
// operator with two inputs reads (Flink's connect): CoProcess, or
// KeyedCoProcess once keyed by KeyByConnected.
type ConnectedStreams[A, B any] struct {
	a DataStream[A]
	b DataStream[B]
}

// Connect pairs a and b for a two-input operator.
func Connect[A, B any](a DataStream[A], b DataStream[B]) ConnectedStreams[A, B] {
	return ConnectedStreams[A, B]{a: a, b: b}
}

// Runtime is what a process function that is not keyed sees: its subtask,
// and the record being processed.
type Runtime struct {
	ctx operator.Context
	// ts is the timestamp of the record being processed.
	ts int64
}

// Subtask is the index of this subtask.
func (r *Runtime) Subtask() int { return r.ctx.Subtask() }

// Parallelism is the operator's current parallelism.
func (r *Runtime) Parallelism() int { return r.ctx.Parallelism() }

// Timestamp is the event-time timestamp of the record being processed, in
// milliseconds since the Unix epoch, and false if it has none.
func (r *Runtime) Timestamp() (int64, bool) { return r.ts, r.ts != NoTimestamp }

// Now is the wall clock of processing time.
func (r *Runtime) Now() time.Time { return r.ctx.Now() }

// CoProcessFunction processes the records of two connected streams, one at
// a time, from either input as they come: the order of records of one
// input is kept, the interleaving of the two is not defined. What it
// emits while processing a record gets that record's timestamp.
type CoProcessFunction[A, B, O any] interface {
	// Open runs before the first record.
	Open(rt *Runtime) error
	// ProcessElement1 handles a record of the first input.
	ProcessElement1(v A, out Collector[O]) error
	// ProcessElement2 handles a record of the second input.
	ProcessElement2(v B, out Collector[O]) error
}

// CoProcess applies a two-input process function to connected streams,
// neither of them keyed: subtask i reads the records of subtask i of each
// input when the parallelisms allow, as Map does, and a spread of them
// otherwise. The function has no keyed state; key both inputs
// (KeyByConnected) for that.
func CoProcess[A, B, O any](c ConnectedStreams[A, B], name string, fn func() CoProcessFunction[A, B, O], opts ...Option) DataStream[O] {
	env := c.a.env
	if c.b.env != env {
		env.fail("stream: CoProcess %q: connected streams of different environments", name)
		return DataStream[O]{env: env}
	}
	return add[A, O](env, &plan.Operator{
		Name:  name,
		Input: c.a.op,
		Inputs: []plan.Input{
			{From: c.a.op, Exchange: c.a.forward(name)},
			{From: c.b.op, Exchange: c.b.forward(name)},
		},
		Build: func(out any) (any, operator.Hooks, error) {
			op := &coProcessOp[A, B, O]{fn: fn(), out: collector[O]{next: out.(operator.Emitter[O])}}
			in1 := operator.EmitterFunc[A](op.emit1)
			in2 := operator.EmitterFunc[B](op.emit2)
			return []any{in1, in2}, op, nil
		},
	}, opts)
}

type coProcessOp[A, B, O any] struct {
	operator.NopHooks
	fn  CoProcessFunction[A, B, O]
	rt  Runtime
	out collector[O]
}

func (p *coProcessOp[A, B, O]) Open(ctx operator.Context) error {
	p.rt = Runtime{ctx: ctx, ts: NoTimestamp}
	if err := p.fn.Open(&p.rt); err != nil {
		return fmt.Errorf("open %s: %w", ctx.OperatorID(), err)
	}
	return nil
}

func (p *coProcessOp[A, B, O]) emit1(v A, ts int64) {
	p.rt.ts, p.out.ts = ts, ts
	if err := p.fn.ProcessElement1(v, &p.out); err != nil {
		p.rt.ctx.Fail(fmt.Errorf("%s: process a record of input 1: %w", p.rt.ctx.OperatorID(), err))
	}
}

func (p *coProcessOp[A, B, O]) emit2(v B, ts int64) {
	p.rt.ts, p.out.ts = ts, ts
	if err := p.fn.ProcessElement2(v, &p.out); err != nil {
		p.rt.ctx.Fail(fmt.Errorf("%s: process a record of input 2: %w", p.rt.ctx.OperatorID(), err))
	}
}

// KeyedConnectedStreams are connected streams partitioned by one key: the
// records of both inputs with the same key go to the subtask that owns the
// key's key group, where its keyed state lives.
type KeyedConnectedStreams[K comparable, A, B any] struct {
	c        ConnectedStreams[A, B]
	keyA     func(A) K
	keyB     func(B) K
	keyCodec codec.Codec[K]
	// keyErr says why keyCodec is nil: K has no default codec.
	keyErr error
}

// KeyByConnected partitions both connected streams by key: keyA gives the
// key of a record of the first, keyB of the second (Flink's
// ConnectedStreams.keyBy). One key codec, codec.For[K]() unless set with
// WithKeyCodec, gives the bytes of both inputs' keys, so equal keys of
// either input land in the same key group.
func KeyByConnected[A, B any, K comparable](c ConnectedStreams[A, B], keyA func(A) K, keyB func(B) K) KeyedConnectedStreams[K, A, B] {
	kc, err := codec.For[K]()
	return KeyedConnectedStreams[K, A, B]{c: c, keyA: keyA, keyB: keyB, keyCodec: kc, keyErr: err}
}

// WithKeyCodec sets the codec of the keys of both inputs.
func (k KeyedConnectedStreams[K, A, B]) WithKeyCodec(c codec.Codec[K]) KeyedConnectedStreams[K, A, B] {
	k.keyCodec, k.keyErr = c, nil
	if c == nil {
		k.keyCodec, k.keyErr = codec.For[K]()
	}
	return k
}

// KeyedCoProcessFunction processes the records of two connected streams
// keyed by one key, one at a time, with state scoped to the record's key:
// the same state for a key's records of either input (Flink's
// KeyedCoProcessFunction). It declares its state in Open, as a
// ProcessFunction does, and may register processing-time and event-time
// timers if it also implements TimerFunction. Its event time is the
// minimum of its inputs'.
type KeyedCoProcessFunction[K comparable, A, B, O any] interface {
	// Open declares state (Value, List, Map, Reducing) before the first record.
	Open(rt *KeyedRuntime[K]) error
	// ProcessElement1 handles a record of the first input.
	ProcessElement1(key K, v A, out Collector[O]) error
	// ProcessElement2 handles a record of the second input.
	ProcessElement2(key K, v B, out Collector[O]) error
}

// KeyedCoProcess applies a keyed two-input process function. It runs on
// the machinery of Process: its state, timers and watermarks behave as
// there, and its state restores and rescales by key group.
func KeyedCoProcess[K comparable, A, B, O any](k KeyedConnectedStreams[K, A, B], name string, fn func() KeyedCoProcessFunction[K, A, B, O], opts ...Option) DataStream[O] {
	return keyedTwoInput(k, name, func(ca codec.Codec[A], cb codec.Codec[B]) ProcessFunction[K, either[A, B], O] {
		f := fn()
		if tf, ok := f.(TimerFunction[K, O]); ok {
			return &keyedCoTimerFn[K, A, B, O]{keyedCoFn: keyedCoFn[K, A, B, O]{f: f}, onTimer: tf}
		}
		return &keyedCoFn[K, A, B, O]{f: f}
	}, opts)
}

// keyedTwoInput declares a keyed operator of two inputs that runs the
// process function newFn makes over either input's records (given the
// inputs' codecs).
func keyedTwoInput[K comparable, A, B, O any](k KeyedConnectedStreams[K, A, B], name string, newFn func(codec.Codec[A], codec.Codec[B]) ProcessFunction[K, either[A, B], O], opts []Option) DataStream[O] {
	env := k.c.a.env
	if k.c.b.env != env {
		env.fail("stream: %q: connected streams of different environments", name)
		return DataStream[O]{env: env}
	}
	if k.keyErr != nil {
		env.report(fallbackError(fmt.Sprintf("key of %q", name), k.keyErr, "give a codec with WithKeyCodec"))
	}
	ca, err := k.c.a.edgeCodec(name)
	if err != nil {
		env.report(err)
	}
	cb, err := k.c.b.edgeCodec(name)
	if err != nil {
		env.report(err)
	}
	return add[A, O](env, &plan.Operator{
		Name:  name,
		Input: k.c.a.op,
		Inputs: []plan.Input{
			{From: k.c.a.op, Exchange: keyExchange(ca, k.keyA, k.keyCodec)},
			{From: k.c.b.op, Exchange: keyExchange(cb, k.keyB, k.keyCodec)},
		},
		Keyed: true,
		Build: func(out any) (any, operator.Hooks, error) {
			op := &processOp[K, either[A, B], O]{
				fn: newFn(ca, cb),
				key: func(r either[A, B]) K {
					if r.second {
						return k.keyB(r.b)
					}
					return k.keyA(r.a)
				},
				kc:  k.keyCodec,
				out: collector[O]{next: out.(operator.Emitter[O])},
			}
			in1 := operator.EmitterFunc[A](func(v A, ts int64) { op.Emit(either[A, B]{a: v}, ts) })
			in2 := operator.EmitterFunc[B](func(v B, ts int64) { op.Emit(either[A, B]{b: v, second: true}, ts) })
			return []any{in1, in2}, op, nil
		},
	}, opts)
}

// A keyed two-input operator is a keyed Process (processOp) over either of
// its inputs' records, so that both share its keyed runtime, its timers
// and its handling of watermarks, restores and rescales, and neither
// drifts from the other. Writing a second operator that keyed both inputs
// itself was the alternative: it would have duplicated the key-group
// bookkeeping and the three timer paths of timers.go.

// either is a record of the first input (a) or of the second (b).
type either[A, B any] struct {
	a      A
	b      B
	second bool
}

// keyedCoFn adapts a KeyedCoProcessFunction to a ProcessFunction over
// either input.
type keyedCoFn[K comparable, A, B, O any] struct {
	f KeyedCoProcessFunction[K, A, B, O]
}

func (c *keyedCoFn[K, A, B, O]) Open(rt *KeyedRuntime[K]) error { return c.f.Open(rt) }

func (c *keyedCoFn[K, A, B, O]) Process(key K, r either[A, B], out Collector[O]) error {
	if r.second {
		return c.f.ProcessElement2(key, r.b, out)
	}
	return c.f.ProcessElement1(key, r.a, out)
}

// userFunction is the function the job wrote, for messages.
func (c *keyedCoFn[K, A, B, O]) userFunction() any { return c.f }

// keyedCoTimerFn is keyedCoFn for a function with timers.
type keyedCoTimerFn[K comparable, A, B, O any] struct {
	keyedCoFn[K, A, B, O]
	onTimer TimerFunction[K, O]
}

func (c *keyedCoTimerFn[K, A, B, O]) OnTimer(key K, t Timer, out Collector[O]) error {
	return c.onTimer.OnTimer(key, t, out)
}

// userFunction returns the function the job wrote when fn adapts it, for
// messages that name its type.
func userFunction(fn any) any {
	if u, ok := fn.(interface{ userFunction() any }); ok {
		return u.userFunction()
	}
	return fn
}
