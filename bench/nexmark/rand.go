package nexmark

import (
	"math"
	"math/bits"
)

// eventRand is the random source of one event. Like Beam's generator, which
// seeds a fresh java.util.Random with each event's id, every event draws from
// a source seeded by (Config.Seed, event id) alone, so an event does not
// depend on the events before it: generators can be split, restored at any
// event number and run in parallel, and still produce the same events.
// (nexmark-flink instead draws from one unseeded SplittableRandom, so its
// streams differ from run to run.)
//
// The generator is wyrand: one add and one 64x64->128 multiply per draw, and
// a seeding cost of a single splitmix64 finaliser, which matters because it
// is paid for every event.
type eventRand struct {
	s uint64
}

func newEventRand(seed uint64, eventID int64) eventRand {
	return eventRand{s: mix64(seed ^ mix64(uint64(eventID)+0x9e3779b97f4a7c15))}
}

// mix64 is splitmix64's finaliser.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *eventRand) uint64() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// intn returns a uniform int64 in [0, n), n > 0 (Java's nextInt(n) and the
// reference's LongGenerator.nextLong, without the latter's skew for n beyond
// 2^31). It is Lemire's multiply-shift with rejection, so it is unbiased.
func (r *eventRand) intn(n int64) int64 {
	if n <= 0 {
		panic("nexmark: intn bound must be positive")
	}
	un := uint64(n)
	hi, lo := bits.Mul64(r.uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.uint64(), un)
		}
	}
	return int64(hi)
}

// float64 returns a uniform float64 in [0, 1).
func (r *eventRand) float64() float64 {
	return float64(r.uint64()>>11) * 0x1p-53
}

// nextPrice is PriceGenerator.nextPrice: round(10^(6u) * 100) for uniform u,
// log-uniform between 100 and 100,000,000.
//
// math.Exp and math.Pow took a third of the generator's time, so 10^(6u) is
// a table entry 10^(6i/N) times e^r for the remainder r < 6 ln 10 / N, where
// e^r comes from its Taylor polynomial to r^4 (relative error below 1e-14,
// which moves a rounded price only when it lies within 1e-6 of a half).
func (r *eventRand) nextPrice() int64 {
	u := r.float64() * priceSteps
	i := int(u)
	x := (u - float64(i)) * (6 * math.Ln10 / priceSteps)
	e := 1 + x*(1+x*(1.0/2+x*(1.0/6+x*(1.0/24))))
	return int64(math.Floor(pow10Table[i]*e*100 + 0.5))
}

const priceSteps = 4096

// pow10Table[i] is 10^(6i/priceSteps).
var pow10Table = func() *[priceSteps]float64 {
	var t [priceSteps]float64
	for i := range t {
		t[i] = math.Pow(10, 6*float64(i)/priceSteps)
	}
	return &t
}()
