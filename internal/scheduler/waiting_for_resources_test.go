package scheduler

import (
	"testing"
	"time"
)

func TestWaitingForResources(t *testing.T) {
	s, ms := time.Second, time.Millisecond
	wait5s := withConfig(func(c *Config) { c.ResourceWaitTimeout = 5 * s })

	t.Run("no slot within the resource wait timeout fails", func(t *testing.T) {
		h := run(newHarness(t, wait5s), start(), adv(4999*ms))
		h.take()
		h.expectState(WaitingForResources)
		run(h, adv(ms))
		h.expect("5s WaitingForResources -> Failed")
		if _, ok := h.s.Deadline(); ok {
			t.Fatal("a terminal state has a pending timer")
		}
	})
	t.Run("negative resource wait timeout waits forever", func(t *testing.T) {
		h := run(newHarness(t, baseConfig()), start(), adv(24*time.Hour))
		h.expect("0s Created -> WaitingForResources")
		if _, ok := h.s.Deadline(); ok {
			t.Fatal("Deadline set with no slots and an infinite resource wait")
		}
	})
	t.Run("slots gone before stabilization", func(t *testing.T) {
		h := run(newHarness(t, baseConfig()), start(), slots(1, TriggerJoined), adv(500*ms), slots(0, TriggerLost), adv(5*s))
		h.expect("0s Created -> WaitingForResources")
		h.expectState(WaitingForResources)
	})
	t.Run("timers of WaitingForResources are dropped once Executing", func(t *testing.T) {
		h := run(newHarness(t, wait5s), start(), slots(1, TriggerJoined), adv(s), running(1))
		h.take()
		run(h, adv(10*s))
		h.expect()
		h.expectState(Executing)
	})
	t.Run("stabilization timer fires exactly at the timeout", func(t *testing.T) {
		h := run(newHarness(t, baseConfig()), start(), slots(2, TriggerJoined), adv(999*ms))
		h.expect("0s Created -> WaitingForResources")
		run(h, adv(ms))
		rd := h.s.Ready() // already drained: check the recorded state instead
		if !rd.empty() {
			t.Fatalf("Ready after drain = %+v", rd)
		}
		h.expect(
			"1s WaitingForResources -> Executing",
			"1s deploy attempt=1 slots=2 [map:2 source:2] restore=0",
			"1s rescale-started #1 initial 0->2",
		)
		if got := h.s.Parallelism(); got["map"] != 2 || got["source"] != 2 || h.s.Attempt() != 1 {
			t.Fatalf("Parallelism, Attempt = %v, %d", got, h.s.Attempt())
		}
	})
	t.Run("manual rescale deploys at once", func(t *testing.T) {
		h := run(newHarness(t, baseConfig()), start(), manual(), slots(3, TriggerJoined), manual())
		h.expect(
			"0s Created -> WaitingForResources",
			"0s WaitingForResources -> Executing",
			"0s deploy attempt=1 slots=3 [map:3 source:2] restore=0",
			"0s rescale-started #1 initial 0->3",
		)
	})
	t.Run("cancel", func(t *testing.T) {
		h := run(newHarness(t, baseConfig()), start(), slots(3, TriggerJoined), cancelEv(), adv(time.Minute))
		h.expect("0s Created -> WaitingForResources", "0s WaitingForResources -> Canceled")
	})
	t.Run("zero stabilization timeout deploys on the next tick", func(t *testing.T) {
		h := run(newHarness(t, withConfig(func(c *Config) { c.StabilizationTimeout = 0 })), start(), slots(1, TriggerJoined))
		h.take()
		h.expectState(WaitingForResources)
		run(h, adv(0))
		h.expectState(Executing)
	})
}
