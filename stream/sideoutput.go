package stream

import (
	"fmt"
	"reflect"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
)

// OutputTag names a side output of type T: a second stream that a process
// function emits into beside its main output (Flink's OutputTag), for
// records that do not belong in the main one, such as late records. A tag
// is made once, with NewOutputTag, and used both by the function
// (SideOutput) and by the job that reads the side output (GetSideOutput).
type OutputTag[T any] struct {
	name  string
	codec codec.Codec[T]
}

// NewOutputTag returns the tag named name, which must not be empty. One
// operator's side outputs have distinct names.
func NewOutputTag[T any](name string) OutputTag[T] { return OutputTag[T]{name: name} }

// Name is the tag's name.
func (t OutputTag[T]) Name() string { return t.name }

// WithCodec sets the codec of the side output's records, used where they
// cross a subtask boundary and by the stream GetSideOutput returns.
// Default: codec.For[T](), as for any stream.
func (t OutputTag[T]) WithCodec(c codec.Codec[T]) OutputTag[T] {
	t.codec = c
	return t
}

// GetSideOutput returns the side output tag of the operator that made s:
// the records its function emitted with SideOutput(rt, tag), with their
// timestamps, in order with the operator's watermarks. A tag the function
// never emits into gives an empty stream. Reading one tag several times
// gives the same records to each reader.
//
// The side output is read by an operator of its own, named
// "SideOutput:<tag>", which chains to s's operator when it is its only
// reader.
func GetSideOutput[T, O any](s DataStream[O], tag OutputTag[T]) DataStream[T] {
	env := s.env
	name := "SideOutput:" + tag.name
	if tag.name == "" {
		env.fail("stream: GetSideOutput: an OutputTag without a name; make tags with NewOutputTag")
		return DataStream[T]{env: env}
	}
	producer := env.graph.Operators[s.op]
	typ := reflect.TypeFor[T]()
	declared := false
	for _, so := range producer.SideOutputs {
		if so.Tag != tag.name {
			continue
		}
		declared = true
		if so.Type != typ {
			env.fail("stream: side output %q of %q read as %v and as %v", tag.name, producer.Name, so.Type, typ)
			return DataStream[T]{env: env}
		}
	}
	if !declared {
		producer.SideOutputs = append(producer.SideOutputs, plan.SideOutput{Tag: tag.name, Type: typ, Fanout: fanout[T]})
	}
	side := DataStream[T]{env: env, op: s.op, codec: tag.codec}
	out := add[T, T](env, &plan.Operator{
		Name:   name,
		Input:  s.op,
		Inputs: []plan.Input{{From: s.op, Side: tag.name, Exchange: side.forward(name)}},
		Build:  func(out any) (any, operator.Hooks, error) { return out, operator.NopHooks{}, nil },
	}, nil)
	out.codec = tag.codec
	return out
}

// ProcessRuntime is the runtime of a process function, *KeyedRuntime or
// *Runtime: what SideOutput takes a collector from.
type ProcessRuntime interface {
	// Timestamp is the event-time timestamp of the record being processed.
	Timestamp() (int64, bool)
	operatorContext() operator.Context
}

func (r *KeyedRuntime[K]) operatorContext() operator.Context { return r.ctx }
func (r *Runtime) operatorContext() operator.Context         { return r.ctx }

// SideOutput returns the collector of side output tag of the function
// whose runtime is rt; call it in Open. What the function emits there
// while it processes a record gets that record's timestamp, as on the main
// output (a timer's: its time for event time, none for processing time).
// When nothing in the job reads the side output (GetSideOutput), its
// records are dropped. A tag of another type than the one GetSideOutput
// reads fails the job.
func SideOutput[T any](rt ProcessRuntime, tag OutputTag[T]) Collector[T] {
	ctx := rt.operatorContext()
	e := ctx.SideOutput(tag.name)
	if e == nil {
		return discard[T]{}
	}
	next, ok := e.(operator.Emitter[T])
	if !ok {
		ctx.Fail(operator.Permanent(fmt.Errorf("%s: side output %q: the function emits %v but the job reads another type", ctx.OperatorID(), tag.name, reflect.TypeFor[T]())))
		return discard[T]{}
	}
	return &sideCollector[T]{rt: rt, next: next}
}

type sideCollector[T any] struct {
	rt   ProcessRuntime
	next operator.Emitter[T]
}

func (c *sideCollector[T]) Emit(v T) {
	ts, _ := c.rt.Timestamp()
	c.next.Emit(v, ts)
}

type discard[T any] struct{}

func (discard[T]) Emit(T) {}
