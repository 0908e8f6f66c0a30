package stream_test

import (
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// reminder registers, at a key's first record, a timer delay later; the
// timer emits "key:fired:count" with the count of records seen by then.
type reminder struct {
	delay time.Duration
	rt    *stream.KeyedRuntime[int64]
	count *stream.ValueState[int64, int64]
}

func (r *reminder) Open(rt *stream.KeyedRuntime[int64]) (err error) {
	r.rt = rt
	r.count, err = stream.Value[int64](rt, "count")
	return err
}

func (r *reminder) Process(k, v int64, out stream.Collector[string]) error {
	n := r.count.Value()
	if n == 0 {
		r.rt.RegisterTimer(r.rt.Now().Add(r.delay))
	}
	r.count.Update(n + 1)
	return nil
}

func (r *reminder) OnTimer(k int64, _ stream.Timer, out stream.Collector[string]) error {
	out.Emit(fmt.Sprintf("%d:fired", k))
	return nil
}

// TestTimersFireOnceAndMoveWithTheirKeys registers one processing-time
// timer per key, due after a rescale 1 -> 2: every key's timer fires
// exactly once, on whichever subtask owns the key by then.
func TestTimersFireOnceAndMoveWithTheirKeys(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		vs := numbers(8000)
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Simulated: true,
			Job: func(env *stream.Env, _ []string) error {
				src := stream.FromSource(env, tidetest.SliceSource("numbers", vs, tidetest.Splits(numSplits), tidetest.Rate(4000)))
				fired := stream.Process(stream.KeyBy(src, key), "reminder", func() stream.ProcessFunction[int64, int64, string] {
					return &reminder{delay: 1200 * time.Millisecond}
				})
				sink.To(fired, "collect")
				return nil
			},
			TaskManagers:       1,
			CheckpointInterval: 100 * time.Millisecond,
		})
		c.WaitParallelism(1, timeout)
		c.WaitCheckpoints(1, timeout)
		c.AddTaskManager()
		c.WaitParallelism(2, timeout)
		c.WaitState(tidetest.Finished, timeout)
		if n := len(c.Rescales()); n == 0 {
			t.Fatal("no rescale happened")
		}
		got := sink.Values()
		slices.Sort(got)
		var want []string
		for k := range int64(numKeys) {
			want = append(want, fmt.Sprintf("%d:fired", k))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("timers fired %v, want each key once: %v", got, want)
		}
	})
}

// farFuture registers a timer in the year 3000, past what Unix nanoseconds
// hold: it must wait, not fire at once.
type farFuture struct{ reminder }

func (f *farFuture) Process(k, v int64, out stream.Collector[string]) error {
	if n := f.count.Value(); n == 0 {
		f.rt.RegisterTimer(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	f.count.Update(f.count.Value() + 1)
	return nil
}

func TestTimerBeyondUnixNanosWaits(t *testing.T) {
	t.Parallel()
	sink := tidetest.NewSink[string]()
	c := tidetest.Start(t, tidetest.Config{
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidetest.SliceSource("numbers", numbers(400), tidetest.Splits(numSplits), tidetest.Rate(2000)))
			sink.To(stream.Process(stream.KeyBy(src, key), "far", func() stream.ProcessFunction[int64, int64, string] {
				return &farFuture{}
			}), "collect")
			return nil
		},
		TaskManagers: 1,
	})
	c.WaitState(tidetest.Finished, timeout)
	if got := sink.Values(); len(got) != 0 {
		t.Fatalf("timers in the year 3000 fired: %v", got)
	}
}

// idleAlert resets its key's inactivity timeout on every record (deletes
// the key's timer, registers a new one) and emits "key:idle" once a key
// has had no record for the timeout.
type idleAlert struct {
	timeout time.Duration
	rt      *stream.KeyedRuntime[int64]
	due     *stream.ValueState[int64, int64]
}

func (f *idleAlert) Open(rt *stream.KeyedRuntime[int64]) (err error) {
	f.rt = rt
	f.due, err = stream.Value[int64](rt, "due")
	return err
}

