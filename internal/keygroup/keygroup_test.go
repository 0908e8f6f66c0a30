package keygroup

import "testing"

// TestRangesPartitionExhaustively checks, for every max parallelism up to 300
// and every parallelism up to it, that the ranges of the subtasks are
// contiguous, disjoint, cover all key groups, and agree with Operator.
func TestRangesPartitionExhaustively(t *testing.T) {
	for maxP := 1; maxP <= 300; maxP++ {
		for p := 1; p <= maxP; p++ {
			next := KeyGroup(0)
			for i := 0; i < p; i++ {
				r := RangeFor(maxP, p, i)
				if r.Start != next {
					t.Fatalf("maxP=%d p=%d subtask %d: range %v starts at %d, want %d", maxP, p, i, r, r.Start, next)
				}
				if r.Len() < 1 {
					t.Fatalf("maxP=%d p=%d subtask %d: empty range %v", maxP, p, i, r)
				}
				for kg := r.Start; kg <= r.End; kg++ {
					if got := Operator(kg, maxP, p); got != i {
						t.Fatalf("maxP=%d p=%d: Operator(%d)=%d, want %d", maxP, p, kg, got, i)
					}
				}
				next = r.End + 1
			}
			if int(next) != maxP {
				t.Fatalf("maxP=%d p=%d: ranges end at %d", maxP, p, next)
			}
		}
	}
}

func TestKnownAssignments(t *testing.T) {
	for _, tc := range []struct {
		maxP, p, i int
		want       Range
	}{
		{128, 1, 0, Range{0, 127}},
		{128, 2, 0, Range{0, 63}},
		{128, 2, 1, Range{64, 127}},
		{128, 3, 0, Range{0, 42}},
		{128, 3, 1, Range{43, 85}},
		{128, 3, 2, Range{86, 127}},
	} {
		if got := RangeFor(tc.maxP, tc.p, tc.i); got != tc.want {
			t.Errorf("RangeFor(%d,%d,%d)=%v, want %v", tc.maxP, tc.p, tc.i, got, tc.want)
		}
	}
}

// TestHashIsStable pins the hash so that a change of hash function, which
// would make every existing snapshot unreadable, fails here first.
func TestHashIsStable(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want KeyGroup
	}{
		{"", 25},
		{"a", 91},
		{"tide", 103},
	} {
		got := OfBytes([]byte(tc.key), 128)
		if got != tc.want {
			t.Errorf("OfBytes(%q)=%d, want %d", tc.key, got, tc.want)
		}
	}
}

func TestIntersect(t *testing.T) {
	a := Range{0, 63}
	if got := a.Intersect(Range{43, 85}); got != (Range{43, 63}) {
		t.Fatalf("got %v", got)
	}
	if got := a.Intersect(Range{64, 127}); got.Len() != 0 {
		t.Fatalf("got %v", got)
	}
}
