package stream

import (
	"encoding/binary"
	"errors"
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
			var stamps []int64
			return func(buf []byte) (int, error) {
				batch, stamps = batch[:0], stamps[:0]
				stamped := false
				count := 0
				for len(buf) > 0 {
					ts, n, err := readTimestamp(buf)
					if err != nil {
						return count, fmt.Errorf("decode record %d of a buffer: %w", count, err)
					}
					buf = buf[n:]
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
						e.Emit(v, ts)
						continue
					}
					batch = append(batch, v)
					stamps = append(stamps, ts)
					stamped = stamped || ts != operator.NoTimestamp
				}
				if len(batch) > 0 {
					if stamped {
						eb.EmitBatch(batch, stamps)
					} else {
						eb.EmitBatch(batch, nil)
					}
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

func (x *exchangeWriter[T]) Emit(v T, ts int64) {
	ch := x.route(v)
	x.w.Commit(ch, x.codec.Append(appendTimestamp(x.w.Buf(ch), ts), v))
}

func (x *exchangeWriter[T]) EmitBatch(vs []T, ts []int64) {
	for i, v := range vs {
		ch := x.route(v)
		x.w.Commit(ch, x.codec.Append(appendTimestamp(x.w.Buf(ch), operator.TimestampAt(ts, i)), v))
	}
}

// A record on the wire is its timestamp, then its value in the edge's
// codec. The timestamp is one byte 0 for none, or 1 and 8 bytes big
// endian; a job without event time pays one byte a record.
const (
	wireNoTimestamp = 0
	wireTimestamp   = 1
)

func appendTimestamp(dst []byte, ts int64) []byte {
	if ts == operator.NoTimestamp {
		return append(dst, wireNoTimestamp)
	}
	return binary.BigEndian.AppendUint64(append(dst, wireTimestamp), uint64(ts))
}

// readTimestamp decodes a record's timestamp from the front of src.
func readTimestamp(src []byte) (ts int64, n int, err error) {
	if len(src) == 0 {
		return 0, 0, errors.New("record without its timestamp byte")
	}
	switch src[0] {
	case wireNoTimestamp:
		return operator.NoTimestamp, 1, nil
	case wireTimestamp:
		if len(src) < 9 {
			return 0, 0, fmt.Errorf("timestamp of %d bytes, want 8", len(src)-1)
		}
		return int64(binary.BigEndian.Uint64(src[1:9])), 9, nil
	}
	return 0, 0, fmt.Errorf("record timestamp marker %d", src[0])
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
