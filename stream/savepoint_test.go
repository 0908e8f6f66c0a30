package stream_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// TestFailedStopWithSavepointResumesSources has a stop-with-savepoint time
// out (a slow keyed function keeps the barrier behind a backlog): the job
// must go on as before, so the sources halted at the savepoint's barrier
// resume and the bounded job finishes with all its records.
func TestFailedStopWithSavepointResumesSources(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		vs := numbers(6000)
		var slow atomic.Bool
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Simulated: true,
			Job: func(env *stream.Env, _ []string) error {
				src := stream.FromSource(env, tidetest.SliceSource("numbers", vs, tidetest.Splits(numSplits), tidetest.Rate(2000)))
				out := process(src, "slow", func() *keyedFn {
					return &keyedFn{
						open: func(*stream.KeyedRuntime[int64]) error { return nil },
						process: func(k, v int64, out stream.Collector[string]) error {
							if slow.Load() {
								time.Sleep(20 * time.Millisecond)
							}
							out.Emit(itoa(v))
							return nil
						},
					}
				})
				sink.To(out, "collect")
				return nil
			},
			TaskManagers: 1,
			Dynamic:      map[string]string{"execution.checkpointing.timeout": "300ms"},
		})
		c.WaitParallelism(1, timeout)
		time.Sleep(300 * time.Millisecond)
		slow.Store(true)
		time.Sleep(200 * time.Millisecond)
		b := c.Backend()
		id, err := b.StopWithSavepoint(context.Background(), c.JobID(), rest.SavepointRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var st rest.SavepointStatus
		c.WaitFor("the savepoint to end", timeout, func() bool {
			st, _ = b.Savepoint(c.JobID(), id)
			return st.State != rest.SavepointInProgress
		})
		slow.Store(false)
		if st.State != rest.SavepointFailed {
			t.Fatalf("savepoint %+v: the test needs it to time out behind the backlog", st)
		}
		c.WaitState(tidetest.Finished, timeout)
		if n := sink.Len(); n != len(vs) {
			t.Errorf("committed %d of %d records", n, len(vs))
		}
	})
}
