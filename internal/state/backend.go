package state

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tide-stream/tide/internal/keygroup"
)

// ErrCorrupt is wrapped by every error about restored bytes that do not
// match their checksum or do not follow the snapshot format.
var ErrCorrupt = errors.New("state: corrupt key group")

// Backend holds the keyed state tables of one operator in one subtask, for
// the key groups of its range. It is owned by the subtask's goroutine.
type Backend struct {
	maxParallelism int
	r              keygroup.Range

	// tables are the registered tables by name; names lists them sorted.
	tables map[string]table
	names  []string

	// pending holds restored bytes of tables not registered yet, by table
	// name and key group. The byte slices are owned copies. NewTable takes a
	// table's entry out; SetRange drops key groups outside the range.
	pending map[string]map[keygroup.KeyGroup]section
	// pendingBytes is the sum of the lengths of the pending sections.
	pendingBytes int64
	// claimed marks the tables an operator instance has declared; Release
	// clears it so that the next instance can take the tables over.
	claimed map[string]bool
}

// Release detaches the backend from the operator instance that declared its
// tables, so that a later instance (after a rescale, on the same process)
// can declare them again with NewTable and find their contents.
func (b *Backend) Release() {
	clear(b.claimed)
}

// table is what the Backend needs from a Table[K, V], whatever its types.
// Key groups are given as indexes into the range (kg - Range.Start).
type table interface {
	// groupLen returns the number of entries in key group index i.
	groupLen(i int) int
	// appendGroup appends the entries of key group index i in the snapshot
	// format (without the table header).
	appendGroup(dst []byte, i int) []byte
	// prepareGroup decodes a section restored for key group kg, or an empty
	// key group if sec is nil. It changes nothing until commit is called, so
	// that a restore that fails midway leaves the backend as it was.
	prepareGroup(kg keygroup.KeyGroup, sec *section) (commit func(), err error)
	// setRange re-indexes the table for r, dropping key groups outside it.
	setRange(r keygroup.Range)
	// noteEncoded records how many bytes some entries took when encoded, to
	// estimate the state size.
	noteEncoded(entries, bytes int)
	// approxBytes estimates the encoded size of the table.
	approxBytes() int64
}

// NewBackend returns an empty backend for the key groups of r, out of
// maxParallelism key groups in all. It panics if r does not lie in
// [0, maxParallelism) or maxParallelism is out of keygroup's bounds: ranges
// come from keygroup.RangeFor, so that is a broken invariant.
func NewBackend(maxParallelism int, r keygroup.Range) *Backend {
	if err := keygroup.Validate(maxParallelism, 1); err != nil {
		panic(fmt.Sprintf("state: NewBackend: %v", err))
	}
	b := &Backend{
		maxParallelism: maxParallelism,
		tables:         make(map[string]table),
		pending:        make(map[string]map[keygroup.KeyGroup]section),
		claimed:        make(map[string]bool),
	}
	b.checkRange("NewBackend", r)
	b.r = r
	return b
}

func (b *Backend) checkRange(op string, r keygroup.Range) {
	if r.Len() > 0 && (r.Start < 0 || int(r.End) >= b.maxParallelism) {
		panic(fmt.Sprintf("state: %s: key-group range %v outside [0, %d)", op, r, b.maxParallelism))
	}
}

// Range returns the key groups the backend owns.
func (b *Backend) Range() keygroup.Range { return b.r }

// KeyGroups returns the key groups the backend owns; it is the same as Range.
func (b *Backend) KeyGroups() keygroup.Range { return b.r }

// MaxParallelism returns the total number of key groups.
func (b *Backend) MaxParallelism() int { return b.maxParallelism }

// SetRange changes the owned range to r. Key groups in both the old and the
// new range keep their state in memory; key groups outside r are dropped,
// pending restored bytes included; key groups new in r start empty and are
// usually loaded next with RestoreKeyGroup. It panics if r does not lie in
// [0, MaxParallelism).
func (b *Backend) SetRange(r keygroup.Range) {
	b.checkRange("SetRange", r)
	for _, t := range b.tables {
		t.setRange(r)
	}
	for name, groups := range b.pending {
		for kg, sec := range groups {
			if !r.Contains(kg) {
				b.pendingBytes -= int64(len(sec.data))
				delete(groups, kg)
			}
		}
		if len(groups) == 0 {
			delete(b.pending, name)
		}
	}
	b.r = r
}

// ApproxBytes estimates the encoded size of the state: for each table, its
// entry count times the average encoded entry size seen at the last snapshot
// or restore (before either, the in-memory size of a key and a value), plus
// the pending restored bytes. It costs O(tables × key groups).
func (b *Backend) ApproxBytes() int64 {
	n := b.pendingBytes
	for _, t := range b.tables {
		n += t.approxBytes()
	}
	return n
}

// register adds a table under name; the caller has checked that the name is
// free.
func (b *Backend) register(name string, t table) {
	b.tables[name] = t
	b.claimed[name] = true
	i, _ := slices.BinarySearch(b.names, name)
	b.names = slices.Insert(b.names, i, name)
}

// takePending removes and returns the pending sections of a table.
func (b *Backend) takePending(name string) map[keygroup.KeyGroup]section {
	groups := b.pending[name]
	delete(b.pending, name)
	for _, sec := range groups {
		b.pendingBytes -= int64(len(sec.data))
	}
	return groups
}
