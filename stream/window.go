package stream

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tide-stream/tide/codec"
)

// Windows (Flink's window operator). A keyed stream is cut into windows
// by a WindowAssigner; a Trigger says when a window's function runs over
// its contents, an optional Evictor removes records first, and allowed
// lateness keeps a window's state past its end for late records. Window
// contents, trigger state and timers are the key's state: they move with
// the key on a rescale and come back on a restore, so a window fires
// neither zero times nor twice.
//
//	perAuction := stream.KeyBy(bids, func(b Bid) int64 { return b.Auction })
//	counts := stream.WindowAggregate(perAuction.Window(stream.TumblingEventTimeWindows(10*time.Second)),
//		"bids per auction", countBids{}, nil)

// Window is a span of time [Start, End) in milliseconds since the Unix
// epoch, or the global window (GlobalWindow).
type Window struct {
	Start, End int64
}

// GlobalWindow is the one window of GlobalWindows: all of time.
var GlobalWindow = Window{Start: math.MinInt64, End: math.MaxInt64}

// MaxTimestamp is the window's last millisecond: the timestamp of what it
// emits, and the watermark at which an event-time window fires.
func (w Window) MaxTimestamp() int64 {
	if w == GlobalWindow {
		return math.MaxInt64
	}
	return w.End - 1
}

func (w Window) String() string {
	if w == GlobalWindow {
		return "GlobalWindow"
	}
	return fmt.Sprintf("[%d,%d)", w.Start, w.End)
}

// intersects reports whether two session windows touch or overlap (Flink's
// TimeWindow.intersects: the ends count).
func (w Window) intersects(o Window) bool { return w.Start <= o.End && o.Start <= w.End }

func (w Window) cover(o Window) Window {
	return Window{Start: min(w.Start, o.Start), End: max(w.End, o.End)}
}

// WindowAssigner cuts a keyed stream into windows. Its constructors are
// TumblingEventTimeWindows and the others below.
type WindowAssigner struct {
	size, slide, offset int64 // ms; slide == size for tumbling windows
	gap                 int64 // ms, session windows
	global              bool
	processingTime      bool
	name                string
}

// TumblingEventTimeWindows are consecutive windows of size, aligned to the
// epoch (plus offset, if given), in event time.
func TumblingEventTimeWindows(size time.Duration, offset ...time.Duration) WindowAssigner {
	return timeWindows("TumblingEventTimeWindows", size, size, offset, false)
}

// TumblingProcessingTimeWindows are TumblingEventTimeWindows on the wall
// clock.
func TumblingProcessingTimeWindows(size time.Duration, offset ...time.Duration) WindowAssigner {
	return timeWindows("TumblingProcessingTimeWindows", size, size, offset, true)
}

// SlidingEventTimeWindows are windows of size starting every slide: a
// record belongs to size/slide of them.
func SlidingEventTimeWindows(size, slide time.Duration, offset ...time.Duration) WindowAssigner {
	return timeWindows("SlidingEventTimeWindows", size, slide, offset, false)
}

// SlidingProcessingTimeWindows are SlidingEventTimeWindows on the wall
// clock.
func SlidingProcessingTimeWindows(size, slide time.Duration, offset ...time.Duration) WindowAssigner {
	return timeWindows("SlidingProcessingTimeWindows", size, slide, offset, true)
}

// EventTimeSessionWindows group a key's records into sessions: a session
// ends when no record came for gap. Sessions that come to touch merge.
func EventTimeSessionWindows(gap time.Duration) WindowAssigner {
	return WindowAssigner{gap: gap.Milliseconds(), name: "EventTimeSessionWindows"}
}

// ProcessingTimeSessionWindows are EventTimeSessionWindows on the wall
// clock.
func ProcessingTimeSessionWindows(gap time.Duration) WindowAssigner {
	return WindowAssigner{gap: gap.Milliseconds(), processingTime: true, name: "ProcessingTimeSessionWindows"}
}

// GlobalWindows puts all of a key's records into one window, which never
// fires unless a trigger makes it (its default trigger never does).
func GlobalWindows() WindowAssigner { return WindowAssigner{global: true, name: "GlobalWindows"} }

func timeWindows(name string, size, slide time.Duration, offset []time.Duration, proc bool) WindowAssigner {
	a := WindowAssigner{size: size.Milliseconds(), slide: slide.Milliseconds(), processingTime: proc, name: name}
	if len(offset) > 0 {
		a.offset = offset[0].Milliseconds()
	}
	return a
}

// check says what is wrong with the assigner, if anything.
func (a WindowAssigner) check() error {
	switch {
	case a.name == "":
		return fmt.Errorf("no window assigner: use TumblingEventTimeWindows, GlobalWindows or another")
	case a.global:
		return nil
	case strings.Contains(a.name, "Session"):
		if a.gap <= 0 {
			return fmt.Errorf("%s: the session gap must be at least 1ms", a.name)
		}
	case a.size <= 0 || a.slide <= 0:
		return fmt.Errorf("%s: window size and slide must be at least 1ms, got %dms and %dms", a.name, a.size, a.slide)
	case a.offset <= -a.slide || a.offset >= a.slide:
		return fmt.Errorf("%s: offset %dms must be within the slide %dms", a.name, a.offset, a.slide)
	}
	return nil
}

// EventTime reports whether the windows follow event time.
func (a WindowAssigner) EventTime() bool { return !a.global && !a.processingTime }

func (a WindowAssigner) merging() bool { return a.gap > 0 }

