package state

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"slices"

	"github.com/tide-stream/tide/internal/keygroup"
)

// castagnoli is the CRC-32C table; it is never written after package load.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// flushBytes is how much Snapshot buffers before it writes, so that a range
// of many small key groups does not become many small writes.
const flushBytes = 64 << 10

// section is the part of a key group's bytes that belongs to one table: the
// entries, count of them, without the table header.
type section struct {
	name  string
	count int
	data  []byte
}

// Snapshot writes every key group of the range to w, in key-group order, in
// the format described in the package documentation, and returns the index:
// offsets[i] is where key group Range.Start+i begins relative to the first
// byte written (offsets[0] == 0, offsets[Range.Len()] is the total length),
// and crcs[i] is the CRC-32C of its bytes. Pending restored bytes of tables
// not registered yet are written back unchanged.
func (b *Backend) Snapshot(w io.Writer) (offsets []int64, crcs []uint32, err error) {
	names := b.snapshotNames()
	n := b.r.Len()
	offsets = make([]int64, n+1)
	crcs = make([]uint32, n)
	// entries and bytes written per registered table, to estimate sizes.
	entries := make([]int, len(names))
	written := make([]int, len(names))

	var buf []byte
	var flushed int64
	flush := func(upTo keygroup.KeyGroup) error {
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("state: snapshot key groups %v: write up to key group %d: %w", b.r, upTo, err)
		}
		flushed += int64(len(buf))
		buf = buf[:0]
		return nil
	}
	for i := range n {
		kg := b.r.Start + keygroup.KeyGroup(i)
		start := len(buf)
		buf = b.appendKeyGroup(buf, kg, names, entries, written)
		crcs[i] = crc32.Checksum(buf[start:], castagnoli)
		offsets[i+1] = flushed + int64(len(buf))
		if len(buf) >= flushBytes {
			if err := flush(kg); err != nil {
				return nil, nil, err
			}
		}
	}
	if len(buf) > 0 {
		if err := flush(b.r.End); err != nil {
			return nil, nil, err
		}
	}
	for j, name := range names {
		if t, ok := b.tables[name]; ok {
			t.noteEncoded(entries[j], written[j])
		}
	}
	return offsets, crcs, nil
}

// snapshotNames returns the names of registered and pending tables, sorted.
func (b *Backend) snapshotNames() []string {
	if len(b.pending) == 0 {
		return b.names
	}
	names := slices.Concat(b.names, slices.Collect(maps.Keys(b.pending)))
	slices.Sort(names)
	return names
}

