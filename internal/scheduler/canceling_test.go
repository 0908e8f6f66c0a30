package scheduler

import (
	"testing"
	"time"
)

func TestCanceling(t *testing.T) {
	for _, tt := range []struct {
		name string
		ops  []op
		want []string
	}{
		{"tasks stopped", []op{cancelEv(), taskFailed(1, TriggerLost), slots(0, TriggerLost), adv(time.Minute), stopped(1)},
			[]string{"1m1s Canceling -> Canceled"}},
		{"tasks finished", []op{finishedEv(1)}, []string{"1s Canceling -> Canceled"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := run(newHarness(t, baseConfig()), append(deployed(2), cancelEv())...)
			h.take()
			h.expectState(Canceling)
			run(h, tt.ops...)
			h.expect(tt.want...)
			h.expectState(Canceled)
		})
	}
}

// TestTerminalStatesIgnoreEverything drives each terminal state with every
// kind of event and time passing, and expects no work at all.
func TestTerminalStatesIgnoreEverything(t *testing.T) {
	reach := map[State][]op{
		Finished: append(deployed(2), finishedEv(1)),
		Failed:   append(deployed(2), fatalFailure(1)),
		Canceled: append(deployed(2), cancelEv(), stopped(1)),
	}
	for st, ops := range reach {
		t.Run(st.String(), func(t *testing.T) {
			h := run(newHarness(t, baseConfig()), ops...)
			h.take()
			h.expectState(st)
			attempt := h.s.Attempt()
			run(h, start(), slots(7, TriggerJoined), running(1), taskFailed(1, TriggerLost), stopped(1), finishedEv(1),
				ckptDone(1, 1), cancelEv(), manual(), adv(time.Hour))
			h.expect()
			h.expectState(st)
			if h.s.Attempt() != attempt {
				t.Fatalf("Attempt changed in a terminal state: %d -> %d", attempt, h.s.Attempt())
			}
		})
	}
}

// TestStopWithSavepointFinishes: a Cancel that stops the job after a
// savepoint ends FINISHED, as in Flink, from every state it can reach.
func TestStopWithSavepointFinishes(t *testing.T) {
	stopWithSavepoint := func(h *harness) { h.s.Step(Cancel{Finish: true}) }
	t.Run("executing", func(t *testing.T) {
		h := run(newHarness(t, baseConfig()), deployed(2)...)
		stopWithSavepoint(h)
		h.expectState(Canceling)
		run(h, stopped(1))
		h.expectState(Finished)
	})
	t.Run("waiting for resources", func(t *testing.T) {
		h := newHarness(t, baseConfig())
		run(h, start())
		stopWithSavepoint(h)
		h.expectState(Finished)
	})
}
