package datagen

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Shape is a target rate as a pure function of the time since the start.
type Shape interface {
	// Rate returns the target rate, in records per second, at elapsed time t.
	Rate(t time.Duration) float64
	// Due returns how many records are due by elapsed time t: the integral of
	// Rate from 0 to t.
	Due(t time.Duration) float64
}

// Constant is a constant rate of R records per second.
type Constant struct{ R float64 }

// Rate implements Shape.
func (c Constant) Rate(time.Duration) float64 { return c.R }

// Due implements Shape.
func (c Constant) Due(t time.Duration) float64 { return c.R * t.Seconds() }

// CosinePhase is where the cosine shape starts, in radians: the seed's x = −3,
// just after the trough (π), so that the load rises first.
const CosinePhase = -3.0

// Cosine swings between Min and Max records per second with the given Period
// (already compressed by any speedup): Rate(t) = mid + amp·cos(CosinePhase +
// 2π·t/Period), with mid = (Min+Max)/2 and amp = (Max−Min)/2.
type Cosine struct {
	Min, Max float64
	Period   time.Duration
}

func (c Cosine) x(t time.Duration) float64 {
	return CosinePhase + 2*math.Pi*t.Seconds()/c.Period.Seconds()
}

// Rate implements Shape.
func (c Cosine) Rate(t time.Duration) float64 {
	return (c.Min+c.Max)/2 + (c.Max-c.Min)/2*math.Cos(c.x(t))
}

// Due implements Shape.
func (c Cosine) Due(t time.Duration) float64 {
	mid, amp := (c.Min+c.Max)/2, (c.Max-c.Min)/2
	return mid*t.Seconds() + amp*c.Period.Seconds()/(2*math.Pi)*(math.Sin(c.x(t))-math.Sin(CosinePhase))
}

// StepsPerPeriod is the number of levels of the steps shape in one period.
const StepsPerPeriod = 4

// Steps climbs from Min to Max in StepsPerPeriod equal steps, each a
// StepsPerPeriod-th of Period long (already compressed by any speedup), then
// starts again at Min: over a period the rates are Min, Min+(Max−Min)/3,
// Min+2(Max−Min)/3 and Max.
type Steps struct {
	Min, Max float64
	Period   time.Duration
}

func (s Steps) level(i int64) float64 {
	k := i % StepsPerPeriod
	return s.Min + (s.Max-s.Min)*float64(k)/float64(StepsPerPeriod-1)
}

func (s Steps) step() time.Duration { return s.Period / StepsPerPeriod }

// Rate implements Shape.
func (s Steps) Rate(t time.Duration) float64 { return s.level(int64(t / s.step())) }

// Due implements Shape.
func (s Steps) Due(t time.Duration) float64 {
	step := s.step()
	periods := int64(t / s.Period)
	due := float64(periods) * (s.Min + s.Max) / 2 * s.Period.Seconds()
	rest := t - time.Duration(periods)*s.Period
	for i := int64(0); rest > 0; i++ {
		d := min(rest, step)
		due += s.level(i) * d.Seconds()
		rest -= d
	}
	return due
}

// The seed generator's constants (seed-demo.md, DataGen.java, mode cos).
const (
	// BurstMedian is the median burst size: N = BurstMedian + BurstMedian·cos(x).
	BurstMedian = 50_000
	// BurstPhase is x at minute 0.
	BurstPhase = -3.0
	// BurstPhaseStep is how much x grows each minute.
	BurstPhaseStep = 0.04
	// BurstPause is the pause after each burst.
	BurstPause = 15 * time.Second
)

// BurstPeriod is the period of the seed's load, 2π/0.04 minutes (about 157
// minutes), and the default period of the cosine and steps shapes.
var BurstPeriod = time.Duration(math.Round(2 * math.Pi / BurstPhaseStep * float64(time.Minute)))

// Bursts is the seed's generator, with time compressed Speedup times: a burst
// of Size(t) records sent as fast as the broker takes them, then a pause of
// 15 s/Speedup, and so on. The burst size changes every minute/Speedup; it is
// the seed's N divided by Speedup, so that the rates (records per second in a
// burst, and on average) stay the seed's while its 157-minute period shrinks.
type Bursts struct {
	Speedup float64
}

// Minute returns the seed's minute at elapsed time t.
func (b Bursts) Minute(t time.Duration) int64 {
	return int64(t.Seconds() * b.speedup() / 60)
}

// SeedBurstSize returns the seed's N at the given minute: 50,000 +
// 50,000·cos(−3 + 0.04·minute), truncated as the seed's Java (long) cast does.
func SeedBurstSize(minute int64) int64 {
	return BurstMedian + int64(BurstMedian*math.Cos(BurstPhase+BurstPhaseStep*float64(minute)))
}

// Size returns the number of records of a burst that starts at elapsed time t.
func (b Bursts) Size(t time.Duration) int64 {
	return int64(math.Round(float64(SeedBurstSize(b.Minute(t))) / b.speedup()))
}

// Pause returns the pause after each burst.
func (b Bursts) Pause() time.Duration {
	return time.Duration(float64(BurstPause) / b.speedup())
}

func (b Bursts) speedup() float64 {
	if b.Speedup <= 0 {
		return 1
	}
	return b.Speedup
}

// ShapeConfig is what the command line says about a shape.
type ShapeConfig struct {
	// Name is constant, cosine, steps or bursts.
	Name string
	// Rate is the constant shape's rate, records per second.
	Rate float64
	// Min and Max bound the cosine and steps shapes, records per second.
	Min, Max float64
	// Period is the period of the cosine and steps shapes before the speedup
	// compresses it; zero means BurstPeriod, the seed's 157 minutes.
	Period time.Duration
	// Speedup compresses time: periods, the bursts' minute and pause. Zero means 1.
	Speedup float64
}

// Validate reports every problem with the shape's parameters at once.
func (c ShapeConfig) Validate() error {
	var errs []string
	switch c.Name {
	case "constant":
		if c.Rate <= 0 {
			errs = append(errs, "--shape constant needs --rate R > 0")
		}
	case "cosine", "steps":
		if c.Min < 0 || c.Max <= 0 || c.Min > c.Max {
			errs = append(errs, fmt.Sprintf("--shape %s needs 0 <= --min <= --max and --max > 0 (got --min %g --max %g)", c.Name, c.Min, c.Max))
		}
		if c.Period < 0 {
			errs = append(errs, fmt.Sprintf("--period %v must not be negative", c.Period))
		}
	case "bursts":
	default:
		errs = append(errs, fmt.Sprintf("--shape %q: want constant, cosine, steps or bursts", c.Name))
	}
	if c.Speedup < 0 {
		errs = append(errs, fmt.Sprintf("--speedup %g must be positive", c.Speedup))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("datagen: %s", strings.Join(errs, "; "))
}

// period returns the compressed period.
func (c ShapeConfig) period() time.Duration {
	p := c.Period
	if p == 0 {
		p = BurstPeriod
	}
	sp := c.Speedup
	if sp <= 0 {
		sp = 1
	}
	return time.Duration(float64(p) / sp)
}
