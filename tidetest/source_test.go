package tidetest

import (
	"context"
	"encoding/binary"
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
	// Split 1 at 2^62: its index would overflow to a negative one.
	pastTheEnd := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, 1), 1<<62)
	beyond := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, 0), 3) // split 0 holds 2 values
	for _, st := range [][]byte{{1}, make([]byte, 17), outOfRange, pastTheEnd, beyond} {
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

// FuzzSliceSourceRestore: a slice source's split state comes back from
// checkpoints; whatever the entries, Open refuses them or the reader emits
// only the source's values, each split's in order, and ends.
func FuzzSliceSourceRestore(f *testing.F) {
	entry := func(id, next uint64) []byte {
		return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, id), next)
	}
	f.Add(entry(1, 1), 2)
	f.Add(append(entry(0, 2), entry(2, 0)...), 1)
	f.Add(entry(1, 1<<62), 3)
	f.Add(entry(1<<63, 0), 0)
	f.Fuzz(func(t *testing.T, state []byte, parallelism int) {
		values := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
		var entries [][]byte
		for len(state) >= 16 {
			entries = append(entries, state[:16])
			state = state[16:]
		}
		if len(state) > 0 {
			entries = append(entries, state)
		}
		p := 1 + (parallelism&0xff)%4
		src := SliceSource("s", values, Splits(3))
		r, err := src.Open(fakeSourceContext{0, p}, entries)
		if err != nil {
			return
		}
		var out collect
		for range len(values) + 2 {
			st, _, err := r.Poll(context.Background(), &out)
			if err != nil {
				t.Fatalf("poll: %v", err)
			}
			if st == stream.Done {
				break
			}
		}
		for _, v := range out {
			if v < 0 || v >= len(values) {
				t.Fatalf("emitted %d, not a value of the source", v)
			}
		}
	})
}
