package state

import (
	"encoding/binary"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/keygroup"
)

// Table is one named keyed-state table of a Backend: a map from K to V per
// key group. Get, Put and Delete cost one slice index and one map operation;
// keys and values are encoded only by Snapshot and decoded only on restore.
//
// Every method that takes a key group panics if it lies outside the
// backend's range: the caller routed a record to the wrong subtask.
type Table[K comparable, V any] struct {
	name string
	kc   codec.Codec[K]
	vc   codec.Codec[V]

	// start is the first key group of the backend's range; groups[kg-start]
	// is the map of key group kg, nil until the first Put. Both change only
	// in setRange.
	start  keygroup.KeyGroup
	groups []map[K]V

	// entryBytes is the average encoded size of an entry, prefixes included,
	// measured at the last snapshot or restore.
	entryBytes float64
}

// NewTable registers a table named name in b, with the codecs its keys and
// values are snapshotted with. Names are unique per backend. If b holds
// restored bytes for name, NewTable decodes them now; an error names the
// table and the key group, and leaves b unchanged.
func NewTable[K comparable, V any](b *Backend, name string, kc codec.Codec[K], vc codec.Codec[V]) (*Table[K, V], error) {
	switch {
	case name == "":
		return nil, fmt.Errorf("state: new table: empty name")
	case kc == nil || vc == nil:
		return nil, fmt.Errorf("state: new table %q: nil codec", name)
	}
	if old, dup := b.tables[name]; dup {
		if b.claimed[name] {
			return nil, fmt.Errorf("state: new table %q: name already registered", name)
		}
		// A backend kept across a rescale (local recovery): the new
		// operator instance takes over the table it declared before.
		t, ok := old.(*Table[K, V])
		if !ok {
			return nil, fmt.Errorf("state: new table %q: kept with other key or value types (%T)", name, old)
		}
		b.claimed[name] = true
		return t, nil
	}
	t := &Table[K, V]{
		name:       name,
		kc:         kc,
		vc:         vc,
		start:      b.r.Start,
		groups:     make([]map[K]V, b.r.Len()),
		entryBytes: float64(reflect.TypeFor[K]().Size() + reflect.TypeFor[V]().Size()),
	}
	if pending := b.pending[name]; len(pending) > 0 {
		// Decode in key-group order so that the error for corrupt data is
		// deterministic.
		for _, kg := range slices.Sorted(maps.Keys(pending)) {
			sec := pending[kg]
			commit, err := t.prepareGroup(kg, &sec)
			if err != nil {
				return nil, fmt.Errorf("state: new table %q: restore key group %d: %w", name, kg, err)
			}
			commit()
		}
		b.takePending(name)
	}
	b.register(name, t)
	return t, nil
}

// Name returns the name the table was registered under.
func (t *Table[K, V]) Name() string { return t.name }

// index returns the index of kg in groups.
func (t *Table[K, V]) index(kg keygroup.KeyGroup) int {
	i := int(kg - t.start)
	if uint(i) >= uint(len(t.groups)) {
		t.outOfRange(kg)
	}
	return i
}

func (t *Table[K, V]) outOfRange(kg keygroup.KeyGroup) {
	panic(fmt.Sprintf("state: table %q: key group %d outside the owned range %d-%d",
		t.name, kg, t.start, int(t.start)+len(t.groups)-1))
}

// Get returns the value of k in key group kg, and whether it is present.
func (t *Table[K, V]) Get(kg keygroup.KeyGroup, k K) (V, bool) {
	v, ok := t.groups[t.index(kg)][k]
	return v, ok
}

// Put sets the value of k in key group kg.
func (t *Table[K, V]) Put(kg keygroup.KeyGroup, k K, v V) {
	i := t.index(kg)
	m := t.groups[i]
	if m == nil {
		m = make(map[K]V)
		t.groups[i] = m
	}
	m[k] = v
}

// Delete removes k from key group kg, if present.
func (t *Table[K, V]) Delete(kg keygroup.KeyGroup, k K) {
	i := t.index(kg)
	m := t.groups[i]
	delete(m, k)
	if m != nil && len(m) == 0 {
		// Go maps never shrink; let the empty one go.
		t.groups[i] = nil
	}
}

