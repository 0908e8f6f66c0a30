// Package keygroup owns the mapping of keys to key groups and of key groups
// to subtasks. It is the contract that lets any parallelism up to the
// maximum parallelism restore any snapshot: keyed state is stored per key
// group, and a subtask owns a contiguous range of key groups.
//
// The assignment is Flink's: keyGroup = hash(key) mod maxP, and key group kg
// belongs to subtask kg*p/maxP. The hash is xxhash64 of the key's serialized
// bytes, which is stable across processes, machines and versions.
package keygroup

import (
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// KeyGroup is the index of a key group, in [0, maxParallelism).
type KeyGroup int

// Range is the inclusive range [Start, End] of key groups owned by one
// subtask. An empty range has End < Start.
type Range struct {
	Start, End KeyGroup
}

// Contains reports whether kg lies in r.
func (r Range) Contains(kg KeyGroup) bool { return kg >= r.Start && kg <= r.End }

// Len is the number of key groups in r.
func (r Range) Len() int {
	if r.End < r.Start {
		return 0
	}
	return int(r.End-r.Start) + 1
}

// Intersect returns the key groups in both r and o.
func (r Range) Intersect(o Range) Range {
	s, e := max(r.Start, o.Start), min(r.End, o.End)
	if e < s {
		return Range{Start: 0, End: -1}
	}
	return Range{Start: s, End: e}
}

func (r Range) String() string { return fmt.Sprintf("%d-%d", r.Start, r.End) }

// OfBytes returns the key group of a key given its serialized bytes.
func OfBytes(key []byte, maxParallelism int) KeyGroup {
	return KeyGroup(xxhash.Sum64(key) % uint64(maxParallelism))
}

// OfHash returns the key group of a key whose xxhash64 is h.
func OfHash(h uint64, maxParallelism int) KeyGroup {
	return KeyGroup(h % uint64(maxParallelism))
}

// Operator returns the subtask that owns key group kg at parallelism p.
func Operator(kg KeyGroup, maxParallelism, parallelism int) int {
	return int(kg) * parallelism / maxParallelism
}

// RangeFor returns the key groups owned by subtask i of p.
func RangeFor(maxParallelism, parallelism, i int) Range {
	start := (i*maxParallelism + parallelism - 1) / parallelism
	end := ((i+1)*maxParallelism - 1) / parallelism
	return Range{Start: KeyGroup(start), End: KeyGroup(end)}
}

// Validate checks that a parallelism can be used with a maximum parallelism.
func Validate(maxParallelism, parallelism int) error {
	if maxParallelism < 1 || maxParallelism > 1<<15 {
		return fmt.Errorf("max parallelism %d out of range [1, 32768]", maxParallelism)
	}
	if parallelism < 1 || parallelism > maxParallelism {
		return fmt.Errorf("parallelism %d out of range [1, max parallelism %d]", parallelism, maxParallelism)
	}
	return nil
}
