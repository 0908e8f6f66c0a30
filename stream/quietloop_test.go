package stream_test

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// Tests of the JobManager loop that wakes only at its cores'
// deadlines: with the production heartbeat interval (10s) the loop sleeps
// for seconds, and a core stepped by an event (not ticked) must not act on
// a clock that old.

// quietDyn is the production heartbeat (the loop wakes every 10s) with a
// short checkpoint timeout.
func quietDyn(extra map[string]string) map[string]string {
	d := map[string]string{
		"heartbeat.interval":              "10s",
		"heartbeat.timeout":               "50s",
		"execution.checkpointing.timeout": "1s",
	}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

// A savepoint requested a few seconds after the loop last woke must not
// time out at once: the coordinator stamps it with its last Tick.
func TestQuietLoopSavepointAfterQuietPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		vs := numbers(1_000_000)
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{Simulated: true, Job: countSumJob(vs, 200, sink), TaskManagers: 1, Dynamic: quietDyn(nil)})
		c.WaitParallelism(1, timeout)
		time.Sleep(4 * time.Second)
		c.TriggerSavepoint(timeout) // fails: "timed out after 1s: 0 of N tasks acknowledged"
	})
}

// A bounded job whose sources end a few seconds after the loop last woke
// must finish: its final checkpoint must not time out at once.
func TestQuietLoopFinalCheckpointAfterQuietPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		vs := numbers(1000)
		sink := tidetest.NewSink[string]()
		// 1000 records at 250/s: the sources end ~4s after the attempt starts.
		c := tidetest.Start(t, tidetest.Config{Simulated: true, Job: countSumJob(vs, 250, sink), TaskManagers: 1, Dynamic: quietDyn(nil)})
		c.WaitState(tidetest.Finished, 2*time.Minute)
		requireUndisturbed(t, sink, vs)
	})
}

// The resource-stabilization timeout is measured from the slot change, not
// from the loop's last wake.
func TestQuietLoopStabilizationAfterQuietPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		vs := numbers(1_000_000)
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{Simulated: true, Job: countSumJob(vs, 200, sink), TaskManagers: 1,
			Dynamic: quietDyn(map[string]string{"jobmanager.adaptive-scheduler.resource-stabilization-timeout": "6s"})})
		c.WaitParallelism(1, timeout)
		time.Sleep(7 * time.Second)
		joined := time.Now()
		c.AddTaskManager()
		c.WaitParallelism(2, timeout)
		if d := time.Since(joined); d < 6*time.Second {
			t.Errorf("rescaled %v after the TaskManager joined; resource-stabilization-timeout is 6s", d)
		}
	})
}

// The restart delay after a failure of the job's code is measured from the
// failure, not from the loop's last wake. (This one passes: the failure's
// own stepSched refreshes the scheduler's clock before the restart timer
// is set. Kept as a guard.)
func TestQuietLoopRestartDelayAfterQuietPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var failedAt atomic.Int64
		begin := time.Now()
		job := func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidetest.SliceSource("numbers", numbers(1_000_000), tidetest.Splits(numSplits), tidetest.Rate(200)))
			stream.Discard(stream.Map(src, "failsOnce", func(v int64) int64 {
				if time.Since(begin) > 5*time.Second && failedAt.CompareAndSwap(0, time.Now().UnixNano()) {
					panic("once")
				}
				return v
			}))
			return nil
		}
		c := tidetest.Start(t, tidetest.Config{Simulated: true, Job: job, TaskManagers: 1,
			Dynamic: quietDyn(map[string]string{"restart-strategy.fixed-delay.delay": "8s"})})
		c.WaitFor("attempt 2", 2*time.Minute, func() bool { return c.Job().Attempt >= 2 })
		t.Logf("failed %v after start", time.Unix(0, failedAt.Load()).Sub(begin))
		if d := time.Since(time.Unix(0, failedAt.Load())); d < 8*time.Second {
			t.Errorf("attempt 2 deployed %v after the failure; restart-strategy.fixed-delay.delay is 8s", d)
		}
	})
}
