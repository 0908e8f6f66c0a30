package autoscaler

import (
	"testing"
	"time"
)

// TestSampleReady: groupPods' CPU rule, case by case.
func TestSampleReady(t *testing.T) {
	var c HPAConfig // defaults: 5 min initialization, 30 s readiness delay
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	for _, tc := range []struct {
		name string
		r    Readiness
		now  time.Duration
		want bool
	}{
		{"no condition", Readiness{Started: at(0)}, time.Minute, false},
		{"no start time", Readiness{HasCondition: true, Ready: true, Since: at(0), SampleAt: at(time.Minute), Window: 15 * time.Second}, time.Minute, false},
		{"initializing, ready, sample a window after", Readiness{Started: at(0), HasCondition: true, Ready: true, Since: at(10 * time.Second),
			SampleAt: at(25 * time.Second), Window: 15 * time.Second}, 30 * time.Second, true},
		{"initializing, ready, sample within the first window", Readiness{Started: at(0), HasCondition: true, Ready: true, Since: at(10 * time.Second),
			SampleAt: at(24 * time.Second), Window: 15 * time.Second}, 30 * time.Second, false},
		{"initializing, not ready", Readiness{Started: at(0), HasCondition: true, Ready: false, Since: at(10 * time.Second),
			SampleAt: at(time.Minute), Window: 15 * time.Second}, time.Minute, false},
		{"initialized, unready since its start", Readiness{Started: at(0), HasCondition: true, Ready: false, Since: at(20 * time.Second),
			SampleAt: at(6 * time.Minute), Window: 15 * time.Second}, 6 * time.Minute, false},
		{"initialized, unready later (it was ready once)", Readiness{Started: at(0), HasCondition: true, Ready: false, Since: at(time.Minute),
			SampleAt: at(6 * time.Minute), Window: 15 * time.Second}, 6 * time.Minute, true},
		{"initialized, ready", Readiness{Started: at(0), HasCondition: true, Ready: true, Since: at(5 * time.Minute),
			SampleAt: at(5*time.Minute + time.Second), Window: 15 * time.Second}, 6 * time.Minute, true},
	} {
		if got := c.SampleReady(tc.r, at(tc.now)); got != tc.want {
			t.Errorf("%s: SampleReady = %v, want %v", tc.name, got, tc.want)
		}
	}
}