// assign appends the windows of a record with timestamp ts (the record's,
// or the processing time) to dst.
func (a WindowAssigner) assign(ts int64, dst []Window) []Window {
	switch {
	case a.global:
		return append(dst, GlobalWindow)
	case a.gap > 0:
		return append(dst, Window{Start: ts, End: addClamped(ts, a.gap)})
	}
	// Window k starts back = r + k·slide before ts, and holds ts while back
	// is below size. Working from ts-start (in [0, size)) rather than from
	// the starts keeps everything within int64 near either end of time:
	// a start below math.MinInt64 is clamped there, an end above
	// math.MaxInt64 too, and the other bound stays aligned.
	r := windowRem(ts%a.slide-a.offset%a.slide, a.slide)
	for back := r; back < a.size; back += a.slide {
		start := int64(math.MinInt64)
		if ts >= math.MinInt64+back {
			start = ts - back
		}
		dst = append(dst, Window{Start: start, End: addClamped(ts, a.size-back)})
		if back > math.MaxInt64-a.slide {
			break
		}
	}
	return dst
}

func addClamped(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Element is a record in a window's buffer, with its timestamp.
type Element[T any] struct {
	Value     T
	Timestamp int64
}

// windowCodec encodes a Window.
type windowCodec struct{}

func (windowCodec) Append(dst []byte, w Window) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(w.Start))
	return binary.BigEndian.AppendUint64(dst, uint64(w.End))
}

func (windowCodec) Decode(src []byte) (Window, int, error) {
	if len(src) < 16 {
		return Window{}, 0, fmt.Errorf("window of %d bytes, want 16", len(src))
	}
	return Window{Start: int64(binary.BigEndian.Uint64(src)), End: int64(binary.BigEndian.Uint64(src[8:]))}, 16, nil
}

// windowState is one window's state: its accumulator (incremental
// functions), or its buffered records (evictors, full window functions),
// and its trigger's state.
type windowState[T, A any] struct {
	HasAcc  bool
	Acc     A
	Elems   []Element[T]
	Trigger TriggerState[T]
}

// windowStateCodec encodes a windowState; acc is nil when the function
// buffers records.
type windowStateCodec[T, A any] struct {
	t   codec.Codec[T]
	acc codec.Codec[A]
}

func (c windowStateCodec[T, A]) Append(dst []byte, s *windowState[T, A]) []byte {
	if s.HasAcc {
		dst = append(dst, 1)
		dst = c.acc.Append(dst, s.Acc)
	} else {
		dst = append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(len(s.Elems)))
	for _, e := range s.Elems {
		dst = binary.BigEndian.AppendUint64(dst, uint64(e.Timestamp))
		dst = c.t.Append(dst, e.Value)
	}
	tr := s.Trigger
	if tr.HasN {
		dst = binary.AppendVarint(append(dst, 1), tr.N)
	} else {
		dst = append(dst, 0)
	}
	if tr.HasLast {
		dst = append(dst, 1)
		dst = binary.BigEndian.AppendUint64(dst, uint64(tr.LastTimestamp))
		dst = c.t.Append(dst, tr.Last)
	} else {
		dst = append(dst, 0)
	}
	return dst
}

func (c windowStateCodec[T, A]) Decode(src []byte) (*windowState[T, A], int, error) {
	s := &windowState[T, A]{}
	n := 0
	need := func(k int) error {
		if len(src)-n < k {
			return fmt.Errorf("window state: %d bytes left, want %d", len(src)-n, k)
		}
		return nil
	}
	if err := need(1); err != nil {
		return nil, 0, err
	}
	if src[n] > 1 {
		return nil, 0, fmt.Errorf("window state: accumulator flag %d", src[n])
	}
	s.HasAcc = src[n] == 1
	n++
	if s.HasAcc {
		if c.acc == nil {
			return nil, 0, fmt.Errorf("window state: an accumulator where the function buffers records")
		}
		a, m, err := c.acc.Decode(src[n:])
		if err != nil {
			return nil, 0, fmt.Errorf("window state: accumulator: %w", err)
		}
		s.Acc, n = a, n+m
	}
	count, m := binary.Uvarint(src[n:])
	if m <= 0 || count > uint64(len(src)-n-m)/8 {
		return nil, 0, fmt.Errorf("window state: bad record count")
	}
	n += m
	if count > 0 {
		s.Elems = make([]Element[T], 0, count)
	}
	for range count {
		if err := need(8); err != nil {
			return nil, 0, err
		}
		ts := int64(binary.BigEndian.Uint64(src[n:]))
		n += 8
		v, m, err := c.t.Decode(src[n:])
		if err != nil {
			return nil, 0, fmt.Errorf("window state: record: %w", err)
		}
		n += m
		s.Elems = append(s.Elems, Element[T]{Value: v, Timestamp: ts})
	}
	if err := need(1); err != nil {
		return nil, 0, err
	}
	switch src[n] {
	case 0:
		n++
	case 1:
		n++
		tn, m := binary.Varint(src[n:])
		if m <= 0 {
			return nil, 0, fmt.Errorf("window state: bad trigger counter")
		}
		s.Trigger.N, s.Trigger.HasN, n = tn, true, n+m
	default:
		return nil, 0, fmt.Errorf("window state: trigger counter flag %d", src[n])
	}
	if err := need(1); err != nil {
		return nil, 0, err
	}
	switch src[n] {
	case 0:
		n++
	case 1:
		n++
		if err := need(8); err != nil {
			return nil, 0, err
		}
		s.Trigger.LastTimestamp = int64(binary.BigEndian.Uint64(src[n:]))
		n += 8
		v, m, err := c.t.Decode(src[n:])
		if err != nil {
			return nil, 0, fmt.Errorf("window state: trigger's last record: %w", err)
		}
		s.Trigger.HasLast, s.Trigger.Last, n = true, v, n+m
	default:
		return nil, 0, fmt.Errorf("window state: trigger flag %d", src[n])
	}
	return s, n, nil
}
