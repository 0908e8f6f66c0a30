package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tide-stream/tide/internal/exec"
)

func TestExecutingReadyContents(t *testing.T) {
	h := run(newHarness(t, baseConfig()), deployed(2)...)
	h.take()
	h.s.Step(SlotsChanged{Available: 3, Trigger: TriggerJoined})
	if h.s.HasReady() {
		t.Fatalf("SlotsChanged produced work: %+v", h.s.Ready())
	}
	if at, ok := h.s.Deadline(); !ok || !at.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("Deadline = %v, %v; want 2s", at, ok)
	}
	h.s.Tick(t0.Add(2 * time.Second))
	want := Ready{
		TriggerCheckpoint: &CheckpointRequest{Attempt: 1, Reason: "rescale 2 -> 3 slots (taskmanager-joined)"},
		RescaleStarted:    &RescaleRecord{ID: 2, Trigger: TriggerJoined, From: 2, To: 3, Start: t0.Add(2 * time.Second)},
	}
	if diff := cmp.Diff(want, h.s.Ready()); diff != "" {
		t.Fatalf("Ready mismatch (-want +got):\n%s", diff)
	}
	h.s.Advance(h.s.Ready())
	if h.s.HasReady() {
		t.Fatal("HasReady after Advance")
	}
	h.s.Step(RescaleCheckpointDone{Attempt: 1, Checkpoint: 11})
	stop := exec.Attempt(1)
	want = Ready{Transition: &Transition{From: Executing, To: Restarting, Reason: "rescale 2 -> 3 slots (taskmanager-joined)"}, Stop: &stop}
	if diff := cmp.Diff(want, h.s.Ready()); diff != "" {
		t.Fatalf("Ready mismatch (-want +got):\n%s", diff)
	}
}

// TestReadyQueuesAcrossSteps checks that work of several Steps between two
// Readys is kept, in order, one batch per Step.
func TestReadyQueuesAcrossSteps(t *testing.T) {
	h := run(newHarness(t, withConfig(func(c *Config) { c.Restart.Delay = 0 })), deployed(2)...)
	h.take()
	h.s.Step(TaskFailed{Attempt: 1, Reason: "x", Retryable: true, Trigger: TriggerFailure})
	h.s.Step(TasksStopped{Attempt: 1})
	h.s.Step(TaskFailed{Attempt: 2, Reason: "y", Retryable: true, Trigger: TriggerFailure})
	var got []string
	for h.s.HasReady() {
		rd := h.s.Ready()
		got = append(got, strings.Join(render(time.Second, rd), " | "))
		h.s.Advance(rd)
	}
	want := []string{
		"1s Executing -> Restarting | 1s stop attempt=1 | 1s rescale-started #2 failure 2->2",
		"1s Restarting -> Executing | 1s deploy attempt=2 slots=2 [map:2 source:2] restore=0",
		"1s Executing -> Restarting | 1s stop attempt=2",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("batches mismatch (-want +got):\n%s", diff)
	}
	if h.s.Restarts() != 2 {
		t.Fatalf("Restarts = %d, want 2", h.s.Restarts())
	}
}

func TestExecutingFailures(t *testing.T) {
	s := time.Second
	tests := []struct {
		name  string
		cfg   Config
		ops   []op
		want  []string
		state State
	}{
		{
			name:  "not retryable fails whatever the strategy",
			cfg:   baseConfig(),
			ops:   []op{fatalFailure(1)},
			want:  []string{"1s Executing -> Failed", "1s stop attempt=1"},
			state: Failed,
		},
		{
			name:  "strategy none fails on the first failure",
			cfg:   withConfig(func(c *Config) { c.Restart = RestartConfig{Strategy: StrategyNone} }),
			ops:   []op{taskFailed(1, TriggerFailure)},
			want:  []string{"1s Executing -> Failed", "1s stop attempt=1"},
			state: Failed,
		},
		{
			name:  "unknown strategy behaves as none",
			cfg:   withConfig(func(c *Config) { c.Restart = RestartConfig{Strategy: "bogus", Attempts: -1} }),
			ops:   []op{taskFailed(1, TriggerFailure)},
			want:  []string{"1s Executing -> Failed", "1s stop attempt=1"},
			state: Failed,
		},
		{
			name:  "zero attempts fails on the first failure",
			cfg:   withConfig(func(c *Config) { c.Restart.Attempts = 0 }),
			ops:   []op{taskFailed(1, TriggerFailure)},
			want:  []string{"1s Executing -> Failed", "1s stop attempt=1"},
			state: Failed,
		},
		{
			name: "tasks stopped unexpectedly: restart without a Stop",
			cfg:  baseConfig(),
			ops:  []op{stopped(1), adv(s)},
			want: []string{
				"1s Executing -> Restarting",
				"1s rescale-started #2 failure 2->2",
				"2s Restarting -> Executing",
				"2s deploy attempt=2 slots=2 [map:2 source:2] restore=0",
			},
			state: Executing,
		},
		{
			name:  "cancel while the rescale checkpoint is pending",
			cfg:   baseConfig(),
			ops:   []op{slots(3, TriggerJoined), adv(s), cancelEv(), ckptDone(1, 3), stopped(1)},
			want:  []string{"2s checkpoint attempt=1", "2s rescale-started #2 taskmanager-joined 2->3", "2s Executing -> Canceling", "2s stop attempt=1", "2s Canceling -> Canceled"},
			state: Canceled,
		},
		{
			name:  "manual rescale at the desired parallelism does nothing",
			cfg:   baseConfig(),
			ops:   []op{manual(), adv(time.Minute)},
			state: Executing,
		},
		{
			name:  "restart counter counts failures only",
			cfg:   withConfig(func(c *Config) { c.Restart.Attempts = 1; c.RescaleOnCheckpoint = false }),
			ops:   []op{slots(3, TriggerJoined), adv(s), stopped(1), running(2), slots(4, TriggerJoined), adv(s), stopped(2), running(3), taskFailed(3, TriggerFailure)},
			state: Restarting,
		},
		{
			name: "leaving everything: rescale to zero waits for resources",
			cfg:  baseConfig(),
			ops:  []op{slots(0, TriggerLeaving), adv(s), ckptDone(1, 8), stopped(1), slots(1, TriggerJoined), adv(s)},
			want: []string{
				"2s checkpoint attempt=1",
				"2s rescale-started #2 taskmanager-leaving 2->0",
				"2s Executing -> Restarting",
				"2s stop attempt=1",
				"2s Restarting -> WaitingForResources",
				"3s WaitingForResources -> Executing",
				"3s deploy attempt=2 slots=1 [map:1 source:1] restore=8",
			},
			state: Executing,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := run(newHarness(t, tt.cfg), deployed(2)...)
			h.take()
			run(h, tt.ops...)
			if tt.want != nil {
				h.expect(tt.want...)
			}
			h.expectState(tt.state)
		})
	}
}
