package tidetest

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/metrichook"
	"github.com/tide-stream/tide/stream"
)

type fakeSourceContext struct{ subtask, parallelism int }

func (c fakeSourceContext) Subtask() int              { return c.subtask }
func (c fakeSourceContext) Parallelism() int          { return c.parallelism }
func (fakeSourceContext) Attempt() uint64             { return 1 }
func (fakeSourceContext) Now() time.Time              { return time.Unix(0, 0) }
func (fakeSourceContext) Wakeup()                     {}
func (fakeSourceContext) Context() context.Context    { return context.Background() }
func (fakeSourceContext) Logger() *slog.Logger        { return slog.New(slog.DiscardHandler) }
func (fakeSourceContext) Metrics() stream.MetricGroup { return metrichook.NewRegistry() }

type collect []int

func (c *collect) Emit(v int)                            { *c = append(*c, v) }
func (c *collect) EmitAt(v int, _ int64)                 { c.Emit(v) }
func (c *collect) Split(string) stream.SourceOutput[int] { return c }
func (c *collect) SplitDone(string)                      {}

// TestSliceSourceRestoreAtOtherParallelism reads part of the input at
// parallelism 2, snapshots, and restores the splits at parallelism 3: every
// value is emitted exactly once and each split keeps its order.
func TestSliceSourceRestoreAtOtherParallelism(t *testing.T) {
	values := make([]int, 5000)
	for i := range values {
		values[i] = i
	}
	src := SliceSource("s", values, Splits(5))
	var before collect
	var state [][]byte
	for i := range 2 {
		r, err := src.Open(fakeSourceContext{i, 2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if st, _, err := r.Poll(context.Background(), &before); err != nil || st != stream.More {
			t.Fatalf("poll: %v, %v", st, err)
		}
		snap, err := r.Snapshot(0)
		if err != nil {
			t.Fatal(err)
		}
		state = append(state, snap...)
	}
	if len(state) != 5 {
		t.Fatalf("%d split entries, want 5", len(state))
	}
	after := collect{}
	var pos int64
	for i := range 3 {
		// Redistribute the split entries round-robin, as the runtime does
		// evenly.
		var mine [][]byte
		for j := i; j < len(state); j += 3 {
			mine = append(mine, state[j])
		}
		r, err := src.Open(fakeSourceContext{i, 3}, mine)
		if err != nil {
			t.Fatal(err)
		}
		for {
			st, _, err := r.Poll(context.Background(), &after)
			if err != nil {
				t.Fatal(err)
			}
			if st == stream.Done {
				break
			}
		}
		pos += r.Position()
	}
	if pos != int64(len(values)) {
		t.Errorf("positions sum to %d, want %d", pos, len(values))
	}
	all := append(slices.Clone(before), after...)
	slices.Sort(all)
	if !slices.Equal(all, values) {
		t.Fatalf("emitted %d values, want each of %d once", len(all), len(values))
	}
	// Within a split (i mod 5), values come in increasing order.
	last := map[int]int{}
	for _, v := range append(before, after...) {
		if p, ok := last[v%5]; ok && p > v {
			t.Fatalf("split %d emitted %d after %d", v%5, v, p)
		}
		last[v%5] = v
	}
}

func TestSliceSourceBadState(t *testing.T) {
	src := SliceSource("s", []int{1, 2, 3}, Splits(2))
	outOfRange := append(make([]byte, 7), 9, 0, 0, 0, 0, 0, 0, 0, 0) // split 9 of 2
	for _, st := range [][]byte{{1}, make([]byte, 17), outOfRange} {
		if _, err := src.Open(fakeSourceContext{0, 1}, [][]byte{st}); err == nil {
			t.Errorf("state %x accepted", st)
		}
	}
}

// TestSliceSourceWithoutSplitsIsDone checks a subtask that got no split
// (more subtasks than splits, fresh or restored): paced or not, it is done
// at once instead of waiting forever for its share of the rate.
func TestSliceSourceWithoutSplitsIsDone(t *testing.T) {
	src := SliceSource("s", []int{1, 2, 3, 4}, Splits(2), Rate(1000))
	for _, restored := range [][][]byte{nil, {}} {
		r, err := src.Open(fakeSourceContext{3, 4}, restored)
		if err != nil {
			t.Fatal(err)
		}
		var out collect
		if st, _, err := r.Poll(context.Background(), &out); err != nil || st != stream.Done || len(out) != 0 {
			t.Fatalf("restored %v: poll = %v, %v, emitted %v; want Done with nothing", restored, st, err, out)
		}
	}
}
