package datagen

import (
	"testing"
	"time"
)

func TestRatePacer(t *testing.T) {
	p := &ratePacer{shape: Constant{R: 1000}}
	ms := time.Millisecond
	for _, tc := range []struct {
		now      time.Duration
		sent     int64
		due      int64
		wait     time.Duration
		dropped  float64
		scenario string
	}{
		{0, 0, 0, ms, 0, "nothing due at the start: wait for the first record's time"},
		{10 * ms, 0, 10, 0, 0, "ten due"},
		{10 * ms, 10, 10, ms, 0, "all sent: wait a record's time"},
		{10*ms + ms/2, 10, 10, ms / 2, 0, "half way to the next"},
		{2 * time.Second, 10, 1010, 0, 990, "1990 behind: catch up one second's worth, drop the rest"},
		{2 * time.Second, 1010, 1010, ms, 990, "caught up"},
	} {
		due, wait := p.due(tc.now, tc.sent)
		if due != tc.due || wait != tc.wait || p.dropped != tc.dropped {
			t.Errorf("%s: due(%v, %d) = %d, %v (dropped %g); want %d, %v (dropped %g)",
				tc.scenario, tc.now, tc.sent, due, wait, p.dropped, tc.due, tc.wait, tc.dropped)
		}
	}
	if w := (&ratePacer{shape: Constant{R: 1}}).waitAt(0); w != maxWait {
		t.Errorf("a slow rate waits at most %v, got %v", maxWait, w)
	}
}

// waitAt returns the pacer's wait at now with nothing behind.
func (p *ratePacer) waitAt(now time.Duration) time.Duration {
	_, w := p.due(now, int64(p.shape.Due(now)))
	return w
}

func TestBurstPacer(t *testing.T) {
	p := &burstPacer{b: Bursts{}} // speedup 1: bursts of 501 at minute 0, pause 15 s
	s := time.Second
	for _, tc := range []struct {
		now      time.Duration
		sent     int64
		due      int64
		wait     time.Duration
		scenario string
	}{
		{0, 0, 501, 0, "the first burst is due at once"},
		{s, 300, 501, 0, "still sending it"},
		{2 * s, 501, 501, maxWait, "sent: the pause starts"},
		{16*s + 999*time.Millisecond, 501, 501, time.Millisecond, "still pausing"},
		{17 * s, 501, 1002, 0, "the next burst, still minute 0"},
		{18 * s, 1002, 1002, maxWait, "pause"},
		{61 * s, 1002, 1002 + 823, 0, "a burst in minute 1"},
	} {
		due, wait := p.due(tc.now, tc.sent)
		if due != tc.due || wait != tc.wait {
			t.Errorf("%s: due(%v, %d) = %d, %v; want %d, %v", tc.scenario, tc.now, tc.sent, due, wait, tc.due, tc.wait)
		}
	}
}