// Len returns the number of entries over all key groups. It costs
// O(key groups).
func (t *Table[K, V]) Len() int {
	n := 0
	for _, m := range t.groups {
		n += len(m)
	}
	return n
}

// Range calls fn for each entry of key group kg, in no particular order,
// until fn returns false. fn may Delete the entry it is given; entries it
// Puts may or may not be visited.
func (t *Table[K, V]) Range(kg keygroup.KeyGroup, fn func(K, V) bool) {
	for k, v := range t.groups[t.index(kg)] {
		if !fn(k, v) {
			return
		}
	}
}

func (t *Table[K, V]) groupLen(i int) int { return len(t.groups[i]) }

func (t *Table[K, V]) appendGroup(dst []byte, i int) []byte {
	for k, v := range t.groups[i] {
		dst = appendPrefixed(dst, t.kc, k)
		dst = appendPrefixed(dst, t.vc, v)
	}
	return dst
}

func (t *Table[K, V]) prepareGroup(kg keygroup.KeyGroup, sec *section) (func(), error) {
	i := t.index(kg)
	if sec == nil {
		return func() { t.groups[i] = nil }, nil
	}
	// parseKeyGroup checked that sec.count entries of at least two bytes
	// each follow, so the size hint is bounded by the input.
	m := make(map[K]V, sec.count)
	r := reader{data: sec.data}
	for e := range sec.count {
		kb, vb, err := r.entry()
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", e, err)
		}
		k, err := decodeExact(t.kc, kb)
		if err != nil {
			return nil, fmt.Errorf("entry %d: decode key: %w", e, err)
		}
		v, err := decodeExact(t.vc, vb)
		if err != nil {
			return nil, fmt.Errorf("entry %d: decode value: %w", e, err)
		}
		m[k] = v
		if len(m) != e+1 {
			return nil, fmt.Errorf("entry %d: duplicate key: %w", e, ErrCorrupt)
		}
	}
	return func() {
		t.groups[i] = m
		t.noteEncoded(sec.count, len(sec.data))
	}, nil
}

func (t *Table[K, V]) setRange(r keygroup.Range) {
	groups := make([]map[K]V, r.Len())
	old := keygroup.Range{Start: t.start, End: t.start + keygroup.KeyGroup(len(t.groups)) - 1}
	both := old.Intersect(r)
	for kg := both.Start; kg <= both.End; kg++ {
		groups[kg-r.Start] = t.groups[kg-t.start]
	}
	t.start, t.groups = r.Start, groups
}

func (t *Table[K, V]) noteEncoded(entries, bytes int) {
	if entries > 0 {
		t.entryBytes = float64(bytes) / float64(entries)
	}
}

func (t *Table[K, V]) approxBytes() int64 { return int64(float64(t.Len()) * t.entryBytes) }

// appendPrefixed appends the encoding of v preceded by its length as a
// uvarint. It reserves one byte for the length, which covers encodings under
// 128 bytes, and shifts the encoding in the rare case the length needs more.
func appendPrefixed[T any](dst []byte, c codec.Codec[T], v T) []byte {
	at := len(dst)
	dst = append(dst, 0)
	dst = c.Append(dst, v)
	n := len(dst) - at - 1
	if n < 0x80 {
		dst[at] = byte(n)
		return dst
	}
	var hdr [binary.MaxVarintLen64]byte
	h := binary.PutUvarint(hdr[:], uint64(n))
	dst = append(dst, hdr[:h-1]...)
	copy(dst[at+h:], dst[at+1:at+1+n])
	copy(dst[at:], hdr[:h])
	return dst
}

// decodeExact decodes a value that must use all of b.
func decodeExact[T any](c codec.Codec[T], b []byte) (T, error) {
	v, n, err := c.Decode(b)
	if err != nil {
		return v, err
	}
	if n != len(b) {
		return v, fmt.Errorf("codec used %d of %d bytes", n, len(b))
	}
	return v, nil
}
