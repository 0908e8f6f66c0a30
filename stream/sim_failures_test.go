package stream_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// Failures in the simulation: how the typed failure causes of issue 12
// reach the scheduler, on virtual time, so that restart delays of minutes
// cost nothing and durations can be asserted exactly.

// TestSimPoisonRecordIsBoundedByFailureRate: a record that fails the job's
// code every time it is read restarts the job until Flink's failure-rate
// strategy says enough: FAILED, after exactly the failures it allows, each
// restart after the strategy's delay, with the cause in the exception
// history.
func TestSimPoisonRecordIsBoundedByFailureRate(t *testing.T) {
	simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
		start := time.Now()
		c := tidetest.Start(t, tidetest.Config{
			Job:          poisonedJob("poisoned"),
			TaskManagers: 1,
			Dynamic: map[string]string{"restart-strategy": "failure-rate", "restart-strategy.failure-rate.max-failures-per-interval": "2",
				"restart-strategy.failure-rate.failure-rate-interval": "10min", "restart-strategy.failure-rate.delay": "1min"},
			Simulated: true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
		})
		c.WaitState(tidetest.Failed, 10*time.Minute)
		if took := time.Since(start); took < 2*time.Minute || took > 3*time.Minute {
			t.Errorf("FAILED after %v of virtual time, want two restart delays of 1min and little more", took)
		}
		if n := len(c.Rescales()); n != 2 {
			t.Fatalf("%d restarts before FAILED, want 2: %+v", n, c.Rescales())
		}
		// GET /jobs/:jobid/exceptions has the cause, once per attempt.
		ex, err := c.Backend().Exceptions(c.JobID())
		if err != nil {
			t.Fatal(err)
		}
		if ex.RootException == nil || !strings.Contains(*ex.RootException, "panic: poison") {
			t.Fatalf("root exception %v, want the panic", ex.RootException)
		}
		h := ex.ExceptionHistory.Entries
		if len(h) != 3 {
			t.Fatalf("%d entries in the exception history, want 3 (one per attempt): %+v", len(h), h)
		}
		for _, e := range h {
			if e.ExceptionName != "UserCodeFailure" || e.FailureLabels["domain"] != "user" || e.TaskName == nil ||
				!strings.Contains(*e.TaskName, "poisoned") || e.TaskManagerID == nil {
				t.Fatalf("exception entry %+v", e)
			}
		}
		if len(ex.AllExceptions) == 0 || !strings.Contains(ex.AllExceptions[0].Task, "poisoned") {
			t.Fatalf("all-exceptions %+v", ex.AllExceptions)
		}
	})
}

// stuckSink cannot take a checkpoint: every PreCommit fails.
type stuckSink struct{}

func (stuckSink) Open(context.Context, stream.SinkContext, [][]byte) error { return nil }
func (stuckSink) Write(context.Context, int64) error                       { return nil }
func (stuckSink) PreCommit(context.Context, uint64) ([][]byte, error) {
	return nil, errors.New("the sink's storage refuses every flush")
}
func (stuckSink) Commit(context.Context, uint64) error { return nil }
func (stuckSink) Close() error                         { return nil }

// TestSimFinalCheckpointThatNeverSucceedsFailsTheJob: a bounded job whose
// final checkpoint fails every time cannot finish; rather than restart for
// ever (the restart strategy allows that here), it fails, saying why.
func TestSimFinalCheckpointThatNeverSucceedsFailsTheJob(t *testing.T) {
	simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
		c := tidetest.Start(t, tidetest.Config{
			Job: func(env *stream.Env, _ []string) error {
				src := stream.FromSource(env, tidetest.SliceSource("numbers", numbers(100), tidetest.Splits(numSplits)))
				stream.SinkTo(src, "stuck", func() stream.SinkWriter[int64] { return stuckSink{} })
				return nil
			},
			TaskManagers: 1,
			Dynamic:      map[string]string{"restart-strategy.fixed-delay.delay": "10s"},
			Simulated:    true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
		})
		c.WaitState(tidetest.Failed, 10*time.Minute)
		ex, err := c.Backend().Exceptions(c.JobID())
		if err != nil {
			t.Fatal(err)
		}
		if ex.RootException == nil || !strings.Contains(*ex.RootException, "the final checkpoint failed 3 times in a row") ||
			!strings.Contains(*ex.RootException, "refuses every flush") {
			t.Fatalf("root exception %v, want the final checkpoint's failures and their cause", ex.RootException)
		}
	})
}

// TestSimLostTaskManagerIsAResourceChange (issue 12, item 5): in reactive
// mode a TaskManager that dies with slots left over is a change of
// resources, not a failure of the job's code: the job runs again on what is
// left at once, without the restart strategy's delay (a minute here) and
// without using up its attempts (one here). A failure of the job's own code
// in the same cluster then does wait the delay.
func TestSimLostTaskManagerIsAResourceChange(t *testing.T) {
	simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
		var poison atomic.Bool
		vs := numbers(12000)
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Job:                poisonableCountSum(vs, 2000, sink, &poison),
			TaskManagers:       3,
			CheckpointInterval: 100 * time.Millisecond,
			Dynamic: map[string]string{"restart-strategy": "fixed-delay", "restart-strategy.fixed-delay.attempts": "1",
				"restart-strategy.fixed-delay.delay": "1min"},
			Simulated: true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
		})
		c.WaitParallelism(3, timeout)
		c.WaitCheckpoints(1, timeout)
		pause(r)
		requireUnfinished(t, sink, vs)
		crashed := time.Now()
		c.TaskManagers()[r.IntN(3)].Crash()
		// The rescale record ends when every task of the new attempt runs.
		c.WaitFor("the completed taskmanager-lost rescale", timeout, func() bool {
			for _, rs := range c.Rescales() {
				if rs.Trigger == rest.TriggerTaskManagerLost && rs.Status == rest.RescaleCompleted {
					return true
				}
			}
			return false
		})
		if took := time.Since(crashed); took > time.Second {
			t.Fatalf("running again %v (virtual) after the crash: the restart waited for the restart strategy's delay", took)
		}
		if p := c.Job().Vertices[0].Parallelism; p != 2 {
			t.Fatalf("parallelism %d after the crash, want 2", p)
		}

		// The job's own failure waits the delay, and uses the one attempt.
		poison.Store(true)
		failed := time.Now()
		c.WaitFor("the restart after the job's own failure", 5*time.Minute, func() bool {
			n := 0
			for _, rs := range c.Rescales() {
				if rs.Trigger == rest.TriggerFailure {
					n++
				}
			}
			return n > 0
		})
		poison.Store(false)
		c.WaitState(tidetest.Finished, 5*time.Minute)
		if took := time.Since(failed); took < time.Minute {
			t.Errorf("finished %v after the job's own failure: the restart did not wait the strategy's delay of 1min", took)
		}
		requireUndisturbed(t, sink, vs)
	})
}

// poisonableCountSum is countSumJob with a Map in front of the count that
// panics on every record while poison is set.
func poisonableCountSum(vs []int64, rate float64, sink *tidetest.Sink[string], poison *atomic.Bool) stream.JobFunc {
	return func(env *stream.Env, _ []string) error {
		src := stream.FromSource(env, tidetest.SliceSource("numbers", vs, tidetest.Splits(numSplits), tidetest.Rate(rate)))
		checked := stream.Map(src, "poisonable", func(v int64) int64 {
			if poison.Load() {
				panic("poison")
			}
			return v
		})
		sink.To(countSum(checked), "collect")
		return nil
	}
}
