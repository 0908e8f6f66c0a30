package autoscaler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestTideSteadyNoisyLoadDoesNotOscillate: on a steady load with seeded
// noise (each second's rate drawn within ±noise of the level), in closed
// loop, the tide policy
//   - started at the count its sizing rule gives for the level, never
//     changes it;
//   - started at one TaskManager, with the lag that piles up meanwhile,
//     scales up once, in one decision, never scales up again, and releases
//     what the catch-up needed in at most two steps (two when the level
//     sits near a count's boundary and its noise margin is refined).
func TestTideSteadyNoisyLoadDoesNotOscillate(t *testing.T) {
	const perTM = 0.5 / 75e-6 // records/s of one TaskManager
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0x7469646521))
		rate := 500 + rng.Float64()*45_000
		noise := rng.Float64() * 0.3
		right := int(math.Ceil(rate * (1 + 2.0/60) / (perTM * 0.75)))
		for _, start := range []int{right, 1} {
			p, err := NewTide(TideConfig{Bounds: Bounds{Min: 1, Max: 15}})
			if err != nil {
				t.Fatal(err)
			}
			cfg := simConfig{load: &noisy{rate: rate, noise: noise, rng: rand.New(rand.NewPCG(seed, 1)), second: -1}, cost: 75e-6, limit: 0.5, request: 0.25,
				pause: 2 * time.Second, dt: 100 * time.Millisecond, duration: 20 * time.Minute, start: start,
				window: 10 * time.Second, cpuWindow: 15 * time.Second, halves: []float64{math.Inf(1)}}
			r := simulate(p, cfg)
			if r.firstDecisionErr != nil {
				t.Fatalf("seed %d: %v", seed, r.firstDecisionErr)
			}
			ups, downs, upAfterDown := 0, 0, false
			for _, d := range r.decisions {
				if d.Desired > d.Current {
					ups++
					upAfterDown = upAfterDown || downs > 0
				} else {
					downs++
				}
			}
			what := fmt.Sprintf("seed %d: rate %.0f/s ±%.0f%% from %d (right count %d)", seed, rate, 100*noise, start, right)
			if start == right && len(r.decisions) > 0 {
				t.Errorf("%s: %d changes:\n%s", what, len(r.decisions), r.trace())
			}
			if start == 1 && (ups > 1 || upAfterDown || downs > 2) {
				t.Errorf("%s: %d up, %d down, up after down %v:\n%s", what, ups, downs, upAfterDown, r.trace())
			}
			if end := r.lagAt[len(r.lagAt)-1]; end > rate*5 {
				t.Errorf("%s: lag %.0f at the end, more than 5 s of input:\n%s", what, end, r.trace())
			}
		}
	}
}

// TestTideSwingDoesNotReverse: on a slow swing with noise (two periods of
// a cosine between 0.2 and 1.8 times a level), the tide policy's count
// turns no more often than the load (no flapping), and the lag stays under
// 2 s of the peak input.
func TestTideSwingDoesNotReverse(t *testing.T) {
	const period = 600.0
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0x6e6f697365))
		rate := 2000 + rng.Float64()*20_000
		noise := rng.Float64() * 0.2
		p, err := NewTide(TideConfig{Bounds: Bounds{Min: 1, Max: 15}})
		if err != nil {
			t.Fatal(err)
		}
		swing := func(t float64) float64 { return 1 - 0.8*math.Cos(2*math.Pi*t/period) }
		cfg := simConfig{load: &noisy{rate: rate, noise: noise, rng: rng, second: -1, swing: swing}, cost: 75e-6, limit: 0.5, request: 0.25,
			pause: 2 * time.Second, dt: 100 * time.Millisecond, duration: time.Duration(2 * period * float64(time.Second)), start: 1,
			window: 10 * time.Second, cpuWindow: 15 * time.Second, halves: []float64{period / 2, period, 3 * period / 2, 2 * period}}
		r := simulate(p, cfg)
		// The load turns at 300 s (peak), 600 s (trough) and 900 s (peak):
		// the count may turn as often, no more.
		reversals, last := 0, 0
		for _, d := range r.decisions {
			dir := 1
			if d.Desired < d.Current {
				dir = -1
			}
			if last != 0 && dir != last {
				reversals++
			}
			last = dir
		}
		if reversals > 3 {
			t.Errorf("seed %d: rate %.0f/s ±%.0f%%: the count turned %d times, the load 3 times:\n%s", seed, rate, 100*noise, reversals, r.trace())
		}
		if r.peakLagSeconds > 2 {
			t.Errorf("seed %d: rate %.0f/s ±%.0f%%: peak lag %.0f records, %.2f s of peak input:\n%s", seed, rate, 100*noise, r.peakLag, r.peakLagSeconds, r.trace())
		}
		t.Logf("seed %d: rate %.0f..%.0f/s ±%.0f%%: ups per half %v, downs per half %v, peak lag %.2f s of peak input", seed, 0.2*rate, 1.8*rate, 100*noise, r.ups, r.downs, r.peakLagSeconds)
	}
}
