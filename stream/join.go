package stream

import (
	"fmt"
	"math"
	"time"

	"github.com/tide-stream/tide/codec"
)

// Joins of two keyed streams, as Flink's: a window join pairs the records
// of both sides that share a key and a window; an interval join pairs each
// record of the first with those of the second within a span of time
// around it. Both are keyed state on the two-input keyed operator
// (KeyedCoProcess's), so they rescale and restore like any keyed state.

// WindowJoin joins the two keyed streams of k within each window of a:
// when a window fires, f runs for every pair of a record of the first
// stream and one of the second with the same key in that window (an inner
// join; Flink's join().where().equalTo().window().apply()). What f returns
// has the window's last millisecond as its timestamp. The window's default
// trigger, allowed lateness 0.
func WindowJoin[K comparable, A, B, O any](k KeyedConnectedStreams[K, A, B], a WindowAssigner, name string, f func(a A, b B) O, opts ...Option) DataStream[O] {
	env := k.c.a.env
	if err := a.check(); err != nil {
		env.fail("stream: window join %q: %w", name, err)
	}
	trigger := defaultTrigger[either[A, B]](a)
	return keyedTwoInput(k, name, func(ca codec.Codec[A], cb codec.Codec[B]) ProcessFunction[K, either[A, B], O] {
		return &windowFn[K, either[A, B], struct{}, O]{
			assigner: a, trigger: trigger, tc: eitherCodec[A, B]{a: ca, b: cb},
			buffered: func(_ K, _ Window, elems []Element[either[A, B]], out Collector[O]) error {
				for _, l := range elems {
					if l.Value.second {
						continue
					}
					for _, r := range elems {
						if r.Value.second {
							out.Emit(f(l.Value.a, r.Value.b))
						}
					}
				}
				return nil
			},
		}
	}, opts)
}

// IntervalJoin joins each record of the first keyed stream of k with the
// records of the second of the same key whose timestamps lie within
// [ts+lower, ts+upper] of its own ts (Flink's intervalJoin().between(lower,
// upper)), in event time. f runs once per pair, as soon as both are there;
// what it returns has the later of the two timestamps. A side's record is
// kept only while records of the other side it may still meet can come:
// until the watermark passes it by the bound. Records behind the watermark
// are late and dropped.
func IntervalJoin[K comparable, A, B, O any](k KeyedConnectedStreams[K, A, B], lower, upper time.Duration, name string, f func(a A, b B) O, opts ...Option) DataStream[O] {
	if lower > upper {
		k.c.a.env.fail("stream: interval join %q: lower bound %v above the upper bound %v", name, lower, upper)
	}
	return keyedTwoInput(k, name, func(ca codec.Codec[A], cb codec.Codec[B]) ProcessFunction[K, either[A, B], O] {
		return &intervalJoin[K, A, B, O]{lower: lower.Milliseconds(), upper: upper.Milliseconds(), f: f, ca: ca, cb: cb}
	}, opts)
}

type intervalJoin[K comparable, A, B, O any] struct {
	lower, upper int64
	f            func(A, B) O
	ca           codec.Codec[A]
	cb           codec.Codec[B]
	rt           *KeyedRuntime[K]
	// left and right buffer each side's records of the key by timestamp.
	left  *MapState[K, int64, []A]
	right *MapState[K, int64, []B]
}

func (j *intervalJoin[K, A, B, O]) Open(rt *KeyedRuntime[K]) error {
	j.rt = rt
	var err error
	if j.left, err = MapOf[int64, []A](rt, "left", codec.Int64{}, codec.Slice[A]{Elem: j.ca}); err != nil {
		return err
	}
	j.right, err = MapOf[int64, []B](rt, "right", codec.Int64{}, codec.Slice[B]{Elem: j.cb})
	return err
}

func (j *intervalJoin[K, A, B, O]) Process(_ K, r either[A, B], out Collector[O]) error {
	ts, ok := j.rt.Timestamp()
	if !ok {
		return fmt.Errorf("a record without a timestamp in an interval join: give the sources a watermark strategy (WithWatermarks)")
	}
	if wm := j.rt.CurrentWatermark(); wm != math.MinInt64 && ts < wm {
		return nil // late
	}
	c, _ := out.(*collector[O])
	emit := func(v O, at int64) {
		if c != nil {
			c.ts = at
		}
		out.Emit(v)
	}
	if !r.second {
		j.right.All(func(tb int64, bs []B) bool {
			if tb >= ts+j.lower && tb <= ts+j.upper {
				for _, b := range bs {
					emit(j.f(r.a, b), max(ts, tb))
				}
			}
			return true
		})
		as, _ := j.left.Get(ts)
		j.left.Put(ts, append(as, r.a))
		j.rt.RegisterEventTimeTimer(addClamped(ts, max(j.upper, 0)))
	} else {
		j.left.All(func(ta int64, as []A) bool {
			if ts >= ta+j.lower && ts <= ta+j.upper {
				for _, a := range as {
					emit(j.f(a, r.b), max(ta, ts))
				}
			}
			return true
		})
		bs, _ := j.right.Get(ts)
		j.right.Put(ts, append(bs, r.b))
		j.rt.RegisterEventTimeTimer(addClamped(ts, max(-j.lower, 0)))
	}
	return nil
}

// OnTimer drops the records that no record still to come can meet: a
// first-side record at ta once the watermark passed ta+upper, a
// second-side one at tb once it passed tb-lower.
func (j *intervalJoin[K, A, B, O]) OnTimer(_ K, t Timer, _ Collector[O]) error {
	if t.Domain != EventTime {
		return nil
	}
	at := t.Timestamp()
	var drop []int64
	j.left.All(func(ta int64, _ []A) bool {
		if addClamped(ta, max(j.upper, 0)) <= at {
			drop = append(drop, ta)
		}
		return true
	})
	for _, ta := range drop {
		j.left.Remove(ta)
	}
	drop = drop[:0]
	j.right.All(func(tb int64, _ []B) bool {
		if addClamped(tb, max(-j.lower, 0)) <= at {
			drop = append(drop, tb)
		}
		return true
	})
	for _, tb := range drop {
		j.right.Remove(tb)
	}
	return nil
}

// eitherCodec encodes a record of either side: a byte 1 or 2, then the
// record in its side's codec.
type eitherCodec[A, B any] struct {
	a codec.Codec[A]
	b codec.Codec[B]
}

func (c eitherCodec[A, B]) Append(dst []byte, v either[A, B]) []byte {
	if v.second {
		return c.b.Append(append(dst, 2), v.b)
	}
	return c.a.Append(append(dst, 1), v.a)
}

func (c eitherCodec[A, B]) Decode(src []byte) (either[A, B], int, error) {
	var v either[A, B]
	if len(src) == 0 {
		return v, 0, codec.ErrShort
	}
	switch src[0] {
	case 1:
		a, n, err := c.a.Decode(src[1:])
		return either[A, B]{a: a}, n + 1, err
	case 2:
		b, n, err := c.b.Decode(src[1:])
		return either[A, B]{b: b, second: true}, n + 1, err
	}
	return v, 0, fmt.Errorf("record of side %d, want 1 or 2", src[0])
}
