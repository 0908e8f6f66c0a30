package scheduler

import (
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/exec"
)

func TestRestarting(t *testing.T) {
	s := time.Second
	// Each case starts in Restarting after a failure of attempt 1 at 1s (Stop already out).
	tests := []struct {
		name  string
		ops   []op
		want  []string
		state State
	}{
		{
			name:  "failures and manual rescales while stopping are ignored",
			ops:   []op{taskFailed(1, TriggerFailure), manual(), adv(10 * s)},
			state: Restarting,
		},
		{
			name:  "the restart delay starts when the tasks have stopped",
			ops:   []op{adv(5 * s), stopped(1), adv(999 * time.Millisecond)},
			state: Restarting,
		},
		{
			name:  "cancel before the tasks stopped",
			ops:   []op{cancelEv(), stopped(1)},
			want:  []string{"1s Restarting -> Canceling", "1s Canceling -> Canceled"},
			state: Canceled,
		},
		{
			name:  "cancel during the restart delay drops the restart",
			ops:   []op{stopped(1), cancelEv(), adv(5 * s)},
			want:  []string{"1s Restarting -> Canceled"},
			state: Canceled,
		},
		{
			name:  "no slots during the restart delay: wait for resources",
			ops:   []op{stopped(1), slots(0, TriggerLost), adv(5 * s)},
			want:  []string{"1s Restarting -> WaitingForResources"},
			state: WaitingForResources,
		},
		{
			name:  "slots gone before the tasks stopped: decided when they stop",
			ops:   []op{slots(0, TriggerLost), stopped(1)},
			want:  []string{"1s Restarting -> WaitingForResources"},
			state: WaitingForResources,
		},
		{
			name:  "tasks finishing instead of stopping finish the job",
			ops:   []op{finishedEv(1)},
			want:  []string{"1s Restarting -> Finished"},
			state: Finished,
		},
		{
			name:  "deploys at the parallelism desired when the delay ends",
			ops:   []op{stopped(1), slots(5, TriggerJoined), adv(s), stopped(1)},
			want:  []string{"2s Restarting -> Executing", "2s deploy attempt=2 slots=5 [map:5 source:2] restore=0"},
			state: Executing,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := run(newHarness(t, baseConfig()), append(deployed(2), taskFailed(1, TriggerFailure))...)
			h.take()
			h.expectState(Restarting)
			run(h, tt.ops...)
			h.expect(tt.want...)
			h.expectState(tt.state)
		})
	}
}

// TestFailureRate: Flink's failure-rate strategy. The job fails at the
// failure that makes more than MaxFailuresPerInterval within the
// interval; failures spread wider restart for ever.
func TestFailureRate(t *testing.T) {
	cfg := withConfig(func(c *Config) {
		c.Restart = RestartConfig{Strategy: StrategyFailureRate, MaxFailuresPerInterval: 2, FailureRateInterval: 10 * time.Second, Delay: time.Second}
	})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	failAndRestart := func(h *harness, a exec.Attempt) {
		run(h, taskFailed(a, TriggerFailure), stopped(a), adv(time.Second), running(a+1))
	}
	t.Run("too many within the interval", func(t *testing.T) {
		h := run(newHarness(t, cfg), deployed(2)...)
		failAndRestart(h, 1)
		failAndRestart(h, 2)
		h.expectState(Executing)
		run(h, taskFailed(3, TriggerFailure))
		h.expectState(Failed)
	})
	t.Run("spread wider than the interval", func(t *testing.T) {
		h := run(newHarness(t, cfg), deployed(2)...)
		for a := exec.Attempt(1); a <= 6; a++ {
			failAndRestart(h, a)
			run(h, adv(5*time.Second))
			h.expectState(Executing)
		}
	})
}
