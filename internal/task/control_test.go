package task_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/task"
)

// ctlSource is a source whose first Poll blocks until busy is closed (the
// subtask is busy and reads no control meanwhile); later polls are idle for
// a millisecond. It records the checkpoint hooks it gets.
type ctlSource struct {
	operator.NopHooks
	busy  chan struct{}
	polls atomic.Int64

	mu        sync.Mutex
	snapshots []uint64
	completes []uint64
	// events are the snapshots and added splits in order: "snap N",
	// "split E", "no more".
	events []string
}

func (s *ctlSource) AddSplits(entries [][]byte, noMore bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		s.events = append(s.events, "split "+string(e))
	}
	if noMore {
		s.events = append(s.events, "no more")
	}
	return nil
}

func (s *ctlSource) Poll(context.Context) (operator.PollStatus, time.Duration, error) {
	if s.polls.Add(1) == 1 {
		<-s.busy
	}
	return operator.Idle, time.Millisecond, nil
}

func (s *ctlSource) Position() int64 { return 0 }

// PendingRecords makes ctlSource an operator.PendingSource.
func (s *ctlSource) PendingRecords() int64 { return 42 + s.polls.Load() }

func (s *ctlSource) Snapshot(id uint64) ([][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snapshots = append(s.snapshots, id)
	s.events = append(s.events, fmt.Sprint("snap ", id))
	return nil, nil
}

func (s *ctlSource) CheckpointComplete(_ context.Context, id uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.completes = append(s.completes, id)
	return nil
}

func (s *ctlSource) hooks() (snapshots, completes []uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.snapshots), slices.Clone(s.completes)
}

// ctlHarness runs one source subtask (a chain of just ctlSource, no
// channels) and records what it reports.
type ctlHarness struct {
	t      *testing.T
	src    *ctlSource
	task   *task.Task
	cancel context.CancelFunc
	done   chan error

	mu      sync.Mutex
	acks    []uint64
	decline []uint64
}

// startCtl starts the subtask inside the caller's synctest bubble and waits
// until it is busy in its first Poll.
func startCtl(t *testing.T) *ctlHarness {
	src := &ctlSource{busy: make(chan struct{})}
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
	t.Cleanup(func() { _ = store.Close() })
	h := &ctlHarness{t: t, src: src, done: make(chan error, 1)}
	h.task = task.New(task.Config{
		JobID: "ctl", Graph: jg, Vertex: 0, Subtask: 0, Attempt: 1,
		Parallelism: map[exec.VertexID]int{jg.Vertices[0].ID: 1}, DataAddrs: map[exec.VertexID][]string{},
		Storage: store, BufferSize: 1 << 10, BufferTimeout: time.Hour,
		Report:   h,
		StateDir: func(id uint64) string { return fmt.Sprintf("ctl/chk-%d/", id) },
		Logger:   slog.New(slog.DiscardHandler),
	})
	ctx, cancel := context.WithCancel(t.Context())
	h.cancel = cancel
	go func() { h.done <- h.task.Run(ctx) }() // owner: stop, which the test calls
	synctest.Wait()
	if n := src.polls.Load(); n != 1 {
		t.Fatalf("%d polls before the test released the source, want 1 (busy)", n)
	}
	return h
}

// Status, Ack and Decline implement task.Reporter.
func (h *ctlHarness) Status(*rpc.TaskStatus) {}

func (h *ctlHarness) Ack(_ exec.Attempt, _ exec.TaskKey, id checkpoint.ID, _ []checkpoint.OperatorSnapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.acks = append(h.acks, uint64(id))
}

func (h *ctlHarness) Decline(_ exec.Attempt, _ exec.TaskKey, id checkpoint.ID, _ string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.decline = append(h.decline, uint64(id))
}

func (h *ctlHarness) reports() (acks, declines []uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.acks), slices.Clone(h.decline)
}

// release ends the busy first Poll and lets the subtask run until it blocks.
func (h *ctlHarness) release() {
	close(h.src.busy)
	synctest.Wait()
}

// polling reports whether the source polls during a second (of the
// bubble's clock): false when it is halted.
func (h *ctlHarness) polling() bool {
	before := h.src.polls.Load()
	time.Sleep(time.Second)
	synctest.Wait()
	return h.src.polls.Load() > before
}

func (h *ctlHarness) stop() {
	h.cancel()
	if err := <-h.done; err != nil && err != context.Canceled {
		h.t.Errorf("Run: %v", err)
	}
}

// TestResumeAfterFlood: a source busy in Poll gets more control than the
// old mailbox of 16 held: twenty halting triggers, then Resume. It must
// inject the newest trigger, decline the one it superseded, and run on.
func TestResumeAfterFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startCtl(t)
		defer h.stop()
		for id := uint64(1); id <= 20; id++ {
			h.task.TriggerCheckpoint(id, false, true)
		}
		h.task.Resume()
		h.release()
		if !h.polling() {
			t.Errorf("source does not poll after Resume: still halted")
		}
		snaps, _ := h.src.hooks()
		acks, declines := h.reports()
		if len(snaps) == 0 || snaps[len(snaps)-1] != 20 {
			t.Errorf("snapshots %v, want the newest trigger (20) injected last", snaps)
		}
		if !slices.Contains(acks, 20) {
			t.Errorf("acknowledged %v, want 20 among them", acks)
		}
		if !slices.Contains(declines, 19) {
			t.Errorf("declined %v, want the superseded trigger 19 declined", declines)
		}
	})
}

