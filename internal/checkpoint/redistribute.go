package checkpoint

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/tide-stream/tide/internal/keygroup"
)

// KeyedSlice says: read the key groups Range of the object Handle names.
// Range is always inside Handle.Range.
type KeyedSlice struct {
	Handle KeyedHandle
	Range  keygroup.Range
}

// Validate checks what a subtask that restores s relies on: the handle is
// valid for maxParallelism key groups (its offsets and CRCs cover its
// range) and Range is a non-empty part of the handle's range. Slices come
// from the JobManager's deployment; the error wraps ErrInvalid.
func (s KeyedSlice) Validate(maxParallelism int) error {
	if err := s.Handle.validate(maxParallelism); err != nil {
		return fmt.Errorf("%w: keyed state handle: %v", ErrInvalid, err)
	}
	if s.Range.Len() == 0 || !s.Handle.Range.Contains(s.Range.Start) || !s.Handle.Range.Contains(s.Range.End) {
		return fmt.Errorf("%w: key groups %v to restore from %s, which holds %v", ErrInvalid, s.Range, s.Handle.Path, s.Handle.Range)
	}
	return nil
}

// AssignKeyed returns the parts of handles that a subtask owning the key
// groups r must restore: every non-empty intersection of a handle's range
// with r, sorted by the first key group. Because a snapshot's handles are
// disjoint, every key group of r that had state appears in exactly one
// slice.
//
// Restoring at another parallelism is therefore only a reassignment of
// ranges: with key groups [0,127] snapshotted by 2 subtasks as 0-63 and
// 64-127, subtask 1 of 3 (43-85) reads 43-63 of the first object and 64-85
// of the second.
func AssignKeyed(handles []KeyedHandle, r keygroup.Range) []KeyedSlice {
	var out []KeyedSlice
	for _, h := range handles {
		if in := h.Range.Intersect(r); in.Len() > 0 {
			out = append(out, KeyedSlice{Handle: h, Range: in})
		}
	}
	slices.SortFunc(out, func(a, b KeyedSlice) int { return cmp.Compare(a.Range.Start, b.Range.Start) })
	return out
}

// AssignList returns the operator list state entries that subtask (of
// parallelism) restores: an even, contiguous split in which subtask i gets
// entries [i*n/p, (i+1)*n/p) of the n entries, integer division. Every
// entry goes to exactly one subtask, the shares differ in size by at most
// one, and order is kept, so a subtask whose entries were consecutive before
// mostly keeps them (Flink's round-robin split would scatter them).
//
// With n=5 entries and p=2, subtask 0 gets entries 0-1 and subtask 1 gets
// 2-4; with n=2 and p=3, subtask 0 gets none, 1 gets entry 0, 2 gets entry 1.
//
// The result shares its backing array with entries but has no spare
// capacity, so appending to it never overwrites another subtask's entries.
// It is nil when parallelism < 1 or subtask is outside [0, parallelism).
func AssignList(entries [][]byte, parallelism, subtask int) [][]byte {
	if parallelism < 1 || subtask < 0 || subtask >= parallelism {
		return nil
	}
	n := len(entries)
	lo, hi := subtask*n/parallelism, (subtask+1)*n/parallelism
	if lo == hi {
		return nil
	}
	return entries[lo:hi:hi]
}