// appendKeyGroup appends the encoding of key group kg, and adds to entries
// and written what each table contributed.
func (b *Backend) appendKeyGroup(dst []byte, kg keygroup.KeyGroup, names []string, entries, written []int) []byte {
	i := int(kg - b.r.Start)
	tables := 0
	for _, name := range names {
		if b.groupLen(name, kg, i) > 0 {
			tables++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(tables))
	for j, name := range names {
		count := b.groupLen(name, kg, i)
		if count == 0 {
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(len(name)))
		dst = append(dst, name...)
		dst = binary.AppendUvarint(dst, uint64(count))
		start := len(dst)
		if t, ok := b.tables[name]; ok {
			dst = t.appendGroup(dst, i)
		} else {
			dst = append(dst, b.pending[name][kg].data...)
		}
		entries[j] += count
		written[j] += len(dst) - start
	}
	return dst
}

// groupLen returns the number of entries table name has in key group kg,
// whose index in the range is i.
func (b *Backend) groupLen(name string, kg keygroup.KeyGroup, i int) int {
	if t, ok := b.tables[name]; ok {
		return t.groupLen(i)
	}
	return b.pending[name][kg].count
}

// RestoreKeyGroup replaces the state of key group kg with data, the bytes of
// one key group as written by Snapshot, possibly by a backend with another
// range or parallelism. crc is the CRC-32C recorded for data in the
// checkpoint's index.
//
// Afterwards each registered table holds exactly the entries data has for it
// in kg (none if data has none), and the bytes of tables not registered yet
// are kept, copied, until NewTable decodes them. kg outside the range is an
// error. A CRC mismatch or bytes that break the format return an error
// wrapping ErrCorrupt; an error from a table's codec is returned as is. Either
// way the error names the key group (and the table), and the backend is left
// unchanged.
func (b *Backend) RestoreKeyGroup(kg keygroup.KeyGroup, data []byte, crc uint32) error {
	if !b.r.Contains(kg) {
		return fmt.Errorf("state: restore key group %d: outside the owned range %v", kg, b.r)
	}
	if got := crc32.Checksum(data, castagnoli); got != crc {
		return fmt.Errorf("state: restore key group %d: crc %08x, want %08x: %w", kg, got, crc, ErrCorrupt)
	}
	secs, err := parseKeyGroup(data)
	if err != nil {
		return fmt.Errorf("state: restore key group %d: %w", kg, err)
	}

	// Decode everything first, then commit, so that an error changes nothing.
	commits := make([]func(), 0, len(b.tables))
	present := make(map[string]bool, len(secs))
	var unknown []section
	for _, sec := range secs {
		t, ok := b.tables[sec.name]
		if !ok {
			unknown = append(unknown, sec)
			continue
		}
		present[sec.name] = true
		commit, err := t.prepareGroup(kg, &sec)
		if err != nil {
			return fmt.Errorf("state: restore key group %d: table %q: %w", kg, sec.name, err)
		}
		commits = append(commits, commit)
	}
	for name, t := range b.tables {
		if !present[name] {
			commit, _ := t.prepareGroup(kg, nil) // Cannot fail: no bytes to decode.
			commits = append(commits, commit)
		}
	}
	for _, commit := range commits {
		commit()
	}

	for name, groups := range b.pending {
		if sec, ok := groups[kg]; ok {
			b.pendingBytes -= int64(len(sec.data))
			delete(groups, kg)
			if len(groups) == 0 {
				delete(b.pending, name)
			}
		}
	}
	for _, sec := range unknown {
		sec.data = slices.Clone(sec.data)
		groups := b.pending[sec.name]
		if groups == nil {
			groups = make(map[keygroup.KeyGroup]section)
			b.pending[sec.name] = groups
		}
		groups[kg] = sec
		b.pendingBytes += int64(len(sec.data))
	}
	return nil
}

// parseKeyGroup splits the bytes of one key group into its tables' sections,
// checking the framing (lengths, counts, name order) but not the keys and
// values, which only the tables' codecs can decode.
func parseKeyGroup(data []byte) ([]section, error) {
	r := reader{data: data}
	// A table takes at least 3 bytes: name length, a name byte, a count.
	tables, err := r.count("table count", 3)
	if err != nil {
		return nil, err
	}
	secs := make([]section, 0, tables)
	for range tables {
		name, err := r.bytes("table name")
		if err != nil {
			return nil, err
		}
		if len(name) == 0 {
			return nil, r.corrupt("empty table name")
		}
		if len(secs) > 0 && string(name) <= secs[len(secs)-1].name {
			return nil, r.corrupt(fmt.Sprintf("table %q out of order after %q", name, secs[len(secs)-1].name))
		}
		// An entry takes at least 2 bytes: two zero lengths.
		count, err := r.count("entry count", 2)
		if err != nil {
			return nil, err
		}
		if count == 0 {
			return nil, r.corrupt(fmt.Sprintf("table %q with no entries", name))
		}
		start := r.off
		for range count {
			if _, _, err := r.entry(); err != nil {
				return nil, fmt.Errorf("table %q: %w", name, err)
			}
		}
		secs = append(secs, section{name: string(name), count: count, data: data[start:r.off]})
	}
	if r.off != len(data) {
		return nil, r.corrupt(fmt.Sprintf("%d trailing bytes", len(data)-r.off))
	}
	return secs, nil
}

// reader reads the snapshot format from the front of data.
type reader struct {
	data []byte
	off  int
}

func (r *reader) corrupt(what string) error {
	return fmt.Errorf("%s at byte %d: %w", what, r.off, ErrCorrupt)
}

func (r *reader) uvarint(what string) (uint64, error) {
	v, n := binary.Uvarint(r.data[r.off:])
	if n <= 0 {
		return 0, r.corrupt("bad " + what)
	}
	r.off += n
	return v, nil
}

// count reads a count of items that take at least minSize bytes each, and
// checks that enough bytes are left for them.
func (r *reader) count(what string, minSize int) (int, error) {
	at := r.off
	v, err := r.uvarint(what)
	if err != nil {
		return 0, err
	}
	if left := uint64(len(r.data) - r.off); v > left/uint64(minSize) {
		r.off = at
		return 0, r.corrupt(fmt.Sprintf("%s %d exceeds the %d bytes left", what, v, left))
	}
	return int(v), nil
}

func (r *reader) bytes(what string) ([]byte, error) {
	at := r.off
	l, err := r.uvarint(what + " length")
	if err != nil {
		return nil, err
	}
	if l > uint64(len(r.data)-r.off) {
		r.off = at
		return nil, r.corrupt("truncated " + what)
	}
	b := r.data[r.off : r.off+int(l)]
	r.off += int(l)
	return b, nil
}

// entry reads one length-prefixed key and one length-prefixed value.
func (r *reader) entry() (key, val []byte, err error) {
	if key, err = r.bytes("key"); err != nil {
		return nil, nil, err
	}
	if val, err = r.bytes("value"); err != nil {
		return nil, nil, err
	}
	return key, val, nil
}
