package checkpoint

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/keygroup"
)

// harness drives a Coordinator with an injected clock and renders each
// Ready as a readable trace, in the spirit of raft's interaction tests.
type harness struct {
	t    *testing.T
	c    *Coordinator
	now  time.Time
	logs bytes.Buffer
}

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const maxP = 128

// The job graph of most tests: one source task and a keyed counter at
// parallelism 2.
var (
	src  = exec.TaskKey{Vertex: "src", Subtask: 0}
	cnt0 = exec.TaskKey{Vertex: "cnt", Subtask: 0}
	cnt1 = exec.TaskKey{Vertex: "cnt", Subtask: 1}
	job  = AttemptStarted{Attempt: 1, Sources: []exec.TaskKey{src}, Tasks: []exec.TaskKey{src, cnt0, cnt1}}
)

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, now: t0}
	cfg.JobID = "job"
	cfg.MaxParallelism = maxP
	cfg.Logger = slog.New(slog.NewTextHandler(&h.logs, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	h.c = NewCoordinator(cfg, h.now)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("coordinator log:\n%s", h.logs.String())
		}
	})
	return h
}

// step applies events that must be accepted.
func (h *harness) step(evs ...Event) {
	h.t.Helper()
	for _, ev := range evs {
		if err := h.c.Step(ev); err != nil {
			h.t.Fatalf("Step(%#v): %v", ev, err)
		}
	}
}

func (h *harness) tick(d time.Duration) {
	h.now = h.now.Add(d)
	h.c.Tick(h.now)
}

// expect takes the Ready, checks its trace against want (lines, leading and
// trailing blank space ignored), and advances.
func (h *harness) expect(want string) Ready {
	h.t.Helper()
	if got := h.c.HasReady(); got != (strings.TrimSpace(want) != "") {
		h.t.Errorf("HasReady = %v", got)
	}
	rd := h.c.Ready()
	got := render(rd)
	if norm(got) != norm(want) {
		h.t.Fatalf("Ready:\n%s\nwant:\n%s", got, norm(want))
	}
	h.c.Advance(rd)
	if h.c.HasReady() {
		h.t.Fatalf("HasReady after Advance: %s", render(h.c.Ready()))
	}
	return rd
}

func norm(s string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		lines = append(lines, strings.TrimSpace(l))
	}
	return strings.Join(lines, "\n")
}

func render(rd Ready) string {
	var b strings.Builder
	for _, t := range rd.Triggers {
		fmt.Fprintf(&b, "trigger chk-%d a%d savepoint=%v sources=%v\n", t.Checkpoint, t.Attempt, t.Request.Kind.Savepoint(), t.Sources)
	}
	if m := rd.Persist; m != nil {
		fmt.Fprintf(&b, "persist chk-%d a%d savepoint=%v", m.CheckpointID, m.Attempt, m.Savepoint)
		for _, op := range m.Operators {
			fmt.Fprintf(&b, " %s(p=%d keyed=%d list=%d pos=%d)", op.OperatorID, op.Parallelism, len(op.Keyed), len(op.List), op.SourcePosition)
		}
		b.WriteString("\n")
	}
	for _, c := range rd.Completed {
		fmt.Fprintf(&b, "completed chk-%d a%d path=%s savepoint=%v reason=%s req=%s\n", c.Checkpoint, c.Attempt, c.Path, c.Request.Kind.Savepoint(), c.Request.Kind, c.Request.ID)
	}
	for _, f := range rd.Failed {
		fmt.Fprintf(&b, "failed chk-%d req=%s: %s\n", f.Checkpoint, f.Request.ID, f.Reason)
	}
	for _, id := range rd.Discard {
		fmt.Fprintf(&b, "discard chk-%d\n", id)
	}
	return b.String()
}

// snapshots returns what task reports: the source its offset and position,
// the counter its keyed state for its key-group range at parallelism 2.
func snapshots(id ID, task exec.TaskKey) []OperatorSnapshot {
	if task.Vertex == "src" {
		return []OperatorSnapshot{{OperatorID: "src", Subtask: task.Subtask, List: [][]byte{[]byte("offset")}, SourcePosition: 10}}
	}
	r := keygroup.RangeFor(maxP, 2, task.Subtask)
	offsets := make([]int64, r.Len()+1)
	for i := range offsets {
		offsets[i] = int64(i) * 100
	}
	return []OperatorSnapshot{{
		OperatorID: "cnt",
		Subtask:    task.Subtask,
		Keyed: &KeyedHandle{
			Path:    fmt.Sprintf("job/chk-%d/cnt-%d", id, task.Subtask),
			Range:   r,
			Offsets: offsets,
			CRCs:    make([]uint32, r.Len()),
		},
	}}
}

func ack(attempt exec.Attempt, id ID, task exec.TaskKey) Ack {
	return Ack{Attempt: attempt, Checkpoint: id, Task: task, Snapshots: snapshots(id, task)}
}

// complete acknowledges checkpoint id from all tasks of the job and
// persists it at "chk-<id>".
func (h *harness) complete(attempt exec.Attempt, id ID) {
	h.t.Helper()
	h.step(ack(attempt, id, src), ack(attempt, id, cnt0), ack(attempt, id, cnt1))
	rd := h.c.Ready()
	if rd.Persist == nil || rd.Persist.CheckpointID != id || strings.Count(render(rd), "\n") != 1 {
		h.t.Fatalf("after all acks of chk-%d: Ready %s", id, render(rd))
	}
	h.c.Advance(rd)
	h.step(Persisted{Checkpoint: id, Path: fmt.Sprintf("chk-%d", id)})
}

func keygroupRange(start, end int) keygroup.Range {
	return keygroup.Range{Start: keygroup.KeyGroup(start), End: keygroup.KeyGroup(end)}
}
