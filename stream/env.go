// Package stream is Tide's public DataStream API. A job is a Go function
// that receives an Env and declares sources, transformations and sinks on
// it; the function runs in every process of the cluster and must declare
// the same graph each time, which is how operator ids agree everywhere.
//
// Functions are typed with generics (Map[T, U], KeyBy[T, K], Process[K, T, O]).
// Operators that can be chained pass Go values to each other; values are
// encoded with a codec.Codec only where they cross a subtask boundary, in
// keys (whose bytes decide the key group) and in state snapshots. Where the
// job gives no codec, codec.For's is used: JSON for types other than the
// basic ones, and a type that JSON would not give back unchanged (an
// unexported field, say) is refused when the graph is built, naming the
// type and the field.
//
// The package builds a plan and knows nothing of the runtime.
package stream

import (
	"errors"
	"fmt"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
)

// Collector receives the records a function emits. A record emitted while
// an input record is processed gets that record's event-time timestamp; one
// emitted by a timer gets the timer's time (event time) or none.
type Collector[T any] interface {
	Emit(v T)
}

// NoTimestamp is the timestamp of a record without one.
const NoTimestamp = operator.NoTimestamp

// collector passes what a function emits on, stamped with ts: the
// timestamp of the record being processed. An operator owns one and sets
// ts before calling its function, so emitting allocates nothing.
type collector[T any] struct {
	next operator.Emitter[T]
	ts   int64
}

func (c *collector[T]) Emit(v T) { c.next.Emit(v, c.ts) }

// Env collects the operators of one job.
type Env struct {
	graph *plan.Graph
	errs  []error
}

// NewEnv returns an empty environment whose keyed state has maxParallelism
// key groups by default.
func NewEnv(maxParallelism int) *Env {
	return &Env{graph: &plan.Graph{MaxParallelism: maxParallelism}}
}

// Plan returns the job's logical graph, or every declaration error. It is
// for the runtime; jobs never need it.
func (e *Env) Plan() (*plan.Graph, error) {
	if len(e.errs) > 0 {
		return nil, errors.Join(e.errs...)
	}
	return e.graph, nil
}

func (e *Env) fail(format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf(format, args...))
}

// report records a declaration error.
func (e *Env) report(err error) { e.errs = append(e.errs, err) }

// DataStream is a stream of values of type T.
type DataStream[T any] struct {
	env   *Env
	op    int
	codec codec.Codec[T]
}

// WithCodec sets the codec used when the stream's records cross a subtask
// boundary, and in the state of Reduce. The default is codec.For[T](): a
// fixed encoding for basic types and JSON for the rest, which JSON must give
// back unchanged. A type it would not (an unexported field, a field tagged
// `json:"-"`, an interface) is refused when the graph is built, at the first
// place its records are encoded: a key partitioning, a Rebalance, or an edge
// that is not chained. Records that only pass between chained operators
// need no codec.
func (s DataStream[T]) WithCodec(c codec.Codec[T]) DataStream[T] {
	s.codec = c
	return s
}

// Env returns the stream's environment.
func (s DataStream[T]) Env() *Env { return s.env }

// edgeCodec returns the codec of the records that s sends to the operator
// named to, or why there is none.
func (s DataStream[T]) edgeCodec(to string) (codec.Codec[T], error) {
	if s.codec != nil {
		return s.codec, nil
	}
	c, err := codec.For[T]()
	if err != nil {
		from := s.env.graph.Operators[s.op].Name
		return nil, fallbackError(fmt.Sprintf("records from %q to %q", from, to), err, "give a codec with WithCodec")
	}
	return c, nil
}

// fallbackError explains that what has no codec because err (from
// codec.For), and how to give one.
func fallbackError(what string, err error, advice string) error {
	var fe *codec.FallbackError
	if errors.As(err, &fe) && fe.Fix != "" {
		advice += " or " + fe.Fix
	}
	return fmt.Errorf("stream: %s: %w; %s", what, err, advice)
}

// Option configures one operator.
type Option interface{ apply(*operatorOptions) }

// operatorOptions is what options set: the operator, and the errors of
// options given bad values, reported with the operator's name.
type operatorOptions struct {
	op   *plan.Operator
	errs []error
}

type optionFunc func(*operatorOptions)

func (f optionFunc) apply(o *operatorOptions) { f(o) }

// Parallelism fixes the operator's parallelism instead of letting the
// scheduler choose it. Default: chosen by the scheduler (all slots in
// reactive mode).
func Parallelism(p int) Option {
	return optionFunc(func(o *operatorOptions) { o.op.Parallelism = p })
}

// MaxParallelism sets the operator's upper bound on parallelism and, for a
// keyed operator, its number of key groups. Default: pipeline.max-parallelism.
func MaxParallelism(p int) Option {
	return optionFunc(func(o *operatorOptions) { o.op.MaxParallelism = p })
}

// UID fixes the operator's id, the name of its state in checkpoints and
// savepoints, to uid. Give one to every operator with state (sources,
// keyed operators, sinks) in a job whose checkpoints must restore after the
// job's code changes: its state is then found whatever is inserted or
// removed before it, and operators after it keep their default ids too.
//
// A uid is 1 to 64 ASCII letters, digits, '.', '_' and '-', starting with a
// letter or a digit, and unique in the job; it is used verbatim as the id,
// in logs and checkpoint metadata. The graph is refused otherwise, naming
// the operators.
//
// Default: an id derived from the operator's name, its inputs' ids and its
// ordinal among the operators with the same name on the same inputs, read as
// "<name>-<8 hex digits>". It does not change when operators are added or
// removed elsewhere in the job, but it does change when anything upstream of
// the operator changes (up to the nearest operator with a uid), or when the
// operator is renamed.
func UID(uid string) Option {
	return optionFunc(func(o *operatorOptions) {
		if err := plan.ValidateUID(uid); err != nil {
			o.errs = append(o.errs, err)
			return
		}
		o.op.UID = uid
	})
}

func add[In, Out any](e *Env, op *plan.Operator, opts []Option) DataStream[Out] {
	o := operatorOptions{op: op}
	for _, opt := range opts {
		opt.apply(&o)
	}
	for _, err := range o.errs {
		e.fail("stream: operator %q: %w", op.Name, err)
	}
	if op.Parallelism < 0 || op.MaxParallelism < 0 {
		e.fail("stream: operator %q: negative parallelism", op.Name)
	}
	op.Fanout = fanout[Out]
	idx, err := e.graph.Add(op)
	if err != nil {
		e.fail("stream: %w", err)
	}
	return DataStream[Out]{env: e, op: idx}
}

// fanout combines the emitters of several consumers of one output.
func fanout[T any](outs []any) any {
	if len(outs) == 0 {
		return operator.EmitterFunc[T](func(T, int64) {})
	}
	if len(outs) == 1 {
		return outs[0]
	}
	es := make([]operator.Emitter[T], len(outs))
	for i, o := range outs {
		es[i] = o.(operator.Emitter[T])
	}
	return &fanoutOp[T]{es: es}
}

type fanoutOp[T any] struct{ es []operator.Emitter[T] }

func (f *fanoutOp[T]) Emit(v T, ts int64) {
	for _, e := range f.es {
		e.Emit(v, ts)
	}
}

func (f *fanoutOp[T]) EmitBatch(vs []T, ts []int64) {
	for _, e := range f.es {
		operator.EmitAll(e, operator.Batcher(e), vs, ts)
	}
}

// JobFunc declares a job on env. args are the job's arguments (what follows
// `--` on the command line). It runs in every process of the cluster and
// must declare the same graph each time.
type JobFunc func(env *Env, args []string) error
