package stream_test

import (
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// countSum keeps a count and a sum per key in value state and emits
// "key,count,sum" per record.
func countSum(src stream.DataStream[int64], opts ...stream.Option) stream.DataStream[string] {
	return process(src, "countSum", func() *keyedFn {
		var count, sum *stream.ValueState[int64, int64]
		return &keyedFn{
			open: func(rt *stream.KeyedRuntime[int64]) (err error) {
				if count, err = stream.Value[int64](rt, "count"); err != nil {
					return err
				}
				sum, err = stream.Value[int64](rt, "sum")
				return err
			},
			process: func(k, v int64, out stream.Collector[string]) error {
				n, s := count.Value()+1, sum.Value()+v
				count.Update(n)
				sum.Update(s)
				out.Emit(fmt.Sprintf("%d,%d,%d", k, n, s))
				return nil
			},
		}
	}, opts...)
}

func countSumWant(vs []int64) []string {
	counts, sums := map[int64]int64{}, map[int64]int64{}
	return perKey(vs, func(k, v int64) []string {
		counts[k]++
		sums[k] += v
		return []string{fmt.Sprintf("%d,%d,%d", k, counts[k], sums[k])}
	})
}

// countSumJob returns a job of count-and-sum over vs at rate records/s into
// sink, and the check that the sink holds an undisturbed run's output.
func countSumJob(vs []int64, rate float64, sink *tidetest.Sink[string]) stream.JobFunc {
	return func(env *stream.Env, _ []string) error {
		src := stream.FromSource(env, tidetest.SliceSource("numbers", vs, tidetest.Splits(numSplits), tidetest.Rate(rate)))
		sink.To(countSum(src), "collect")
		return nil
	}
}

// requireUndisturbed fails unless sink holds exactly what an undisturbed
// count-and-sum over vs outputs.
func requireUndisturbed(t *testing.T, sink *tidetest.Sink[string], vs []int64) {
	t.Helper()
	got, want := sink.Values(), countSumWant(vs)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("output differs from an undisturbed run: got %d records, want %d\n%s", len(got), len(want), diff(got, want))
	}
}

// The tests of this file run on a simulated cluster in a synctest bubble
// (virtual time, in-memory network and store): their timing is the
// scheduler's, not the machine's. TestMetamorphic and the TestSim
// scenarios cover the same ground with seeded disturbances; these keep
// their specific expectations (which rescales happen, with what trigger).

// TestKeyedStateSurvivesRescale runs a keyed count-and-sum at parallelism
// 1, rescales it to 3 (two TaskManagers join) and back to 2 (one leaves),
// and requires the output of an undisturbed run: every key's count and sum
// continue from where they were, with nothing lost or counted twice.
func TestKeyedStateSurvivesRescale(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		vs := numbers(6000)
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Simulated:          true,
			Job:                countSumJob(vs, 2000, sink),
			TaskManagers:       1,
			CheckpointInterval: 100 * time.Millisecond,
		})
		c.WaitParallelism(1, timeout)
		c.WaitCheckpoints(1, timeout)
		c.AddTaskManager()
		c.AddTaskManager()
		c.WaitParallelism(3, timeout)
		c.WaitCheckpoints(c.Checkpoints().Counts.Completed+1, timeout)
		leaving := c.TaskManagers()[0]
		leaving.Leave()
		c.WaitParallelism(2, timeout)
		leaving.Wait(timeout)
		if err := leaving.Err(); err != nil {
			t.Errorf("leaving taskmanager exited with %v", err)
		}
		if n := sink.Len(); n >= len(vs) {
			t.Fatalf("the job committed all %d records before the last rescale; slow the source down", n)
		}
		c.WaitState(tidetest.Finished, timeout)

		var leave bool
		for _, r := range c.Rescales() {
			if r.Status != rest.RescaleCompleted {
				t.Errorf("rescale %+v did not complete", r)
			}
			if r.Trigger == rest.TriggerTaskManagerLeaving && r.From == 3 && r.To == 2 {
				leave = true
			}
		}
		if !leave {
			t.Errorf("no rescale 3 -> 2 on taskmanager-leaving: %+v", c.Rescales())
		}
		requireUndisturbed(t, sink, vs)
	})
}

