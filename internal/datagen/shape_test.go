package datagen

import (
	"math"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*max(1, math.Abs(b)) }

func TestConstant(t *testing.T) {
	c := Constant{R: 250}
	for _, tc := range []struct {
		t         time.Duration
		rate, due float64
	}{{0, 250, 0}, {time.Second, 250, 250}, {1500 * time.Millisecond, 250, 375}, {time.Minute, 250, 15000}} {
		if r, d := c.Rate(tc.t), c.Due(tc.t); r != tc.rate || !near(d, tc.due) {
			t.Errorf("Constant{250} at %v: rate %g, due %g; want %g, %g", tc.t, r, d, tc.rate, tc.due)
		}
	}
}

func TestCosine(t *testing.T) {
	// Phase −3 + 2π·t/P: at t = (π+3)/(2π)·P the cosine is at its trough (x = π)... and
	// at t = 3/(2π)·P at its peak (x = 0).
	P := 100 * time.Second
	c := Cosine{Min: 1000, Max: 3000, Period: P}
	peak := time.Duration(3 / (2 * math.Pi) * float64(P))
	trough := time.Duration((3 + math.Pi) / (2 * math.Pi) * float64(P))
	for _, tc := range []struct {
		name string
		t    time.Duration
		rate float64
	}{
		{"start", 0, 2000 + 1000*math.Cos(-3)}, // 1010.0075
		{"peak", peak, 3000},
		{"trough", trough, 1000},
		{"one period", P, 2000 + 1000*math.Cos(-3)},
	} {
		if r := c.Rate(tc.t); !near(r, tc.rate) {
			t.Errorf("%s (%v): rate %g, want %g", tc.name, tc.t, r, tc.rate)
		}
	}
	// Over whole periods the mean rate is the midpoint.
	for _, n := range []int{1, 2, 7} {
		if d := c.Due(time.Duration(n) * P); !near(d, float64(n)*2000*P.Seconds()) {
			t.Errorf("Due(%d periods) = %g, want %g", n, d, float64(n)*2000*P.Seconds())
		}
	}
	// Due is the integral of Rate: check against a fine Riemann sum at an odd time.
	end := 37 * time.Second
	var sum float64
	const steps = 100000
	dt := end / steps
	for i := range steps {
		sum += c.Rate(time.Duration(i)*dt+dt/2) * dt.Seconds()
	}
	if d := c.Due(end); math.Abs(d-sum) > 1e-3 {
		t.Errorf("Due(%v) = %g, want the integral %g", end, d, sum)
	}
	if d := c.Due(0); d != 0 {
		t.Errorf("Due(0) = %g, want 0", d)
	}
}

func TestSteps(t *testing.T) {
	s := Steps{Min: 100, Max: 400, Period: 8 * time.Second}
	for _, tc := range []struct {
		t         time.Duration
		rate, due float64
	}{
		{0, 100, 0},
		{time.Second, 100, 100},
		{2 * time.Second, 200, 200},
		{3 * time.Second, 200, 400},
		{4 * time.Second, 300, 600},
		{6 * time.Second, 400, 1200},
		{7 * time.Second, 400, 1600},
		{8 * time.Second, 100, 2000},  // a period: mean (100+400)/2 = 250
		{11 * time.Second, 200, 2400}, // 2000 + 2·100 + 1·200
	} {
		if r, d := s.Rate(tc.t), s.Due(tc.t); r != tc.rate || !near(d, tc.due) {
			t.Errorf("Steps at %v: rate %g, due %g; want %g, %g", tc.t, r, d, tc.rate, tc.due)
		}
	}
}

func TestSeedBurstSize(t *testing.T) {
	// The seed's N = 50000 + (long)(50000·cos(−3 + 0.04·minute)), values computed independently.
	for _, tc := range []struct{ minute, n int64 }{
		{0, 501}, // cos(−3) = −0.98999: 50000 − 49499
		{1, 823},
		{39, 56521},
		{75, 100000}, // x = 0: the peak
		{78, 99640},
		{154, 9}, // x = 3.16, just past the trough
		{157, 479},
	} {
		if got := SeedBurstSize(tc.minute); got != tc.n {
			t.Errorf("SeedBurstSize(%d) = %d, want %d", tc.minute, got, tc.n)
		}
	}
}

func TestBursts(t *testing.T) {
	b := Bursts{Speedup: 10}
	if got := b.Pause(); got != 1500*time.Millisecond {
		t.Errorf("Pause() = %v, want 1.5s", got)
	}
	// A seed minute lasts 6 s at speedup 10.
	if m := b.Minute(5999 * time.Millisecond); m != 0 {
		t.Errorf("Minute(5.999s) = %d, want 0", m)
	}
	if m := b.Minute(6 * time.Second); m != 1 {
		t.Errorf("Minute(6s) = %d, want 1", m)
	}
	if n := b.Size(0); n != 50 { // 501/10 rounded
		t.Errorf("Size(0) = %d, want 50", n)
	}
	if n := (Bursts{}).Size(0); n != 501 {
		t.Errorf("Size(0) at speedup 1 = %d, want 501", n)
	}
	if BurstPeriod.Round(time.Second) != 157*time.Minute+5*time.Second {
		t.Errorf("BurstPeriod = %v, want 2π/0.04 min ≈ 157m5s", BurstPeriod)
	}
}
