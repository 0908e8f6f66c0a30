package scheduler

import (
	"testing"
	"time"
)

func TestCreated(t *testing.T) {
	t.Run("slots before start are remembered", func(t *testing.T) {
		h := run(newHarness(t, baseConfig()), slots(3, TriggerJoined))
		h.expect()
		h.expectState(Created)
		run(h, start())
		h.expect("0s Created -> WaitingForResources")
		if at, ok := h.s.Deadline(); !ok || !at.Equal(t0.Add(time.Second)) {
			t.Fatalf("Deadline = %v, %v; want the stabilization timer at 1s", at, ok)
		}
	})
	t.Run("cancel before start", func(t *testing.T) {
		h := run(newHarness(t, baseConfig()), cancelEv(), start())
		h.expect("0s Created -> Canceled")
		h.expectState(Canceled)
	})
	t.Run("events without meaning are dropped", func(t *testing.T) {
		h := run(newHarness(t, baseConfig()), running(0), stopped(0), manual(), adv(time.Hour))
		h.expect()
		h.expectState(Created)
		if h.s.Attempt() != 0 || len(h.s.Parallelism()) != 0 {
			t.Fatalf("Attempt, Parallelism = %d, %v before any deployment", h.s.Attempt(), h.s.Parallelism())
		}
	})
}