// TestHaltedSourceResumesAfterFlood: a source halted at a barrier, then
// busy again (its Resume arrives with many other commands) still resumes.
func TestHaltedSourceResumesAfterFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startCtl(t)
		defer h.stop()
		h.task.TriggerCheckpoint(1, false, true)
		h.release()
		if h.polling() {
			t.Fatalf("source polls after a halting barrier")
		}
		// Halted: it serves control at once, so a flood is interleaved with
		// its own serving; the Resume must still land.
		for id := uint64(2); id <= 40; id++ {
			h.task.TriggerCheckpoint(id, false, true)
			h.task.CheckpointComplete(id - 1)
		}
		h.task.Resume()
		synctest.Wait()
		if !h.polling() {
			t.Errorf("source does not poll after Resume: still halted")
		}
	})
}

// TestCompleteAfterFlood: many completion notices while the subtask is busy
// reach the operators as the newest one.
func TestCompleteAfterFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startCtl(t)
		defer h.stop()
		for id := uint64(1); id <= 40; id++ {
			h.task.TriggerCheckpoint(id, false, false)
			h.task.CheckpointComplete(id)
		}
		h.release()
		_, completes := h.src.hooks()
		if len(completes) == 0 || completes[len(completes)-1] != 40 {
			t.Errorf("CheckpointComplete hooks %v, want the newest (40) last", completes)
		}
		if !h.polling() {
			t.Errorf("source does not poll")
		}
	})
}

// TestResumeOrder: a Resume applies to the halts triggered before it, not
// to a halting trigger that came after it.
func TestResumeOrder(t *testing.T) {
	for _, tc := range []struct {
		name        string
		send        func(*task.Task)
		wantPolling bool
	}{
		{"resume then halt", func(tk *task.Task) { tk.Resume(); tk.TriggerCheckpoint(1, false, true) }, false},
		{"halt then resume", func(tk *task.Task) { tk.TriggerCheckpoint(1, false, true); tk.Resume() }, true},
		{"halt, resume, newer halt", func(tk *task.Task) {
			tk.TriggerCheckpoint(1, false, true)
			tk.Resume()
			tk.TriggerCheckpoint(2, false, true)
		}, false},
		{"halt, resume, newer trigger, resume", func(tk *task.Task) {
			tk.TriggerCheckpoint(1, false, true)
			tk.Resume()
			tk.TriggerCheckpoint(2, false, true)
			tk.Resume()
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := startCtl(t)
				defer h.stop()
				tc.send(h.task)
				h.release()
				if got := h.polling(); got != tc.wantPolling {
					t.Errorf("polling = %v, want %v", got, tc.wantPolling)
				}
			})
		})
	}
}

// TestSplitsOrder: splits handed to a busy source are taken up before or
// after the pending barrier as they came, so that a checkpoint holds a
// split exactly when it was handed out before the checkpoint's trigger.
func TestSplitsOrder(t *testing.T) {
	split := func(tk *task.Task, e string) { tk.AddSplits([][]byte{[]byte(e)}, false) }
	for _, tc := range []struct {
		name string
		send func(*task.Task)
		want []string
	}{
		{"split then trigger", func(tk *task.Task) { split(tk, "a"); tk.TriggerCheckpoint(1, false, false) },
			[]string{"split a", "snap 1"}},
		{"trigger then split", func(tk *task.Task) { tk.TriggerCheckpoint(1, false, false); split(tk, "a") },
			[]string{"snap 1", "split a"}},
		{"around a trigger", func(tk *task.Task) {
			split(tk, "a")
			tk.TriggerCheckpoint(1, false, false)
			split(tk, "b")
			tk.AddSplits(nil, true)
		}, []string{"split a", "snap 1", "split b", "no more"}},
		{"a superseded trigger", func(tk *task.Task) {
			tk.TriggerCheckpoint(1, false, false)
			split(tk, "a")
			tk.TriggerCheckpoint(2, false, false)
			split(tk, "b")
		}, []string{"split a", "snap 2", "split b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := startCtl(t)
				defer h.stop()
				tc.send(h.task)
				h.release()
				h.src.mu.Lock()
				defer h.src.mu.Unlock()
				if !slices.Equal(h.src.events, tc.want) {
					t.Errorf("events %q, want %q", h.src.events, tc.want)
				}
			})
		})
	}
}

// TestSamplePendingRecords: a source's pending records reach its samples
// after a poll (-1, not known, before).
func TestSamplePendingRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startCtl(t)
		defer h.stop()
		if p := h.task.Sample().PendingRecords; p != -1 {
			t.Errorf("pending records %d before a poll returned, want -1", p)
		}
		h.release()
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		if p := h.task.Sample().PendingRecords; p <= 42 {
			t.Errorf("pending records %d, want the source's (above 42)", p)
		}
	})
}

var _ operator.SplitSource = (*ctlSource)(nil)
var _ operator.PendingSource = (*ctlSource)(nil)
