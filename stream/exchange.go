package stream

import (
	"fmt"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
)

// exchange returns the typed code of an edge carrying T.
func exchange[T any](p plan.Partitioning, c codec.Codec[T], route func(w plan.RecordWriter) func(T) int) plan.Exchange {
	return plan.Exchange{
		Partitioning: p,
		NewWriter: func(w plan.RecordWriter) any {
			return &exchangeWriter[T]{w: w, codec: c, route: route(w)}
		},
		NewReader: func(in any) func([]byte) (int, error) {
			e := in.(operator.Emitter[T])
			eb := operator.Batcher(e)
			var batch []T
			return func(buf []byte) (int, error) {
				batch = batch[:0]
				count := 0
				for len(buf) > 0 {
					v, n, err := c.Decode(buf)
					if err != nil {
						return count, fmt.Errorf("decode %T record: %w", v, err)
					}
					if n <= 0 || n > len(buf) {
						// A codec that consumes nothing would loop forever.
						return count, fmt.Errorf("decode %T record: codec %T used %d of %d bytes", v, c, n, len(buf))
					}
					buf = buf[n:]
					count++
					if eb == nil {
						e.Emit(v)
						continue
					}
					batch = append(batch, v)
				}
				if len(batch) > 0 {
					eb.EmitBatch(batch)
				}
				return count, nil
			}
		},
	}
}

type exchangeWriter[T any] struct {
	w     plan.RecordWriter
	codec codec.Codec[T]
	route func(T) int
}

func (x *exchangeWriter[T]) Emit(v T) {
	ch := x.route(v)
	x.w.Commit(ch, x.codec.Append(x.w.Buf(ch), v))
}

func (x *exchangeWriter[T]) EmitBatch(vs []T) {
	for _, v := range vs {
		ch := x.route(v)
		x.w.Commit(ch, x.codec.Append(x.w.Buf(ch), v))
	}
}

// forward returns the forward edge from s into the operator named to.
// Compile chains most forward edges; for the others it reports the
// missing codec, if any.
func (s DataStream[T]) forward(to string) plan.Exchange {
	c, err := s.edgeCodec(to)
	x := exchange(plan.Forward, c, func(plan.RecordWriter) func(T) int {
		return func(T) int { return 0 }
	})
	x.CodecErr = err
	return x
}

func rebalanceExchange[T any](c codec.Codec[T]) plan.Exchange {
	return exchange(plan.Rebalance, c, func(w plan.RecordWriter) func(T) int {
		n := w.NumChannels()
		next := 0
		return func(T) int {
			next++
			if next >= n {
				next = 0
			}
			return next
		}
	})
}

func keyExchange[T any, K comparable](c codec.Codec[T], key func(T) K, kc codec.Codec[K]) plan.Exchange {
	return exchange(plan.KeyGroups, c, func(w plan.RecordWriter) func(T) int {
		n, maxP := w.NumChannels(), w.MaxParallelism()
		var scratch []byte
		return func(v T) int {
			scratch = kc.Append(scratch[:0], key(v))
			return keygroup.Operator(keygroup.OfBytes(scratch, maxP), maxP, n)
		}
	})
}

// Rebalance spreads the stream's records round-robin over the next
// operator's subtasks. The result keeps the stream's codec.
func (s DataStream[T]) Rebalance() DataStream[T] {
	// Rebalance is an identity operator whose input edge is a rebalance.
	c, err := s.edgeCodec("Rebalance")
	if err != nil {
		s.env.report(err)
	}
	out := add[T, T](s.env, &plan.Operator{
		Name:  "Rebalance",
		Input: s.op,
		In:    rebalanceExchange(c),
		Build: func(out any) (any, operator.Hooks, error) { return out, operator.NopHooks{}, nil },
	}, nil)
	out.codec = s.codec
	return out
}
