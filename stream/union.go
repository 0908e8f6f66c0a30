package stream

import (
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
)

// Union merges s and others, streams of one type, into one stream holding
// the records of all of them (Flink's union). Records keep their
// timestamps; the union's watermark is the minimum over its inputs', and
// it ends when every input has ended. A stream given twice is read twice.
// The result has s's codec; each input's records cross to the union with
// their own stream's codec.
//
// The union is an operator of its own, named "Union", with an input edge
// per stream; the operators after it chain to it as usual.
func Union[T any](s DataStream[T], others ...DataStream[T]) DataStream[T] {
	if len(others) == 0 {
		return s
	}
	const name = "Union"
	all := append([]DataStream[T]{s}, others...)
	ins := make([]plan.Input, len(all))
	for i, in := range all {
		if in.env != s.env {
			s.env.fail("stream: Union of streams of different environments")
			return s
		}
		ins[i] = plan.Input{From: in.op, Exchange: in.forward(name)}
	}
	out := add[T, T](s.env, &plan.Operator{
		Name:   name,
		Input:  s.op,
		Inputs: ins,
		Build: func(out any) (any, operator.Hooks, error) {
			// Every input emits into the output as it is: a union has no
			// state and no code of its own.
			in := make([]any, len(ins))
			for i := range in {
				in[i] = out
			}
			return in, operator.NopHooks{}, nil
		},
	}, nil)
	out.codec = s.codec
	return out
}
