package state

import (
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/keygroup"
)

// filled returns a backend over all key groups whose table "t" maps k to
// -k for k in [0, keys).
func filled(t testing.TB, keys int64) (*Backend, *Table[int64, int64]) {
	t.Helper()
	b := NewBackend(maxP, keygroup.Range{Start: 0, End: maxP - 1})
	tab := newInt64Table(t, b, "t")
	for k := range keys {
		tab.Put(kgOf(k), k, -k)
	}
	return b, tab
}

// want returns the entries of filled(keys) whose key group lies in r.
func want(keys int64, r keygroup.Range) map[int64]int64 {
	out := map[int64]int64{}
	for k := range keys {
		if r.Contains(kgOf(k)) {
			out[k] = -k
		}
	}
	return out
}

func TestSetRange(t *testing.T) {
	const keys = 2000
	tests := []struct {
		name  string
		steps []keygroup.Range
	}{
		{"shrink to middle", []keygroup.Range{keygroup.RangeFor(maxP, 3, 1)}},
		{"shrink to first", []keygroup.Range{keygroup.RangeFor(maxP, 2, 0)}},
		{"shrink to last", []keygroup.Range{keygroup.RangeFor(maxP, 5, 4)}},
		{"shrink then grow", []keygroup.Range{{Start: 40, End: 50}, {Start: 30, End: 60}}},
		{"shift", []keygroup.Range{{Start: 0, End: 63}, {Start: 32, End: 95}}},
		{"empty", []keygroup.Range{{Start: 0, End: -1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, tab := filled(t, keys)
			kept := keygroup.Range{Start: 0, End: maxP - 1}
			for _, r := range tt.steps {
				b.SetRange(r)
				kept = kept.Intersect(r)
			}
			if got := b.Range(); got != tt.steps[len(tt.steps)-1] {
				t.Fatalf("Range = %v, want %v", got, tt.steps[len(tt.steps)-1])
			}
			if diff := cmp.Diff(want(keys, kept), contents(b, tab)); diff != "" {
				t.Fatalf("entries after SetRange (-want +got):\n%s", diff)
			}
			if got, w := tab.Len(), len(want(keys, kept)); got != w {
				t.Fatalf("Len = %d, want %d", got, w)
			}
			// Key groups new in the range are usable.
			if r := b.Range(); r.Len() > 0 {
				tab.Put(r.End, -1, 1)
				if v, ok := tab.Get(r.End, -1); !ok || v != 1 {
					t.Fatalf("Get after Put in key group %d = %d, %v", r.End, v, ok)
				}
			}
		})
	}
}

func TestSetRangeDropsPending(t *testing.T) {
	src, _ := filled(t, 500)
	im := snapshot(t, src)
	b := NewBackend(maxP, keygroup.Range{Start: 0, End: maxP - 1})
	restoreFrom(t, b, im)
	if b.ApproxBytes() == 0 {
		t.Fatal("ApproxBytes does not count pending bytes")
	}
	r := keygroup.RangeFor(maxP, 4, 2)
	b.SetRange(r)
	tab := newInt64Table(t, b, "t")
	if diff := cmp.Diff(want(500, r), contents(b, tab)); diff != "" {
		t.Fatalf("entries (-want +got):\n%s", diff)
	}
}

func TestPendingWrittenBackBySnapshot(t *testing.T) {
	src, _ := filled(t, 500)
	b := NewBackend(maxP, keygroup.Range{Start: 0, End: maxP - 1})
	other := newInt64Table(t, b, "other") // Registered, sorts before "t".
	restoreFrom(t, b, snapshot(t, src))
	other.Put(kgOf(7), 7, 7)
	// "t" was never registered: its bytes must survive a checkpoint.
	b2 := NewBackend(maxP, keygroup.Range{Start: 0, End: maxP - 1})
	restoreFrom(t, b2, snapshot(t, b))
	tab := newInt64Table(t, b2, "t")
	if diff := cmp.Diff(want(500, b2.Range()), contents(b2, tab)); diff != "" {
		t.Fatalf("entries (-want +got):\n%s", diff)
	}
	other2 := newInt64Table(t, b2, "other")
	if diff := cmp.Diff(map[int64]int64{7: 7}, contents(b2, other2)); diff != "" {
		t.Fatalf("other (-want +got):\n%s", diff)
	}
}

func TestRestoreReplacesKeyGroup(t *testing.T) {
	b, tab := filled(t, 500)
	kg := kgOf(1)
	before := tab.Len()
	n := len(want(500, keygroup.Range{Start: kg, End: kg}))
	if err := b.RestoreKeyGroup(kg, []byte{0}, crc32.Checksum([]byte{0}, castagnoli)); err != nil {
		t.Fatal(err)
	}
	if _, ok := tab.Get(kg, 1); ok {
		t.Fatal("restoring an empty key group kept its entries")
	}
	if got := tab.Len(); got != before-n {
		t.Fatalf("Len = %d, want %d", got, before-n)
	}
}

func TestRestoreErrors(t *testing.T) {
	src, _ := filled(t, 500)
	im := snapshot(t, src)
	kg := kgOf(1)
	for k := int64(2); kg >= 64; k++ { // In the range of RangeFor(maxP, 2, 0).
		kg = kgOf(k)
	}
	good, goodCRC := im.group(kg)
	entry := []byte{8, 0, 0, 0, 0, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0, 0, 0, 2}
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	// Each case passes the CRC of its data, except with staleCRC, where it
	// passes the one the snapshot recorded for good.
	tests := []struct {
		name     string
		kg       keygroup.KeyGroup
		data     []byte
		staleCRC bool
		corrupt  bool
		wantErr  string
	}{
		{"flipped byte", kg, flip(good, 5), true, true, "crc"},
		{"truncated, crc of the whole", kg, good[:len(good)-1], true, true, "crc"},
		{"outside range", 100, good, true, false, "outside the owned range 0-63"},
		{"empty input", kg, nil, false, true, "bad table count"},
		{"huge table count", kg, []byte{0xff, 0xff, 0x7f}, false, true, "table count 2097151 exceeds"},
		{"truncated", kg, good[:len(good)-1], false, true, "truncated value"},
		{"trailing bytes", kg, cat(good, []byte{0}), false, true, "1 trailing bytes"},
		{"tables out of order", kg, cat([]byte{2, 1, 'b', 1}, entry, []byte{1, 'a', 1}, entry), false, true,
			`table "a" out of order after "b"`},
		{"table with no entries", kg, []byte{1, 1, 'x', 0}, false, true, "no entries"},
		{"empty table name", kg, cat([]byte{1, 0, 1}, entry), false, true, "empty table name"},
		{"duplicate key", kg, cat([]byte{1, 1, 't', 2}, entry, entry), false, true, "duplicate key"},
		{"value codec leaves bytes", kg, cat([]byte{1, 1, 't', 1}, entry[:9], []byte{9}, entry[10:], []byte{0}), false, false,
			"decode value: codec used 8 of 9 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBackend(maxP, keygroup.RangeFor(maxP, 2, 0))
			tab := newInt64Table(t, b, "t")
			tab.Put(kg, 1, 42)
			data, crc := tt.data, crc32.Checksum(tt.data, castagnoli)
			if tt.staleCRC {
				crc = goodCRC
			}
			err := b.RestoreKeyGroup(tt.kg, data, crc)
			if err == nil {
				t.Fatal("RestoreKeyGroup succeeded")
			}
			if errors.Is(err, ErrCorrupt) != tt.corrupt {
				t.Fatalf("errors.Is(%v, ErrCorrupt) = %v, want %v", err, !tt.corrupt, tt.corrupt)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("key group %d:", tt.kg)) {
				t.Fatalf("error %q does not name key group %d", err, tt.kg)
			}
			if v, ok := tab.Get(kg, 1); !ok || v != 42 {
				t.Fatalf("failed restore changed the table: Get = %d, %v", v, ok)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	out := append([]byte{}, b...)
	out[i] ^= 0x10
	return out
}

func TestPendingDecodeError(t *testing.T) {
	src, _ := filled(t, 500)
	b := NewBackend(maxP, keygroup.Range{Start: 0, End: maxP - 1})
	restoreFrom(t, b, snapshot(t, src))
	// The values were written as 8-byte int64s; a bool codec reads 1 byte.
	_, err := NewTable[int64, bool](b, "t", codec.Int64{}, codec.Bool{})
	first := kgOf(0)
	for k := range int64(500) {
		first = min(first, kgOf(k))
	}
	if err == nil || !strings.Contains(err.Error(), `table "t"`) ||
		!strings.Contains(err.Error(), fmt.Sprintf("key group %d:", first)) {
		t.Fatalf("NewTable with the wrong codec: %v; want an error naming table t and key group %d", err, first)
	}
	// The failed registration changed nothing: the right codec still works.
	tab := newInt64Table(t, b, "t")
	if diff := cmp.Diff(want(500, b.Range()), contents(b, tab)); diff != "" {
		t.Fatalf("entries (-want +got):\n%s", diff)
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, errors.New("disk full")
	}
	w.n--
	return len(p), nil
}

func TestSnapshotWriteError(t *testing.T) {
	b, _ := filled(t, 20000) // Big enough for several flushes.
	for n := range 3 {
		if _, _, err := b.Snapshot(&failingWriter{n: n}); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("Snapshot with a writer failing after %d writes: %v", n, err)
		}
	}
}

func FuzzRestoreKeyGroup(f *testing.F) {
	src, _ := filled(f, 300)
	im := snapshot(f, src)
	for kg := keygroup.KeyGroup(0); kg < 8; kg++ {
		data, _ := im.group(kg)
		f.Add(data)
	}
	f.Add([]byte{0})
	f.Add([]byte{2, 1, 'a', 1, 1, 0, 1, 0, 1, 'b', 1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		b := NewBackend(maxP, keygroup.Range{Start: 0, End: 0})
		known, err := NewTable[string, []string](b, "a", codec.String{}, listCodec)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.RestoreKeyGroup(0, data, crc32.Checksum(data, castagnoli)); err != nil {
			return
		}
		// Whatever was accepted survives a snapshot and restore unchanged,
		// and pending tables can be registered without a panic.
		b2 := NewBackend(maxP, keygroup.Range{Start: 0, End: 0})
		known2, err := NewTable[string, []string](b2, "a", codec.String{}, listCodec)
		if err != nil {
			t.Fatal(err)
		}
		restoreFrom(t, b2, snapshot(t, b))
		if diff := cmp.Diff(contents(b, known), contents(b2, known2)); diff != "" {
			t.Fatalf("table a after a round trip (-want +got):\n%s", diff)
		}
		for _, name := range []string{"b", "t"} {
			if tab, err := NewTable[int64, int64](b2, name, codec.Int64{}, codec.Int64{}); err == nil {
				tab.Len()
			}
		}
	})
}
