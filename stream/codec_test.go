package stream_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// event has an unexported field, which the JSON fallback codec would drop.
type event struct {
	Key int64
	ts  int64
}

// eventCodec encodes every field of an event.
type eventCodec struct{}

func (eventCodec) Append(dst []byte, e event) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(dst, uint64(e.Key)), uint64(e.ts))
}

func (eventCodec) Decode(src []byte) (event, int, error) {
	if len(src) < 16 {
		return event{}, 0, codec.ErrShort
	}
	return event{int64(binary.BigEndian.Uint64(src)), int64(binary.BigEndian.Uint64(src[8:]))}, 16, nil
}

// envelope nests an event.
type envelope struct {
	Source string
	Event  event
}

// sessionKey is a key type with an unexported field: with JSON, every key
// would encode alike and land in one key group.
type sessionKey struct {
	User string
	id   int64
}

// stamped has an unexported field and marshals itself.
type stamped struct{ at int64 }

func (s stamped) MarshalJSON() ([]byte, error)  { return json.Marshal(s.at) }
func (s *stamped) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &s.at) }

func events(env *stream.Env) stream.DataStream[event] {
	return stream.FromSource(env, tidetest.SliceSource("events", []event{{1, 10}, {2, 20}}))
}

func keyByKey(s stream.DataStream[event]) stream.KeyedStream[int64, event] {
	return stream.KeyBy(s, func(e event) int64 { return e.Key })
}

func first(acc, _ event) event { return acc }

// build declares job and compiles it, as the runtime does.
func build(job func(env *stream.Env)) error {
	env := stream.NewEnv(16)
	job(env)
	g, err := env.Plan()
	if err != nil {
		return err
	}
	_, err = plan.Compile(g)
	return err
}

func TestFallbackCodecRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		job  func(env *stream.Env)
		want string
	}{
		"key partitioning": {
			job: func(env *stream.Env) { stream.Discard(stream.Reduce(keyByKey(events(env)), "first", first)) },
			want: `stream: records from "events" to "first": type stream_test.event has unexported field "ts": ` +
				`the JSON fallback codec would drop it; give a codec with WithCodec or export the field`,
		},
		"nested": {
			job: func(env *stream.Env) {
				wrapped := stream.Map(events(env), "wrap", func(e event) envelope { return envelope{"a", e} })
				stream.Discard(wrapped.Rebalance())
			},
			want: `stream: records from "wrap" to "Rebalance": type stream_test.envelope has unexported field "Event.ts": ` +
				`the JSON fallback codec would drop it; give a codec with WithCodec or export the field`,
		},
		"key": {
			job: func(env *stream.Env) {
				keyed := stream.KeyBy(events(env).WithCodec(eventCodec{}), func(e event) sessionKey { return sessionKey{"u", e.Key} })
				stream.Discard(stream.Reduce(keyed, "first", first))
			},
			want: `stream: key of "first": type stream_test.sessionKey has unexported field "id": ` +
				`the JSON fallback codec would drop it; give a codec with WithKeyCodec or export the field`,
		},
		"accumulator": {
			job: func(env *stream.Env) {
				stream.Discard(stream.Aggregate(keyByKey(events(env).WithCodec(eventCodec{})), "last", lastEvent{}, nil))
			},
			want: `stream: accumulator of "last": type stream_test.event has unexported field "ts": ` +
				`the JSON fallback codec would drop it; pass a codec to Aggregate or export the field`,
		},
		"unchained forward edge": {
			job: func(env *stream.Env) {
				// A sink at parallelism 1 after a parallel source: the edge
				// cannot be chained, so its records are encoded.
				stream.Discard(events(env), stream.Parallelism(1))
			},
			want: `stream: records from "events" to "Discard": type stream_test.event has unexported field "ts"`,
		},
		"two consumers, one not chained": {
			job: func(env *stream.Env) {
				src := events(env)
				stream.Discard(src)
				stream.Print(src, stream.Parallelism(1))
			},
			want: `stream: records from "events" to "Print": type stream_test.event has unexported field "ts"`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := build(tc.job)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("build: %v\nwant an error containing %s", err, tc.want)
			}
			var fe *codec.FallbackError
			if !errors.As(err, &fe) {
				t.Errorf("%v does not wrap a *codec.FallbackError", err)
			}
		})
	}
}

type lastEvent struct{}

func (lastEvent) Create() event              { return event{} }
func (lastEvent) Add(_ event, v event) event { return v }
func (lastEvent) Result(acc event) int64     { return acc.Key }

// keyCodec encodes a sessionKey's fields.
type keyCodec struct{}

func (keyCodec) Append(dst []byte, k sessionKey) []byte {
	return binary.BigEndian.AppendUint64(codec.String{}.Append(dst, k.User), uint64(k.id))
}

func (keyCodec) Decode(src []byte) (sessionKey, int, error) {
	u, n, err := codec.String{}.Decode(src)
	if err != nil || len(src) < n+8 {
		return sessionKey{}, 0, codec.ErrShort
	}
	return sessionKey{u, int64(binary.BigEndian.Uint64(src[n:]))}, n + 8, nil
}

func TestFallbackCodecNotNeeded(t *testing.T) {
	for name, job := range map[string]func(env *stream.Env){
		"codecs given": func(env *stream.Env) {
			src := events(env).WithCodec(eventCodec{})
			keyed := stream.KeyBy(src, func(e event) sessionKey { return sessionKey{"u", e.Key} }).WithKeyCodec(keyCodec{})
			stream.Discard(stream.Reduce(keyed, "first", first).WithCodec(eventCodec{}).Rebalance())
			stream.Discard(stream.Aggregate(keyByKey(src), "last", lastEvent{}, eventCodec{}))
		},
		"codec kept by Filter, Rebalance and Reduce": func(env *stream.Env) {
			// Each result feeds a sink at parallelism 1: an edge that is
			// not chained and so needs the codec given to the source.
			src := events(env).WithCodec(eventCodec{})
			stream.Discard(stream.Filter(src, "keep", func(event) bool { return true }), stream.Parallelism(1))
			stream.Discard(src.Rebalance(), stream.Parallelism(1))
			stream.Discard(stream.Reduce(keyByKey(src), "first", first), stream.Parallelism(1))
		},
		"chained": func(env *stream.Env) {
			wrapped := stream.Map(events(env), "wrap", func(e event) envelope { return envelope{"a", e} })
			kept := stream.Filter(wrapped, "keep", func(envelope) bool { return true })
			stream.Discard(kept)
		},
		"two consumers, both chained": func(env *stream.Env) {
			src := events(env)
			stream.Discard(src)
			stream.Print(src)
		},
		"marshaler": func(env *stream.Env) {
			src := stream.FromSource(env, tidetest.SliceSource("stamps", []stamped{{1}, {2}}))
			keyed := stream.KeyBy(src, func(s stamped) stamped { return s })
			stream.Discard(stream.Reduce(keyed, "first", func(acc, _ stamped) stamped { return acc }).Rebalance())
		},
	} {
		t.Run(name, func(t *testing.T) {
			if err := build(job); err != nil {
				t.Fatal(err)
			}
		})
	}
}
