package datagen

import (
	"math"
	"time"
)

// pacer says how many records should have been sent by an elapsed time. It
// is pure: the loop passes the time in.
type pacer interface {
	// due returns how many records should have been sent in total by now,
	// given that sent have been, and how long to wait before asking again
	// when none more are due.
	due(now time.Duration, sent int64) (due int64, wait time.Duration)
	// target returns the target rate at now, records per second, for the
	// progress line (NaN when the shape has no rate, as bursts).
	target(now time.Duration) float64
}

// Bounds on the wait between two looks at the clock.
const (
	minWait = 100 * time.Microsecond
	maxWait = 20 * time.Millisecond
)

// ratePacer paces a Shape: due is Shape.Due less what was dropped because
// the loop fell more than one second of records behind.
type ratePacer struct {
	shape   Shape
	dropped float64 // records dropped from the schedule; written by due only
}

func (p *ratePacer) due(now time.Duration, sent int64) (int64, time.Duration) {
	rate := p.shape.Rate(now)
	due := p.shape.Due(now) - p.dropped
	// Catch up at most a second's worth of records (and at least a few),
	// so that a shape keeps its form after the broker was the limit.
	if behind, limit := due-float64(sent), max(rate, 1000); behind > limit {
		p.dropped += behind - limit
		due -= behind - limit
	}
	n := int64(math.Floor(due))
	if n > sent {
		return n, 0
	}
	if rate <= 0 {
		return n, maxWait
	}
	wait := time.Duration((float64(sent+1) - due) / rate * float64(time.Second))
	return n, min(max(wait, minWait), maxWait)
}

func (p *ratePacer) target(now time.Duration) float64 { return p.shape.Rate(now) }

// burstPacer paces Bursts: a burst is due all at once; when it has been sent
// the pacer waits the pause, then schedules the next burst.
type burstPacer struct {
	b Bursts
	// scheduled is the number of records of all bursts so far; pauseEnd is
	// when the current pause ends, and pausing whether there is one.
	scheduled int64
	pauseEnd  time.Duration
	pausing   bool
}

func (p *burstPacer) due(now time.Duration, sent int64) (int64, time.Duration) {
	if sent < p.scheduled {
		return p.scheduled, 0
	}
	if p.scheduled > 0 && !p.pausing {
		p.pausing, p.pauseEnd = true, now+p.b.Pause()
	}
	if p.pausing && now < p.pauseEnd {
		return p.scheduled, min(p.pauseEnd-now, maxWait)
	}
	p.pausing = false
	size := p.b.Size(now)
	if size == 0 { // an empty burst: pause again
		p.pausing, p.pauseEnd = true, now+p.b.Pause()
		return p.scheduled, min(p.b.Pause(), maxWait)
	}
	p.scheduled += size
	return p.scheduled, 0
}

func (p *burstPacer) target(time.Duration) float64 { return math.NaN() }

// newPacer returns the pacer of a validated shape configuration.
func newPacer(c ShapeConfig) pacer {
	switch c.Name {
	case "constant":
		return &ratePacer{shape: Constant{R: c.Rate}}
	case "cosine":
		return &ratePacer{shape: Cosine{Min: c.Min, Max: c.Max, Period: c.period()}}
	case "steps":
		return &ratePacer{shape: Steps{Min: c.Min, Max: c.Max, Period: c.period()}}
	case "bursts":
		return &burstPacer{b: Bursts{Speedup: c.Speedup}}
	}
	panic("datagen: newPacer of an unvalidated shape " + c.Name)
}
