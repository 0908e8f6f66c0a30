package state

import (
	"io"
	"strings"
	"testing"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/keygroup"
)

const maxP = 128

// kgOf returns the key group of an int64 key, as the stream package computes it.
func kgOf(k int64) keygroup.KeyGroup {
	return keygroup.OfBytes(codec.Int64{}.Append(nil, k), maxP)
}

func newInt64Table(t testing.TB, b *Backend, name string) *Table[int64, int64] {
	t.Helper()
	tab, err := NewTable[int64, int64](b, name, codec.Int64{}, codec.Int64{})
	if err != nil {
		t.Fatalf("NewTable(%q): %v", name, err)
	}
	return tab
}

func TestTableOperations(t *testing.T) {
	b := NewBackend(maxP, keygroup.Range{Start: 0, End: maxP - 1})
	tab := newInt64Table(t, b, "t")
	if _, ok := tab.Get(3, 1); ok {
		t.Fatal("Get on an empty table found a value")
	}
	tab.Put(3, 1, 10)
	tab.Put(3, 2, 20)
	tab.Put(5, 1, 50) // Same key, other key group: a separate entry.
	tab.Put(3, 1, 11)
	if v, ok := tab.Get(3, 1); !ok || v != 11 {
		t.Fatalf("Get(3, 1) = %d, %v; want 11, true", v, ok)
	}
	if v, ok := tab.Get(5, 1); !ok || v != 50 {
		t.Fatalf("Get(5, 1) = %d, %v; want 50, true", v, ok)
	}
	if got := tab.Len(); got != 3 {
		t.Fatalf("Len = %d, want 3", got)
	}
	seen := map[int64]int64{}
	tab.Range(3, func(k, v int64) bool { seen[k] = v; return true })
	if len(seen) != 2 || seen[1] != 11 || seen[2] != 20 {
		t.Fatalf("Range(3) saw %v", seen)
	}
	calls := 0
	tab.Range(3, func(int64, int64) bool { calls++; return false })
	if calls != 1 {
		t.Fatalf("Range did not stop when fn returned false: %d calls", calls)
	}
	tab.Range(3, func(k, _ int64) bool { tab.Delete(3, k); return true })
	tab.Delete(3, 99) // Absent: no-op.
	tab.Delete(7, 1)  // Never-used key group: no-op.
	if got := tab.Len(); got != 1 {
		t.Fatalf("Len after deletes = %d, want 1", got)
	}
	if _, ok := tab.Get(3, 1); ok {
		t.Fatal("deleted key still present")
	}
}

func TestTableKeyGroupOutsideRangePanics(t *testing.T) {
	b := NewBackend(maxP, keygroup.RangeFor(maxP, 4, 1)) // 32-63
	tab := newInt64Table(t, b, "t")
	for _, kg := range []keygroup.KeyGroup{31, 64, -1} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), "outside the owned range 32-63") {
					t.Errorf("Get(%d) recovered %v, want an owned-range panic", kg, r)
				}
			}()
			tab.Get(kg, 1)
		}()
	}
}

func TestNewTableErrors(t *testing.T) {
	b := NewBackend(maxP, keygroup.Range{Start: 0, End: maxP - 1})
	newInt64Table(t, b, "count")
	tests := []struct {
		name    string
		create  func() error
		wantErr string
	}{
		{"duplicate name", func() error {
			_, err := NewTable[string, string](b, "count", codec.String{}, codec.String{})
			return err
		}, `"count": name already registered`},
		{"empty name", func() error {
			_, err := NewTable[int64, int64](b, "", codec.Int64{}, codec.Int64{})
			return err
		}, "empty name"},
		{"nil codec", func() error {
			_, err := NewTable[int64, int64](b, "x", nil, codec.Int64{})
			return err
		}, "nil codec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.create()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestApproxBytes(t *testing.T) {
	b := NewBackend(maxP, keygroup.Range{Start: 0, End: maxP - 1})
	tab := newInt64Table(t, b, "t")
	if got := b.ApproxBytes(); got != 0 {
		t.Fatalf("ApproxBytes of empty backend = %d", got)
	}
	for k := range int64(1000) {
		tab.Put(kgOf(k), k, k)
	}
	if got := b.ApproxBytes(); got < 1000*16 {
		t.Fatalf("ApproxBytes before snapshot = %d, want at least the in-memory size 16000", got)
	}
	var sb strings.Builder
	if _, _, err := b.Snapshot(&sb); err != nil {
		t.Fatal(err)
	}
	// After a snapshot the estimate is the encoded size of the entries: all
	// of it but the table headers and key-group markers.
	if got, total := b.ApproxBytes(), int64(sb.Len()); got > total || got < total*9/10 {
		t.Fatalf("ApproxBytes after snapshot = %d, snapshot is %d bytes", got, total)
	}
}

func BenchmarkTableGetPut(b *testing.B) {
	const keys = 10_000
	be := NewBackend(maxP, keygroup.Range{Start: 0, End: maxP - 1})
	tab := newInt64Table(b, be, "t")
	kgs := make([]keygroup.KeyGroup, keys)
	for k := range int64(keys) {
		kgs[k] = kgOf(k)
		tab.Put(kgs[k], k, 0)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := int64(i % keys)
		kg := kgs[k]
		v, _ := tab.Get(kg, k)
		tab.Put(kg, k, v+1)
		i++
	}
}

func BenchmarkSnapshot(b *testing.B) {
	const entries = 1_000_000
	be := NewBackend(maxP, keygroup.Range{Start: 0, End: maxP - 1})
	tab := newInt64Table(b, be, "t")
	for k := range int64(entries) {
		tab.Put(kgOf(k), k, k)
	}
	offsets, _, err := be.Snapshot(io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(offsets[len(offsets)-1])
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := be.Snapshot(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReleaseLetsANewInstanceTakeOver checks local recovery's contract: a
// released backend's tables are declared again by the next operator
// instance, with their contents, and only with the same types.
func TestReleaseLetsANewInstanceTakeOver(t *testing.T) {
	b := NewBackend(8, keygroup.Range{Start: 0, End: 7})
	t1, err := NewTable(b, "count", codec.Int64{}, codec.Int64{})
	if err != nil {
		t.Fatal(err)
	}
	t1.Put(3, 42, 7)
	if _, err := NewTable(b, "count", codec.Int64{}, codec.Int64{}); err == nil {
		t.Fatal("declaring a claimed table twice must fail")
	}
	b.Release()
	if _, err := NewTable(b, "count", codec.String{}, codec.Int64{}); err == nil {
		t.Fatal("taking over a table with other key types must fail")
	}
	t2, err := NewTable(b, "count", codec.Int64{}, codec.Int64{})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := t2.Get(3, 42); !ok || v != 7 {
		t.Fatalf("taken-over table lost its contents: %v %v", v, ok)
	}
}
