package topspeed

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// The car source's parameters, as in Flink's CarSource.
const (
	DefaultCars   = 2                      // cars when --cars is not given
	Interval      = 100 * time.Millisecond // between two rounds of events
	InitialSpeed  = 50                     // km/h, every car's speed before its first event
	SpeedStep     = 5                      // km/h, a car's speed change per event
	MaxSpeed      = 100                    // km/h
	MaxCars       = 1 << 20                // a bound on --cars, to keep a typo from exhausting memory
	generatorWire = 1                      // version byte of MarshalBinary's encoding
)

// Generator is Flink's CarSource: every Interval, each car in turn speeds up
// or slows down by SpeedStep km/h (a fair coin, clamped to 0..MaxSpeed),
// drives speed/3.6 metres further (the distance covered in one second at
// that speed, as in Flink's source), and emits an event stamped with the
// current time. Every car starts at InitialSpeed and distance 0.
//
// The coin is java.util.Random's nextBoolean over the given seed, so a
// Generator's events are those of Flink's CarSource had it been built with
// new Random(seed) instead of new Random(), given the same timestamps. The
// distances are computed with the same float64 operations as Java's and
// are bit-for-bit equal.
//
// A Generator reads no clock: the caller passes the time of each round in,
// the wall clock in the job and a fixed schedule in tests. It is not safe
// for concurrent use.
type Generator struct {
	speeds    []int32
	distances []float64
	rnd       javaRandom
}

// NewGenerator returns a Generator of cars cars (1..MaxCars) seeded with
// seed.
func NewGenerator(cars int, seed int64) (*Generator, error) {
	if cars < 1 || cars > MaxCars {
		return nil, fmt.Errorf("topspeed: %d cars, want 1 to %d", cars, MaxCars)
	}
	g := &Generator{
		speeds:    make([]int32, cars),
		distances: make([]float64, cars),
		rnd:       newJavaRandom(seed),
	}
	for i := range g.speeds {
		g.speeds[i] = InitialSpeed
	}
	return g, nil
}

// Cars returns the number of cars.
func (g *Generator) Cars() int { return len(g.speeds) }

// Round moves every car one step, in car id order, and appends their events,
// all stamped now, to dst. Flink's source sleeps Interval before each round,
// including the first, and stamps each event with System.currentTimeMillis()
// as it emits it.
func (g *Generator) Round(dst []Event, now time.Time) []Event {
	ts := now.UnixMilli()
	for car := range g.speeds {
		if g.rnd.nextBoolean() {
			g.speeds[car] = min(MaxSpeed, g.speeds[car]+SpeedStep)
		} else {
			g.speeds[car] = max(0, g.speeds[car]-SpeedStep)
		}
		g.distances[car] += float64(g.speeds[car]) / 3.6
		dst = append(dst, Event{CarID: int32(car), Speed: g.speeds[car], Distance: g.distances[car], Timestamp: ts})
	}
	return dst
}

// Generate returns rounds rounds of a new Generator's events, round k
// (k = 1..rounds) stamped start + k·Interval, as Flink's source emits them
// when its sleeps are exact.
func Generate(cars int, seed int64, start time.Time, rounds int) ([]Event, error) {
	g, err := NewGenerator(cars, seed)
	if err != nil {
		return nil, err
	}
	events := make([]Event, 0, cars*max(rounds, 0))
	for k := 1; k <= rounds; k++ {
		events = g.Round(events, start.Add(time.Duration(k)*Interval))
	}
	return events, nil
}

// MarshalBinary encodes the Generator's position (the random state and every
// car's speed and distance), for a source's checkpoint.
func (g *Generator) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 1+4+8+len(g.speeds)*12)
	b = append(b, generatorWire)
	b = binary.BigEndian.AppendUint32(b, uint32(len(g.speeds)))
	b = binary.BigEndian.AppendUint64(b, g.rnd.seed)
	for i := range g.speeds {
		b = binary.BigEndian.AppendUint32(b, uint32(g.speeds[i]))
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(g.distances[i]))
	}
	return b, nil
}

var errGeneratorState = errors.New("topspeed: malformed generator state")

// UnmarshalBinary restores a position that MarshalBinary encoded. On error
// the Generator is unchanged.
func (g *Generator) UnmarshalBinary(b []byte) error {
	if len(b) < 13 || b[0] != generatorWire {
		return errGeneratorState
	}
	cars := binary.BigEndian.Uint32(b[1:])
	seed := binary.BigEndian.Uint64(b[5:])
	b = b[13:]
	if cars < 1 || cars > MaxCars || uint64(len(b)) != uint64(cars)*12 || seed > javaRandomMask {
		return errGeneratorState
	}
	speeds, distances := make([]int32, cars), make([]float64, cars)
	for i := range speeds {
		speeds[i] = int32(binary.BigEndian.Uint32(b))
		distances[i] = math.Float64frombits(binary.BigEndian.Uint64(b[4:]))
		b = b[12:]
		if speeds[i] < 0 || speeds[i] > MaxSpeed || math.IsNaN(distances[i]) || math.IsInf(distances[i], 0) {
			return errGeneratorState
		}
	}
	g.speeds, g.distances, g.rnd = speeds, distances, javaRandom{seed: seed}
	return nil
}

// javaRandom is java.util.Random's 48-bit linear congruential generator,
// whose constants and algorithm are part of Java's specification.
type javaRandom struct{ seed uint64 }

const (
	javaRandomMultiplier = 0x5DEECE66D
	javaRandomAddend     = 0xB
	javaRandomMask       = 1<<48 - 1
)

func newJavaRandom(seed int64) javaRandom {
	return javaRandom{seed: (uint64(seed) ^ javaRandomMultiplier) & javaRandomMask}
}

// next is Random.next(bits): the high bits of the advanced state.
func (r *javaRandom) next(bits uint) int32 {
	r.seed = (r.seed*javaRandomMultiplier + javaRandomAddend) & javaRandomMask
	return int32(r.seed >> (48 - bits))
}

func (r *javaRandom) nextBoolean() bool { return r.next(1) != 0 }
