package task

import "testing"

func TestAligner(t *testing.T) {
	type step struct {
		op       string // "b" barrier, "e" end
		ch       int
		id       uint64
		complete uint64
		aborted  uint64
		blocked  []int
	}
	for _, tc := range []struct {
		name  string
		n     int
		steps []step
	}{
		{"single channel completes at once", 1, []step{{op: "b", ch: 0, id: 1, complete: 1}}},
		{"two channels block until both", 2, []step{
			{op: "b", ch: 0, id: 1, blocked: []int{0}},
			{op: "b", ch: 1, id: 1, complete: 1},
			{op: "b", ch: 1, id: 2, blocked: []int{1}},
			{op: "b", ch: 0, id: 2, complete: 2},
		}},
		{"end completes a waiting alignment", 3, []step{
			{op: "b", ch: 0, id: 5, blocked: []int{0}},
			{op: "b", ch: 1, id: 5, blocked: []int{0, 1}},
			{op: "e", ch: 2, complete: 5},
		}},
		{"ended channels are not waited for", 2, []step{
			{op: "e", ch: 0},
			{op: "b", ch: 1, id: 1, complete: 1},
		}},
		{"newer barrier aborts older", 2, []step{
			{op: "b", ch: 0, id: 1, blocked: []int{0}},
			{op: "b", ch: 1, id: 2, aborted: 1, blocked: []int{1}},
			{op: "b", ch: 0, id: 2, complete: 2},
		}},
		{"stale and duplicate barriers ignored", 2, []step{
			{op: "b", ch: 0, id: 3, blocked: []int{0}},
			{op: "b", ch: 0, id: 3, blocked: []int{0}},
			{op: "b", ch: 1, id: 2, blocked: []int{0}},
			{op: "b", ch: 1, id: 3, complete: 3},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAligner(tc.n)
			for i, s := range tc.steps {
				var r alignResult
				if s.op == "b" {
					r = a.barrier(s.ch, s.id)
				} else {
					r = a.end(s.ch)
				}
				if r.Complete != s.complete || r.Aborted != s.aborted {
					t.Fatalf("step %d: got %+v, want complete=%d aborted=%d", i, r, s.complete, s.aborted)
				}
				want := map[int]bool{}
				for _, c := range s.blocked {
					want[c] = true
				}
				for c := 0; c < tc.n; c++ {
					if a.isBlocked(c) != want[c] {
						t.Fatalf("step %d: channel %d blocked=%v", i, c, a.isBlocked(c))
					}
				}
			}
		})
	}
}
