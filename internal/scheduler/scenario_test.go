package scheduler

import (
	"testing"
	"time"
)

// deployed brings a scheduler with n slots to Executing with attempt 1 all
// running, at t=1s.
func deployed(n int) []op {
	return []op{slots(n, TriggerJoined), start(), adv(time.Second), running(1)}
}

func withConfig(f func(*Config)) Config {
	c := baseConfig()
	f(&c)
	return c
}

// TestScenarios drives scripted event sequences end to end and checks the
// trace of transitions, deployments, stops, checkpoints and rescale records.
// Lines read "<time since start> <what the shell was asked to do>".
func TestScenarios(t *testing.T) {
	s, ms := time.Second, time.Millisecond
	tests := []struct {
		name  string
		cfg   Config
		setup []op // its trace is not checked
		ops   []op
		want  []string
		state State
	}{
		{
			name: "initial deploy after stabilization",
			ops: []op{slots(2, TriggerJoined), start(), adv(500 * ms), slots(3, TriggerJoined),
				adv(500 * ms), adv(500 * ms), adv(200 * ms), running(1)},
			want: []string{
				"0s Created -> WaitingForResources",
				"1.5s WaitingForResources -> Executing",
				"1.5s deploy attempt=1 slots=3 [map:3 source:2] restore=0",
				"1.5s rescale-started #1 initial 0->3",
				"1.7s rescale-ended #1 initial 0->3 ckpt=0 pause=200ms",
			},
			state: Executing,
		},
		{
			name:  "three TMs joining within the window cause one rescale",
			setup: deployed(2),
			ops: []op{slots(3, TriggerJoined), adv(300 * ms), slots(4, TriggerJoined), adv(300 * ms), slots(5, TriggerJoined),
				adv(999 * ms), adv(ms), ckptDone(1, 7), stopped(1), adv(100 * ms), running(2)},
			want: []string{
				"2.6s checkpoint attempt=1",
				"2.6s rescale-started #2 taskmanager-joined 2->5",
				"2.6s Executing -> Restarting",
				"2.6s stop attempt=1",
				"2.6s Restarting -> Executing",
				"2.6s deploy attempt=2 slots=5 [map:5 source:2] restore=7",
				"2.7s rescale-ended #2 taskmanager-joined 2->5 ckpt=7 pause=100ms",
			},
			state: Executing,
		},
		{
			name:  "a slot change beyond max parallelism does not restart the window",
			setup: deployed(7),
			ops:   []op{slots(8, TriggerJoined), adv(800 * ms), slots(9, TriggerJoined), adv(200 * ms)},
			want: []string{
				"2s checkpoint attempt=1",
				"2s rescale-started #2 taskmanager-joined 7->8",
			},
			state: Executing,
		},
		{
			name:  "join then leave within the window: no rescale",
			setup: deployed(2),
			ops:   []op{slots(3, TriggerJoined), adv(500 * ms), slots(2, TriggerLeaving), adv(5 * s)},
			want:  nil,
			state: Executing,
		},
		{
			name:  "TM lost: restart at once at lower parallelism from the latest checkpoint",
			setup: deployed(3),
			ops:   []op{slots(2, TriggerLost), taskFailed(1, TriggerLost), stopped(1), adv(50 * ms), running(2)},
			want: []string{
				"1s Executing -> Restarting",
				"1s stop attempt=1",
				"1s rescale-started #2 taskmanager-lost 3->2",
				"1s Restarting -> Executing",
				"1s deploy attempt=2 slots=2 [map:2 source:2] restore=0",
				"1.05s rescale-ended #2 taskmanager-lost 3->2 ckpt=0 pause=50ms",
			},
			state: Executing,
		},
		{
			name:  "TM lost, seen first as task failures on the data plane: the restart delay is dropped",
			setup: deployed(3),
			ops:   []op{taskFailed(1, TriggerFailure), stopped(1), adv(10 * ms), slots(2, TriggerLost), adv(50 * ms), running(2)},
			want: []string{
				"1s Executing -> Restarting",
				"1s stop attempt=1",
				"1s rescale-started #2 failure 3->3",
				"1.01s Restarting -> Executing",
				"1.01s deploy attempt=2 slots=2 [map:2 source:2] restore=0",
				"1.06s rescale-ended #2 taskmanager-lost 3->2 ckpt=0 pause=60ms",
			},
			state: Executing,
		},
		{
			name:  "a restart found to be a lost TM's is not counted against the attempts",
			cfg:   withConfig(func(c *Config) { c.Restart.Attempts = 1 }),
			setup: deployed(3),
			ops: []op{taskFailed(1, TriggerFailure), stopped(1), slots(2, TriggerLost), running(2),
				taskFailed(2, TriggerFailure), stopped(2), adv(s)},
			want: []string{
				"1s Executing -> Restarting",
				"1s stop attempt=1",
				"1s rescale-started #2 failure 3->3",
				"1s Restarting -> Executing",
				"1s deploy attempt=2 slots=2 [map:2 source:2] restore=0",
				"1s rescale-ended #2 taskmanager-lost 3->2 ckpt=0 pause=0s",
				"1s Executing -> Restarting",
				"1s stop attempt=2",
				"1s rescale-started #3 failure 2->2",
				"2s Restarting -> Executing",
				"2s deploy attempt=3 slots=2 [map:2 source:2] restore=0",
			},
			state: Executing,
		},
		{
			name:  "TM lost in default mode: the restart strategy applies",
			cfg:   withConfig(func(c *Config) { c.Reactive = false; c.DefaultParallelism = 2 }),
			setup: deployed(3),
			ops:   []op{slots(2, TriggerLost), taskFailed(1, TriggerLost), stopped(1), adv(999 * ms), adv(ms)},
			want: []string{
				"1s Executing -> Restarting",
				"1s stop attempt=1",
				"1s rescale-started #2 taskmanager-lost 2->2",
				"2s Restarting -> Executing",
				"2s deploy attempt=2 slots=2 [map:2 source:2] restore=0",
			},
			state: Executing,
		},
		{
			name:  "TM lost with restart-strategy none: a resource change, not a failure",
			cfg:   withConfig(func(c *Config) { c.Restart = RestartConfig{Strategy: StrategyNone} }),
			setup: deployed(3),
			ops:   []op{slots(2, TriggerLost), taskFailed(1, TriggerLost), stopped(1)},
			want: []string{
				"1s Executing -> Restarting",
				"1s stop attempt=1",
				"1s rescale-started #2 taskmanager-lost 3->2",
				"1s Restarting -> Executing",
				"1s deploy attempt=2 slots=2 [map:2 source:2] restore=0",
			},
			state: Executing,
		},
		{
			name:  "planned scale-down: TM leaving restores the rescale checkpoint",
			setup: deployed(3),
			ops:   []op{slots(2, TriggerLeaving), adv(s), ckptDone(1, 5), stopped(1), running(2)},
			want: []string{
				"2s checkpoint attempt=1",
				"2s rescale-started #2 taskmanager-leaving 3->2",
				"2s Executing -> Restarting",
				"2s stop attempt=1",
				"2s Restarting -> Executing",
				"2s deploy attempt=2 slots=2 [map:2 source:2] restore=5",
				"2s rescale-ended #2 taskmanager-leaving 3->2 ckpt=5 pause=0s",
			},
			state: Executing,
		},
		{
			name:  "rescale checkpoint failure falls back to the latest checkpoint",
			setup: deployed(2),
			ops:   []op{slots(3, TriggerJoined), adv(s), ckptFailed(1), stopped(1), running(2)},
			want: []string{
				"2s checkpoint attempt=1",
				"2s rescale-started #2 taskmanager-joined 2->3",
				"2s Executing -> Restarting",
				"2s stop attempt=1",
				"2s Restarting -> Executing",
				"2s deploy attempt=2 slots=3 [map:3 source:2] restore=0",
				"2s rescale-ended #2 taskmanager-joined 2->3 ckpt=0 checkpoint-failed pause=0s",
			},
			state: Executing,
		},
		{
			name:  "cooldown: no rescale sooner than scaling-interval.min after the last",
			cfg:   withConfig(func(c *Config) { c.ScalingIntervalMin = 30 * s }),
			setup: deployed(2), // the initial record ends at 1s
			ops:   []op{slots(3, TriggerJoined), adv(s), adv(28 * s), adv(999 * ms), adv(ms)},
			want: []string{
				"31s checkpoint attempt=1",
				"31s rescale-started #2 taskmanager-joined 2->3",
			},
			state: Executing,
		},
		{
			name:  "restart attempts exhausted: Failed",
			cfg:   withConfig(func(c *Config) { c.Restart.Attempts = 1 }),
			setup: deployed(2),
			ops:   []op{taskFailed(1, TriggerFailure), stopped(1), adv(s), running(2), taskFailed(2, TriggerFailure)},
			want: []string{
				"1s Executing -> Restarting",
				"1s stop attempt=1",
				"1s rescale-started #2 failure 2->2",
				"2s Restarting -> Executing",
				"2s deploy attempt=2 slots=2 [map:2 source:2] restore=0",
				"2s rescale-ended #2 failure 2->2 ckpt=0 pause=1s",
				"2s Executing -> Failed",
				"2s stop attempt=2",
			},
			state: Failed,
		},
		{
			name:  "cancel",
			setup: deployed(2),
			ops:   []op{cancelEv(), stopped(1), slots(5, TriggerJoined), adv(10 * s)},
			want: []string{
				"1s Executing -> Canceling",
				"1s stop attempt=1",
				"1s Canceling -> Canceled",
			},
			state: Canceled,
		},
		{
			name:  "events of an older attempt are dropped",
			setup: append(deployed(2), taskFailed(1, TriggerFailure), stopped(1), adv(s), running(2)),
			ops: []op{taskFailed(1, TriggerFailure), stopped(1), running(1), finishedEv(1), ckptDone(1, 3),
				step(TaskFailed{Attempt: 9, Retryable: true}), adv(10 * s)},
			want:  nil,
			state: Executing,
		},
		{
			name: "default mode ignores extra slots",
			cfg:  withConfig(func(c *Config) { c.Reactive = false; c.DefaultParallelism = 2 }),
			ops:  []op{slots(4, TriggerJoined), start(), adv(s), running(1), slots(6, TriggerJoined), adv(5 * s)},
			want: []string{
				"0s Created -> WaitingForResources",
				"1s WaitingForResources -> Executing",
				"1s deploy attempt=1 slots=2 [map:2 source:2] restore=0",
				"1s rescale-started #1 initial 0->2",
				"1s rescale-ended #1 initial 0->2 ckpt=0 pause=0s",
			},
			state: Executing,
		},
		{
			name:  "default mode scales down below parallelism.default when slots are lost",
			cfg:   withConfig(func(c *Config) { c.Reactive = false; c.DefaultParallelism = 2 }),
			setup: deployed(4),
			ops:   []op{slots(1, TriggerLost), taskFailed(1, TriggerLost), stopped(1), adv(s)},
			want: []string{
				"1s Executing -> Restarting",
				"1s stop attempt=1",
				"1s rescale-started #2 taskmanager-lost 2->1",
				"2s Restarting -> Executing",
				"2s deploy attempt=2 slots=1 [map:1 source:1] restore=0",
			},
			state: Executing,
		},
		{
			name:  "no slot left while restarting: wait for resources, keep the record open",
			setup: deployed(1),
			ops: []op{slots(0, TriggerLost), taskFailed(1, TriggerLost), stopped(1), adv(5 * s),
				slots(1, TriggerJoined), adv(s), running(2)},
			want: []string{
				"1s Executing -> Restarting",
				"1s stop attempt=1",
				"1s rescale-started #2 taskmanager-lost 1->0",
				"1s Restarting -> WaitingForResources",
				"7s WaitingForResources -> Executing",
				"7s deploy attempt=2 slots=1 [map:1 source:1] restore=0",
				"7s rescale-ended #2 taskmanager-lost 1->1 ckpt=0 pause=6s",
			},
			state: Executing,
		},
		{
			name:  "failure overtakes a pending rescale checkpoint",
			setup: deployed(2),
			ops: []op{slots(3, TriggerJoined), adv(s), taskFailed(1, TriggerFailure), ckptDone(1, 9), stopped(1),
				adv(s), running(2)},
			want: []string{
				"2s checkpoint attempt=1",
				"2s rescale-started #2 taskmanager-joined 2->3",
				"2s Executing -> Restarting",
				"2s stop attempt=1",
				"3s Restarting -> Executing",
				"3s deploy attempt=2 slots=3 [map:3 source:2] restore=0",
				"3s rescale-ended #2 taskmanager-joined 2->3 ckpt=0 checkpoint-failed pause=1s",
			},
			state: Executing,
		},
		{
			name:  "rescale-on-checkpoint off stops at once",
			cfg:   withConfig(func(c *Config) { c.RescaleOnCheckpoint = false }),
			setup: deployed(2),
			ops:   []op{slots(4, TriggerJoined), adv(s), stopped(1)},
			want: []string{
				"2s Executing -> Restarting",
				"2s stop attempt=1",
				"2s rescale-started #2 taskmanager-joined 2->4",
				"2s Restarting -> Executing",
				"2s deploy attempt=2 slots=4 [map:4 source:2] restore=0",
			},
			state: Executing,
		},
		{
			name:  "manual rescale skips the stabilization timeout",
			cfg:   withConfig(func(c *Config) { c.StabilizationTimeout = time.Minute }),
			setup: []op{slots(2, TriggerJoined), start(), adv(time.Minute), running(1)},
			ops:   []op{slots(3, TriggerJoined), manual(), ckptDone(1, 4), stopped(1), adv(2 * time.Minute)},
			want: []string{
				"1m0s checkpoint attempt=1",
				"1m0s rescale-started #2 manual 2->3",
				"1m0s Executing -> Restarting",
				"1m0s stop attempt=1",
				"1m0s Restarting -> Executing",
				"1m0s deploy attempt=2 slots=3 [map:3 source:2] restore=4",
			},
			state: Executing,
		},
		{
			name:  "a rescale waits for the previous one's tasks to run",
			setup: deployed(2),
			ops: []op{slots(3, TriggerJoined), adv(s), ckptDone(1, 2), stopped(1), slots(4, TriggerJoined),
				adv(s), adv(500 * ms), running(2), adv(999 * ms), adv(ms)},
			want: []string{
				"2s checkpoint attempt=1",
				"2s rescale-started #2 taskmanager-joined 2->3",
				"2s Executing -> Restarting",
				"2s stop attempt=1",
				"2s Restarting -> Executing",
				"2s deploy attempt=2 slots=3 [map:3 source:2] restore=2",
				"3.5s rescale-ended #2 taskmanager-joined 2->3 ckpt=2 pause=1.5s",
				"4.5s checkpoint attempt=2",
				"4.5s rescale-started #3 taskmanager-joined 3->4",
			},
			state: Executing,
		},
		{
			name:  "slots back to the running parallelism while the checkpoint is taken: rescale abandoned",
			setup: deployed(2),
			ops:   []op{slots(3, TriggerJoined), adv(s), slots(2, TriggerLeaving), ckptDone(1, 3), adv(10 * s)},
			want: []string{
				"2s checkpoint attempt=1",
				"2s rescale-started #2 taskmanager-joined 2->3",
				"2s rescale-ended #2 taskmanager-joined 2->2 ckpt=0 pause=0s",
			},
			state: Executing,
		},
		{
			name:  "a leaving taskmanager replaced by a joining one: same slot count, the attempt still moves",
			setup: deployed(2),
			ops:   []op{slots(1, TriggerLeaving), slots(2, TriggerJoined), step(Displaced{Attempt: 1}), adv(s), ckptDone(1, 3), stopped(1)},
			want: []string{
				"2s checkpoint attempt=1",
				"2s rescale-started #2 taskmanager-leaving 2->2",
				"2s Executing -> Restarting",
				"2s stop attempt=1",
				"2s Restarting -> Executing",
				"2s deploy attempt=2 slots=2 [map:2 source:2] restore=3",
			},
			state: Executing,
		},
		{
			name:  "slot changes after a leave join its rescale but do not push it back",
			setup: deployed(2),
			ops: []op{slots(1, TriggerLeaving), step(Displaced{Attempt: 1}), adv(600 * ms), slots(2, TriggerJoined),
				adv(600 * ms), slots(3, TriggerJoined), adv(ms)},
			want: []string{
				// The leave's deadline (2s, seen at the 2.2s tick) holds; a
				// join at 1.6s would otherwise have pushed it to 2.6s.
				"2.2s checkpoint attempt=1",
				"2.2s rescale-started #2 taskmanager-leaving 2->2",
			},
			state: Executing,
		},
		{
			name: "exponential delay backs off",
			cfg: withConfig(func(c *Config) {
				c.Restart = RestartConfig{Strategy: StrategyExponentialDelay, Attempts: -1,
					InitialBackoff: s, MaxBackoff: 3 * s, Multiplier: 2}
			}),
			setup: deployed(1),
			ops: []op{
				taskFailed(1, TriggerFailure), stopped(1), adv(s), running(2), // 1s
				taskFailed(2, TriggerFailure), stopped(2), adv(s), adv(s), running(3), // 2s
				taskFailed(3, TriggerFailure), stopped(3), adv(2 * s), adv(s), running(4), // 3s (capped)
			},
			want: []string{
				"1s Executing -> Restarting", "1s stop attempt=1", "1s rescale-started #2 failure 1->1",
				"2s Restarting -> Executing", "2s deploy attempt=2 slots=1 [map:1 source:1] restore=0",
				"2s rescale-ended #2 failure 1->1 ckpt=0 pause=1s",
				"2s Executing -> Restarting", "2s stop attempt=2", "2s rescale-started #3 failure 1->1",
				"4s Restarting -> Executing", "4s deploy attempt=3 slots=1 [map:1 source:1] restore=0",
				"4s rescale-ended #3 failure 1->1 ckpt=0 pause=2s",
				"4s Executing -> Restarting", "4s stop attempt=3", "4s rescale-started #4 failure 1->1",
				"7s Restarting -> Executing", "7s deploy attempt=4 slots=1 [map:1 source:1] restore=0",
				"7s rescale-ended #4 failure 1->1 ckpt=0 pause=3s",
			},
			state: Executing,
		},
		{
			name:  "bounded job finishes",
			setup: deployed(2),
			ops:   []op{finishedEv(1), taskFailed(1, TriggerFailure), cancelEv(), adv(time.Hour)},
			want:  []string{"1s Executing -> Finished"},
			state: Finished,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg == (Config{}) {
				cfg = baseConfig()
			}
			h := run(newHarness(t, cfg), tt.setup...)
			h.take()
			run(h, tt.ops...)
			h.expect(tt.want...)
			h.expectState(tt.state)
		})
	}
}
