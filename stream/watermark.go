package stream

import (
	"fmt"
	"math"
	"time"

	"github.com/tide-stream/tide/internal/operator"
)

// Event time. A source given a WatermarkStrategy (WithWatermarks) stamps
// its records with their event time — milliseconds since the Unix epoch —
// and emits watermarks: the promise that no record older than the
// watermark follows. Records keep their timestamps through chains and
// exchanges; an operator's watermark is the minimum over its inputs, idle
// inputs excluded; event-time timers and windows fire as it passes them.

// WatermarkGenerator follows the timestamps of one source split and says
// how far event time has come.
type WatermarkGenerator interface {
	// OnEvent sees the timestamp of every record of the split.
	OnEvent(ts int64)
	// Watermark returns the split's watermark; the runtime asks every
	// pipeline.auto-watermark-interval. It must never go back.
	Watermark() int64
}

// WatermarkStrategy says how a source's records get their timestamps and
// how its watermarks follow them (Flink's WatermarkStrategy).
type WatermarkStrategy[T any] struct {
	// Timestamp gives a record's event time in milliseconds since the Unix
	// epoch. Nil keeps the timestamps the source gives (SourceOutput.EmitAt);
	// a record without one is then an error.
	Timestamp func(v T) int64
	// Generator makes the watermark generator of one split. Required.
	Generator func() WatermarkGenerator
	// IdleTimeout marks a split idle when it has emitted nothing for this
	// long (processing time), so that it does not hold the watermark back;
	// a subtask whose splits are all idle is idle downstream. 0: never.
	IdleTimeout time.Duration
}

// BoundedOutOfOrderness is the strategy for records that arrive at most
// bound out of timestamp order: the watermark is the largest timestamp
// seen minus bound minus 1ms (Flink's forBoundedOutOfOrderness).
func BoundedOutOfOrderness[T any](bound time.Duration, timestamp func(v T) int64) WatermarkStrategy[T] {
	b := bound.Milliseconds()
	return WatermarkStrategy[T]{Timestamp: timestamp, Generator: func() WatermarkGenerator {
		return &boundedGenerator{bound: b, max: math.MinInt64 + b + 1}
	}}
}

// MonotonousTimestamps is the strategy for records in timestamp order
// (Flink's forMonotonousTimestamps): BoundedOutOfOrderness(0).
func MonotonousTimestamps[T any](timestamp func(v T) int64) WatermarkStrategy[T] {
	return BoundedOutOfOrderness(0, timestamp)
}

// WithIdleness returns s with IdleTimeout d.
func (s WatermarkStrategy[T]) WithIdleness(d time.Duration) WatermarkStrategy[T] {
	s.IdleTimeout = d
	return s
}

type boundedGenerator struct{ bound, max int64 }

func (g *boundedGenerator) OnEvent(ts int64) { g.max = max(g.max, ts) }
func (g *boundedGenerator) Watermark() int64 { return g.max - g.bound - 1 }

// WithWatermarks gives a source its watermark strategy. It is an option of
// FromSource only.
func WithWatermarks[T any](s WatermarkStrategy[T]) Option { return watermarksOption[T]{s} }

type watermarksOption[T any] struct{ s WatermarkStrategy[T] }

func (o watermarksOption[T]) apply(oo *operatorOptions) {
	if oo.op.Input >= 0 {
		oo.errs = append(oo.errs, fmt.Errorf("WithWatermarks is an option of sources (FromSource)"))
	}
}