func (f *idleAlert) Process(k, v int64, out stream.Collector[string]) error {
	if at, ok := f.due.Get(); ok {
		f.rt.DeleteTimer(time.Unix(0, at))
	}
	at := f.rt.Now().Add(f.timeout)
	f.rt.RegisterTimer(at)
	f.due.Update(at.UnixNano())
	return nil
}

func (f *idleAlert) OnTimer(k int64, _ stream.Timer, out stream.Collector[string]) error {
	f.due.Clear()
	out.Emit(fmt.Sprintf("%d:idle", k))
	return nil
}

// TestInactivityTimeoutsAcrossARescale resets per-key inactivity timeouts
// on every record while the job rescales 1 -> 2. Keys 0-3 go quiet after
// the first quarter of the input: each of them fires exactly once, on
// whichever subtask owns it by then, though its timer was deleted and
// registered again on every record before, then checkpointed and moved.
// Keys 4-7 get records until the end; a stall longer than the timeout may
// fire theirs, which the test does not count.
func TestInactivityTimeoutsAcrossARescale(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const n = 8000
		quietKey := func(v int64) int64 {
			if v < n/4 {
				return v % numKeys
			}
			return numKeys/2 + v%(numKeys/2)
		}
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Simulated: true,
			Job: func(env *stream.Env, _ []string) error {
				src := stream.FromSource(env, tidetest.SliceSource("numbers", numbers(n), tidetest.Splits(numSplits), tidetest.Rate(2000)))
				idle := stream.Process(stream.KeyBy(src, quietKey), "idle", func() stream.ProcessFunction[int64, int64, string] {
					return &idleAlert{timeout: 1500 * time.Millisecond}
				})
				sink.To(idle, "collect")
				return nil
			},
			TaskManagers:       1,
			CheckpointInterval: 100 * time.Millisecond,
		})
		c.WaitParallelism(1, timeout)
		c.WaitCheckpoints(1, timeout)
		c.AddTaskManager()
		c.WaitParallelism(2, timeout)
		c.WaitState(tidetest.Finished, timeout)
		if len(c.Rescales()) == 0 {
			t.Fatal("no rescale happened")
		}
		var got []string
		for _, s := range sink.Values() {
			if k := s[0] - '0'; k < numKeys/2 {
				got = append(got, s)
			}
		}
		slices.Sort(got)
		if want := []string{"0:idle", "1:idle", "2:idle", "3:idle"}; !slices.Equal(got, want) {
			t.Fatalf("the quiet keys fired %v, want each once: %v (all output: %v)", got, want, sink.Values())
		}
	})
}

// noOnTimer registers a timer but does not implement stream.TimerFunction.
type noOnTimer struct{ rt *stream.KeyedRuntime[int64] }

func (f *noOnTimer) Open(rt *stream.KeyedRuntime[int64]) error { f.rt = rt; return nil }
func (f *noOnTimer) Process(k, v int64, out stream.Collector[string]) error {
	f.rt.RegisterTimer(f.rt.Now().Add(time.Second))
	return nil
}

// TestRegisterTimerWithoutOnTimerFailsTheJob: the first RegisterTimer of a
// function without OnTimer fails the job for good (no restart could mend
// it), with the default restart strategy.
func TestRegisterTimerWithoutOnTimerFailsTheJob(t *testing.T) {
	t.Parallel()
	c := tidetest.Start(t, tidetest.Config{
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidetest.SliceSource("numbers", numbers(400), tidetest.Splits(numSplits), tidetest.Rate(sourceRate)))
			stream.Discard(stream.Process(stream.KeyBy(src, key), "no-on-timer", func() stream.ProcessFunction[int64, int64, string] {
				return &noOnTimer{}
			}))
			return nil
		},
		TaskManagers: 1,
	})
	c.WaitState(tidetest.Failed, timeout)
	if rs := c.Rescales(); len(rs) != 0 {
		t.Fatalf("the job restarted: %+v; the failure is permanent", rs)
	}
}