// TestSlotsPerTaskManager runs the keyed job on one TaskManager with three
// slots: the job uses all three, and subtasks exchange records locally.
func TestSlotsPerTaskManager(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		vs := numbers(3000)
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Simulated: true,
			Job: func(env *stream.Env, _ []string) error {
				src := stream.FromSource(env, tidetest.SliceSource("numbers", vs, tidetest.Splits(numSplits), tidetest.Rate(sourceRate)))
				sink.To(countSum(src.Rebalance()), "collect")
				return nil
			},
			TaskManagers: 1,
			Slots:        3,
		})
		c.WaitState(tidetest.Finished, timeout)
		if p := c.Parallelism(); p != 3 {
			t.Errorf("ran at parallelism %d, want 3", p)
		}
		if n := sink.Len(); n != len(vs) {
			t.Fatalf("committed %d records, want %d", n, len(vs))
		}
	})
}

// TestTaskManagersLeavingTogetherRescaleOnce has two of three TaskManagers
// leave at the same moment: the stabilization window makes that one
// rescale, 3 -> 1, planned (taskmanager-leaving), with nothing reprocessed,
// and the output is still exact.
func TestTaskManagersLeavingTogetherRescaleOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		vs := numbers(6000)
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Simulated:          true,
			Job:                countSumJob(vs, 2000, sink),
			TaskManagers:       3,
			CheckpointInterval: 100 * time.Millisecond,
			Dynamic:            map[string]string{"jobmanager.adaptive-scheduler.resource-stabilization-timeout": "300ms"},
		})
		c.WaitParallelism(3, timeout)
		c.WaitCheckpoints(1, timeout)
		before := len(c.Rescales())
		tms := c.TaskManagers()
		tms[1].Leave()
		tms[2].Leave()
		c.WaitParallelism(1, timeout)
		tms[1].Wait(timeout)
		tms[2].Wait(timeout)
		c.WaitState(tidetest.Finished, timeout)
		rs := c.Rescales()[before:]
		if len(rs) != 1 || rs[0].Trigger != "taskmanager-leaving" || rs[0].From != 3 || rs[0].To != 1 || rs[0].ReprocessedRecords != 0 {
			t.Fatalf("want one planned rescale 3 -> 1 with nothing reprocessed, got %+v", rs)
		}
		requireUndisturbed(t, sink, vs)
	})
}

// TestDefaultModeIgnoresExtraSlots runs with scheduler-mode default: the
// job keeps parallelism.default whatever slots join.
func TestDefaultModeIgnoresExtraSlots(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		vs := numbers(3000)
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Simulated:    true,
			Job:          countSumJob(vs, 3000, sink),
			TaskManagers: 3,
			Dynamic:      map[string]string{"scheduler-mode": "default", "parallelism.default": "2"},
		})
		c.WaitParallelism(2, timeout)
		c.AddTaskManager()
		c.WaitTaskManagers(4, timeout)
		c.WaitState(tidetest.Finished, timeout)
		if p := c.Parallelism(); p != 2 {
			t.Fatalf("parallelism %d in default mode, want parallelism.default = 2", p)
		}
		if rs := c.Rescales(); len(rs) != 0 {
			t.Fatalf("default mode rescaled: %+v", rs)
		}
		if got := sink.Len(); got != len(vs) {
			t.Fatalf("%d lines, want %d", got, len(vs))
		}
	})
}

// TestLeavingTaskManagerReplacedAtOnce has a TaskManager leave just as
// another joins: the slot count does not change, but the job must still
// move off the leaving one (a planned rescale 2 -> 2), so that it is
// released long before its decommission timeout.
func TestLeavingTaskManagerReplacedAtOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		vs := numbers(8000)
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Simulated:          true,
			Job:                countSumJob(vs, 2000, sink),
			TaskManagers:       2,
			CheckpointInterval: 100 * time.Millisecond,
			Dynamic:            map[string]string{"taskmanager.decommission.timeout": "60s"},
		})
		c.WaitParallelism(2, timeout)
		c.WaitCheckpoints(1, timeout)
		before := len(c.Rescales())
		leaving := c.TaskManagers()[0]
		c.AddTaskManager()
		leaving.Leave()
		leaving.Wait(timeout) // well before the 60 s decommission timeout
		if err := leaving.Err(); err != nil {
			t.Fatalf("leaving taskmanager: %v", err)
		}
		c.WaitState(tidetest.Finished, timeout)
		var planned bool
		for _, r := range c.Rescales()[before:] {
			if r.Trigger == "taskmanager-leaving" && r.Status == "COMPLETED" && r.ReprocessedRecords == 0 {
				planned = true
			}
		}
		if !planned {
			t.Fatalf("no planned rescale moved the job off the leaving taskmanager: %+v", c.Rescales()[before:])
		}
		requireUndisturbed(t, sink, vs)
	})
}
