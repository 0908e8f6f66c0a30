package task_test

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/task"
)

// TestRestoreRefusesMalformedSlices: the keyed state a subtask restores
// comes in the JobManager's deployment; a slice whose offsets, CRCs or
// range do not fit its handle fails the subtask as a corrupt checkpoint
// before anything is read, instead of an index out of range. (A length
// beyond the object is blob.Storage.ReadRange's to refuse.)
func TestRestoreRefusesMalformedSlices(t *testing.T) {
	const maxP = 8
	all := keygroup.Range{Start: 0, End: maxP - 1}
	good := checkpoint.KeyedHandle{Path: "restore/chk-1/src-0-a1", Range: all, Offsets: make([]int64, maxP+1), CRCs: make([]uint32, maxP)}
	for name, s := range map[string]checkpoint.KeyedSlice{
		"range beyond the handle": {Handle: checkpoint.KeyedHandle{Path: good.Path, Range: keygroup.Range{Start: 0, End: 1},
			Offsets: []int64{0, 0, 0}, CRCs: []uint32{0, 0}}, Range: all},
		"too few offsets": {Handle: checkpoint.KeyedHandle{Path: good.Path, Range: all, Offsets: []int64{0}, CRCs: good.CRCs}, Range: all},
		"too few CRCs":    {Handle: checkpoint.KeyedHandle{Path: good.Path, Range: all, Offsets: good.Offsets}, Range: all},
		"decreasing offsets": {Handle: checkpoint.KeyedHandle{Path: good.Path, Range: keygroup.Range{Start: 0, End: 0},
			Offsets: []int64{5, 1}, CRCs: []uint32{0}}, Range: keygroup.Range{Start: 0, End: 0}},
		"path up": {Handle: checkpoint.KeyedHandle{Path: "../x", Range: all, Offsets: good.Offsets, CRCs: good.CRCs}, Range: all},
	} {
		t.Run(name, func(t *testing.T) {
			err := runRestore(t, maxP, s)
			var f *task.Failure
			if !errors.As(err, &f) || f.Domain != rpc.DomainCorruptCheckpoint || !errors.Is(err, checkpoint.ErrInvalid) {
				t.Fatalf("Run = %v, want a corrupt-checkpoint failure wrapping checkpoint.ErrInvalid", err)
			}
		})
	}
}

// runRestore runs a keyed source subtask owning every key group that
// restores s, and returns how its Run ended.
func runRestore(t *testing.T, maxP int, s checkpoint.KeyedSlice) error {
	t.Helper()
	g := &plan.Graph{MaxParallelism: maxP}
	g.Add(&plan.Operator{
		Name: "src", UID: "src", Input: -1, Keyed: true,
		Build: func(any) (any, operator.Hooks, error) {
			src := &metricSource{}
			return src, src, nil
		},
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
	tk := task.New(task.Config{
		JobID: "restore", Graph: jg, Vertex: 0, Subtask: 0, Attempt: 2,
		Parallelism: map[exec.VertexID]int{jg.Vertices[0].ID: 1}, DataAddrs: map[exec.VertexID][]string{},
		KeyGroups: keygroup.Range{Start: 0, End: keygroup.KeyGroup(maxP - 1)},
		Restore:   map[string]task.Restore{"src": {Keyed: []checkpoint.KeyedSlice{s}}}, RestoredCheckpoint: 1,
		Storage: store, BufferSize: 1 << 10, BufferTimeout: time.Hour, Report: &ctlHarness{t: t},
		StateDir: func(id uint64) string { return fmt.Sprintf("restore/chk-%d/", id) },
		Logger:   slog.New(slog.DiscardHandler),
	})
	done := make(chan error, 1)
	go func() { done <- tk.Run(t.Context()) }() // owner: this function, which waits below
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the subtask did not fail within 10 s")
		return nil
	}
}
