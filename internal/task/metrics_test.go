package task_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/metrichook"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/internal/task"
)

// metricSource reports a gauge when it opens and counts its polls.
type metricSource struct {
	operator.NopHooks
	polls metrichook.Counter
}

func (s *metricSource) Open(ctx operator.Context) error {
	ctx.Metrics().Gauge("test_opened", metrichook.Label{Name: "subtask", Value: fmt.Sprint(ctx.Subtask())}).Set(1)
	s.polls = ctx.Metrics().Counter("test_polls_total")
	return nil
}

func (s *metricSource) Poll(context.Context) (operator.PollStatus, time.Duration, error) {
	s.polls.Add(1)
	return operator.Idle, time.Second, nil
}

func (s *metricSource) Position() int64 { return 0 }

// TestOperatorMetricsReachTheTaskRegistry runs a source subtask that
// reports through its context's Metrics: the task's registry holds the
// series, labeled with the operator's name.
func TestOperatorMetricsReachTheTaskRegistry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &metricSource{}
		g := &plan.Graph{MaxParallelism: 1}
		g.Add(&plan.Operator{
			Name: "src", Input: -1,
			Build:  func(any) (any, operator.Hooks, error) { return src, src, nil },
			Fanout: func([]any) any { return nil },
		})
		jg, err := plan.Compile(g)
		if err != nil {
			t.Fatal(err)
		}
		store, err := blob.Open(t.Context(), "mem://")
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		h := &ctlHarness{t: t}
		tk := task.New(task.Config{
			JobID: "metrics", Graph: jg, Vertex: 0, Subtask: 0, Attempt: 1,
			Parallelism: map[exec.VertexID]int{jg.Vertices[0].ID: 1}, DataAddrs: map[exec.VertexID][]string{},
			Storage: store, BufferSize: 1 << 10, BufferTimeout: time.Hour, Report: h,
			StateDir: func(id uint64) string { return fmt.Sprintf("metrics/chk-%d/", id) },
			Logger:   slog.New(slog.DiscardHandler),
		})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- tk.Run(ctx) }() // owner: this test, which cancels and waits below
		time.Sleep(2500 * time.Millisecond)
		synctest.Wait()
		op := metrichook.Label{Name: metrichook.LabelOperatorName, Value: "src"}
		if v, ok := tk.Metrics().Value("test_opened", op, metrichook.Label{Name: "subtask", Value: "0"}); !ok || v != 1 {
			t.Errorf("test_opened = %v, %v; want 1", v, ok)
		}
		if v, _ := tk.Metrics().Value("test_polls_total", op); v != 3 {
			t.Errorf("test_polls_total = %v after 2.5 s of polls a second apart, want 3", v)
		}
		cancel()
		if err := <-done; err != nil && err != context.Canceled {
			t.Errorf("Run: %v", err)
		}
	})
}
