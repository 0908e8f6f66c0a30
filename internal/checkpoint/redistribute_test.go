package checkpoint

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tide-stream/tide/internal/keygroup"
)

// handlesAt returns the keyed handles a snapshot at parallelism p writes:
// one per subtask, covering its range.
func handlesAt(maxP, p int) []KeyedHandle {
	var hs []KeyedHandle
	for i := range p {
		r := keygroup.RangeFor(maxP, p, i)
		hs = append(hs, KeyedHandle{
			Path:    fmt.Sprintf("op-%d", i),
			Range:   r,
			Offsets: make([]int64, r.Len()+1),
			CRCs:    make([]uint32, r.Len()),
		})
	}
	return hs
}

func TestAssignKeyedExample(t *testing.T) {
	// Snapshot at 2 of 128 (0-63, 64-127), restored at 3: subtask 1 owns 43-85.
	got := AssignKeyed(handlesAt(128, 2), keygroup.RangeFor(128, 3, 1))
	var desc []string
	for _, s := range got {
		desc = append(desc, fmt.Sprintf("%s:%v", s.Handle.Path, s.Range))
	}
	if want := []string{"op-0:43-63", "op-1:64-85"}; !slices.Equal(desc, want) {
		t.Fatalf("AssignKeyed = %v, want %v", desc, want)
	}
	if got := AssignKeyed(nil, keygroup.Range{Start: 0, End: 5}); got != nil {
		t.Fatalf("no handles: %v", got)
	}
}

// TestAssignKeyedCoversExactly checks that for any old and new parallelism
// every key group is read exactly once, from the handle that holds it.
func TestAssignKeyedCoversExactly(t *testing.T) {
	for _, maxP := range []int{1, 7, 128} {
		for oldP := 1; oldP <= min(maxP, 9); oldP++ {
			hs := handlesAt(maxP, oldP)
			for newP := 1; newP <= min(maxP, 9); newP++ {
				seen := make([]int, maxP)
				for i := range newP {
					r := keygroup.RangeFor(maxP, newP, i)
					for _, s := range AssignKeyed(hs, r) {
						if s.Range.Start < s.Handle.Range.Start || s.Range.End > s.Handle.Range.End ||
							s.Range.Start < r.Start || s.Range.End > r.End {
							t.Fatalf("maxP=%d %d->%d subtask %d: slice %v of handle %v outside %v", maxP, oldP, newP, i, s.Range, s.Handle.Range, r)
						}
						for kg := s.Range.Start; kg <= s.Range.End; kg++ {
							seen[kg]++
						}
					}
				}
				for kg, n := range seen {
					if n != 1 {
						t.Fatalf("maxP=%d %d->%d: key group %d read %d times", maxP, oldP, newP, kg, n)
					}
				}
			}
		}
	}
}

func TestAssignList(t *testing.T) {
	entries := func(n int) [][]byte {
		var es [][]byte
		for i := range n {
			es = append(es, []byte{byte(i)})
		}
		return es
	}
	for _, tc := range []struct {
		n, p int
		want [][]int // entry indexes per subtask
	}{
		{5, 2, [][]int{{0, 1}, {2, 3, 4}}},
		{2, 3, [][]int{nil, {0}, {1}}},
		{6, 3, [][]int{{0, 1}, {2, 3}, {4, 5}}},
		{0, 2, [][]int{nil, nil}},
		{3, 1, [][]int{{0, 1, 2}}},
	} {
		es := entries(tc.n)
		for i := range tc.p {
			var got []int
			for _, e := range AssignList(es, tc.p, i) {
				got = append(got, int(e[0]))
			}
			if !slices.Equal(got, tc.want[i]) {
				t.Errorf("n=%d p=%d subtask %d: got %v, want %v", tc.n, tc.p, i, got, tc.want[i])
			}
		}
	}
	// Every entry exactly once, in order, and shares within one of each other.
	for n := range 20 {
		for p := 1; p <= 7; p++ {
			es := entries(n)
			var all []int
			lo, hi := n, 0
			for i := range p {
				part := AssignList(es, p, i)
				lo, hi = min(lo, len(part)), max(hi, len(part))
				for _, e := range part {
					all = append(all, int(e[0]))
				}
			}
			if len(all) != n || !slices.IsSorted(all) || hi-lo > 1 {
				t.Fatalf("n=%d p=%d: entries %v, shares %d..%d", n, p, all, lo, hi)
			}
		}
	}
	for _, bad := range [][2]int{{0, 0}, {2, -1}, {2, 2}} {
		if got := AssignList(entries(4), bad[0], bad[1]); got != nil {
			t.Errorf("AssignList(p=%d, subtask=%d) = %v, want nil", bad[0], bad[1], got)
		}
	}
	// Appending to one share must not overwrite the next.
	es := entries(4)
	first := AssignList(es, 2, 0)
	_ = append(first, []byte{99})
	if es[2][0] != 2 {
		t.Fatal("append to a share overwrote the next share")
	}
}
