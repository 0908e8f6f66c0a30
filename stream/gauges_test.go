package stream_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/tidetest"
)

// TestTaskGauges runs an event-time keyed job and reads its TaskManager's
// per-subtask gauges as a scrape would: the source's output credits, the
// keyed subtask's input queue capacity, the keyed state of its last
// checkpoint, and both subtasks' watermarks, which advance.
func TestTaskGauges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		evs := disordered(20000, 16, 1, 100, 7)
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Job:          windowJob(evs, 100*time.Millisecond, 4000, sink),
			TaskManagers: 1, CheckpointInterval: 100 * time.Millisecond,
			Dynamic:   map[string]string{"pipeline.auto-watermark-interval": "10ms"},
			Simulated: true,
		})
		c.WaitCheckpoints(2, timeout)
		tm := c.TaskManagers()[0]
		src := map[string]string{"task_name": "events"}
		keyed := map[string]string{"task_name": "window-count -> collect"}
		if v, ok := tm.Metric("tide_task_output_credits", src); !ok || v < 0 {
			t.Errorf("source output credits %v (exported %v)", v, ok)
		}
		if v, ok := tm.Metric("tide_task_input_queue_capacity", keyed); !ok || v <= 0 {
			t.Errorf("keyed input queue capacity %v (exported %v)", v, ok)
		}
		if _, ok := tm.Metric("tide_task_input_queue_length", keyed); !ok {
			t.Error("no keyed input queue length")
		}
		if v, ok := tm.Metric("tide_task_state_size_bytes", keyed); !ok || v <= 0 {
			t.Errorf("keyed state size %v (exported %v) after two checkpoints", v, ok)
		}
		w1, ok1 := tm.Metric("tide_task_watermark_milliseconds", keyed)
		time.Sleep(500 * time.Millisecond)
		w2, ok2 := tm.Metric("tide_task_watermark_milliseconds", keyed)
		if !ok1 || !ok2 || w2 <= w1 {
			t.Errorf("keyed watermark %v then %v (exported %v %v), want it to advance", w1, w2, ok1, ok2)
		}
		if _, ok := tm.Metric("tide_task_watermark_milliseconds", src); !ok {
			t.Error("no source watermark")
		}
		c.WaitState(tidetest.Finished, timeout)
	})
}