// watermarksOf finds the strategy among a source's options.
func watermarksOf[T any](name string, opts []Option) (*WatermarkStrategy[T], error) {
	var found *WatermarkStrategy[T]
	for _, o := range opts {
		switch w := o.(type) {
		case watermarksOption[T]:
			if found != nil {
				return nil, fmt.Errorf("source %q: WithWatermarks given twice", name)
			}
			s := w.s
			if s.Generator == nil {
				return nil, fmt.Errorf("source %q: watermark strategy without a Generator", name)
			}
			if s.IdleTimeout < 0 {
				return nil, fmt.Errorf("source %q: negative idle timeout %v", name, s.IdleTimeout)
			}
			found = &s
		default:
			if _, ok := o.(interface{ watermarkType() string }); ok {
				return nil, fmt.Errorf("source %q: WithWatermarks of another record type", name)
			}
		}
	}
	return found, nil
}

func (watermarksOption[T]) watermarkType() string { return fmt.Sprintf("%T", *new(T)) }

// splitClock is the event time of one split of a source subtask.
type splitClock struct {
	id  string
	gen WatermarkGenerator
	// last is the generator's last watermark; active when the split last
	// emitted; touched says it emitted during the current poll.
	last    int64
	active  time.Time
	touched bool
	done    bool
}

// eventTime is a source subtask's event time: a clock per split, the
// subtask's watermark the minimum over the splits that are not idle.
type eventTime struct {
	newGen  func() WatermarkGenerator
	idle    time.Duration
	splits  map[string]*splitClock
	touched []*splitClock
	// opened is when the subtask started: with no split yet, it is idle
	// once the idle timeout has passed since.
	opened time.Time
}

func newEventTime(gen func() WatermarkGenerator, idle time.Duration, opened time.Time) *eventTime {
	return &eventTime{newGen: gen, idle: idle, splits: map[string]*splitClock{}, opened: opened}
}

// clock returns split id's clock, made at its first record.
func (e *eventTime) clock(id string) *splitClock {
	c, ok := e.splits[id]
	if !ok {
		c = &splitClock{id: id, gen: e.newGen(), last: math.MinInt64}
		e.splits[id] = c
	}
	return c
}

// onEvent feeds a record's timestamp to its split's clock.
func (e *eventTime) onEvent(c *splitClock, ts int64) {
	c.gen.OnEvent(ts)
	if !c.touched {
		c.touched = true
		e.touched = append(e.touched, c)
	}
}

// polled marks the splits that emitted during a poll as active at now.
func (e *eventTime) polled(now time.Time) {
	for _, c := range e.touched {
		c.active, c.touched = now, false
	}
	e.touched = e.touched[:0]
}

// done says split id has emitted all its records: it no longer holds the
// watermark back.
func (e *eventTime) done(id string) { e.clock(id).done = true }

// watermark is the subtask's watermark and idleness at now; err says a
// generator went back.
func (e *eventTime) watermark(now time.Time) (wm int64, idle bool, err error) {
	wm, idle = math.MaxInt64, true
	live := false
	for _, c := range e.splits {
		if c.done {
			continue
		}
		live = true
		w := c.gen.Watermark()
		if w < c.last {
			return 0, false, fmt.Errorf("the watermark generator of split %q went back from %d to %d", c.id, c.last, w)
		}
		c.last = w
		if e.idle > 0 && now.Sub(c.active) >= e.idle {
			continue
		}
		idle = false
		wm = min(wm, w)
	}
	switch {
	case !live && len(e.splits) == 0:
		// No record yet: nothing to promise; idle once the timeout allows.
		return math.MinInt64, e.idle > 0 && now.Sub(e.opened) >= e.idle, nil
	case !live || idle:
		// Every split is idle (or done): the subtask is idle and holds
		// nothing back, but promises nothing new either — moving to its
		// fastest split's watermark would make a slower split's records
		// late when it resumes (as Flink's WatermarkOutputMultiplexer).
		return math.MinInt64, true, nil
	}
	return wm, false, nil
}

// noTimestampError is the error of a record without a timestamp under a
// strategy that takes the source's.
func noTimestampError(op string) error {
	return operator.Permanent(fmt.Errorf("%s: a record without a timestamp under event time: the source gives none, and the watermark strategy has no Timestamp function", op))
}
