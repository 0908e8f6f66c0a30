package autoscaler

import (
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/datagen"
)

// seedModel is the seed's experiment compressed speedup times: the seed's
// bursts (one period of the cosine, trough to trough), TaskManagers of one
// slot with the seed's 500m limit and 250m request, a per-record cost and a
// rescale pause.
func seedModel(speedup float64, cost float64, pause time.Duration) simConfig {
	period := datagen.BurstPeriod.Seconds() / speedup
	return simConfig{
		load:     &bursts{b: datagen.Bursts{Speedup: speedup}, producer: 100_000},
		cost:     cost,
		limit:    0.5,
		request:  0.25,
		pause:    pause,
		dt:       50 * time.Millisecond,
		duration: time.Duration(period * float64(time.Second)),
		start:    1,
		window:   10 * time.Second, cpuWindow: 15 * time.Second,
		halves: []float64{period / 2, period},
	}
}

// TestSimulationSeed drives both policies, each with its defaults (the hpa
// policy with the seed's target 35% and bounds 1..15), against the seed's
// load compressed ten times (one 15.7-minute period of its bursts, trough to
// trough) and reports per policy the peak lag (in records, and in seconds
// of the peak input rate over the 10 s rate window), TaskManager-seconds and
// rescales per half swing. The per-record cost is 75 µs, what the seed's
// figures imply (5 TaskManagers at 35% of 250m for about 6,000 records/s),
// or 30 µs, what Tide measured for the seed's computation; the rescale
// pause is 2 s or 3 s.
//
// The goals are those of issue 16: Tide's policy keeps the peak lag under
// 2 s of input, uses at most 0.8 times the hpa policy's TaskManager-seconds,
// and makes at most one rescale per swing in each direction. The last two
// are asserted for every variant. The lag goal is not reached in every
// variant: lagOK records which reach it, so that a change to either side
// shows.
func TestSimulationSeed(t *testing.T) {
	for _, c := range []struct {
		name  string
		cost  float64
		pause time.Duration
		lagOK bool
	}{
		// Misses narrowly (2.13 s): the one scale-up comes at 91% busy
		// near the peak, and its 2 s pause alone piles up 1.7 s of input
		// on top of a burst.
		{"75us-2s", 75e-6, 2 * time.Second, false},
		// Out of reach for any trigger that waits for the load: a 3 s pause
		// near the peak is 2.6 s of input by itself.
		{"75us-3s", 75e-6, 3 * time.Second, false},
		// One TaskManager carries the peak at 36% busy: no rescale at all.
		{"30us-2s", 30e-6, 2 * time.Second, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			hpa, err := NewHPA(HPAConfig{Bounds: Bounds{Min: 1, Max: 15}, TargetUtilization: 35})
			if err != nil {
				t.Fatal(err)
			}
			tide, err := NewTide(TideConfig{Bounds: Bounds{Min: 1, Max: 15}})
			if err != nil {
				t.Fatal(err)
			}
			rh := simulate(hpa, seedModel(10, c.cost, c.pause))
			rt := simulate(tide, seedModel(10, c.cost, c.pause))
			t.Log(rh.summary("hpa"))
			t.Log(rt.summary("tide"))
			t.Logf("tide decisions:\n%s", rt.trace())
			t.Logf("hpa decisions:\n%s", rh.trace())
			if rh.firstDecisionErr != nil || rt.firstDecisionErr != nil {
				t.Fatalf("decision errors: hpa %v, tide %v", rh.firstDecisionErr, rt.firstDecisionErr)
			}
			if ratio := rt.tmSeconds / rh.tmSeconds; ratio > 0.8 {
				t.Errorf("tide used %.0f TaskManager-seconds, %.2f× hpa's %.0f (goal ≤ 0.8×)", rt.tmSeconds, ratio, rh.tmSeconds)
			}
			for h := range rt.ups {
				if rt.ups[h] > 1 || rt.downs[h] > 1 {
					t.Errorf("tide: half swing %d has %d up and %d down rescales (goal ≤ 1 each)", h, rt.ups[h], rt.downs[h])
				}
			}
			if got := rt.peakLagSeconds < 2; got != c.lagOK {
				t.Errorf("tide: peak lag %.0f records, %.2f s of peak input: under 2 s is %v, the table says %v", rt.peakLag, rt.peakLagSeconds, got, c.lagOK)
			}
		})
	}
}

// TestSimulationSeedEarlierScaleUp: the same model with the tide policy's
// scale-up threshold at 80% instead of 90%: the scale-up comes earlier, at
// a lower input rate, and the 2 s variant meets the lag goal too, for a few
// more TaskManager-seconds. Not the default: the narrower band between the
// target (75%) and the threshold lets noise through: with it,
// TestTideSteadyNoisyLoadDoesNotOscillate fails for two of its 40 seeds
// (±27% and ±29% noise: a second scale-up, one after a scale-down).
func TestSimulationSeedEarlierScaleUp(t *testing.T) {
	hpa, err := NewHPA(HPAConfig{Bounds: Bounds{Min: 1, Max: 15}, TargetUtilization: 35})
	if err != nil {
		t.Fatal(err)
	}
	tide, err := NewTide(TideConfig{Bounds: Bounds{Min: 1, Max: 15}, ScaleUpUtilization: 0.8})
	if err != nil {
		t.Fatal(err)
	}
	rh := simulate(hpa, seedModel(10, 75e-6, 2*time.Second))
	rt := simulate(tide, seedModel(10, 75e-6, 2*time.Second))
	t.Log(rh.summary("hpa"))
	t.Log(rt.summary("tide"))
	if rt.peakLagSeconds >= 2 || rt.tmSeconds > 0.8*rh.tmSeconds || rt.rescales > 2 {
		t.Errorf("tide at 80%%: %s", rt.summary("tide"))
	}
}
