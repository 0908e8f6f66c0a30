package state

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/keygroup"
)

// image is one subtask's snapshot with its index, as a checkpoint stores it.
type image struct {
	r       keygroup.Range
	data    []byte
	offsets []int64
	crcs    []uint32
}

func snapshot(t testing.TB, b *Backend) image {
	t.Helper()
	var buf bytes.Buffer
	offsets, crcs, err := b.Snapshot(&buf)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	r := b.Range()
	if len(offsets) != r.Len()+1 || len(crcs) != r.Len() || offsets[0] != 0 || offsets[r.Len()] != int64(buf.Len()) {
		t.Fatalf("Snapshot index: %d offsets, %d crcs, first %d, last %d, %d bytes written",
			len(offsets), len(crcs), offsets[0], offsets[len(offsets)-1], buf.Len())
	}
	return image{r: r, data: buf.Bytes(), offsets: offsets, crcs: crcs}
}

func (im image) group(kg keygroup.KeyGroup) ([]byte, uint32) {
	i := int(kg - im.r.Start)
	return im.data[im.offsets[i]:im.offsets[i+1]], im.crcs[i]
}

// restoreFrom loads every key group of b's range from the image that holds it.
func restoreFrom(t testing.TB, b *Backend, ims ...image) {
	t.Helper()
	r := b.Range()
	for kg := r.Start; kg <= r.End; kg++ {
		found := false
		for _, im := range ims {
			if im.r.Contains(kg) {
				data, crc := im.group(kg)
				if err := b.RestoreKeyGroup(kg, data, crc); err != nil {
					t.Fatalf("RestoreKeyGroup(%d): %v", kg, err)
				}
				found = true
			}
		}
		if !found {
			t.Fatalf("no image holds key group %d", kg)
		}
	}
}

// contents returns every entry of a table over the backend's range.
func contents[K comparable, V any](b *Backend, tab *Table[K, V]) map[K]V {
	out := map[K]V{}
	for kg := b.Range().Start; kg <= b.Range().End; kg++ {
		tab.Range(kg, func(k K, v V) bool { out[k] = v; return true })
	}
	return out
}

var listCodec = codec.Slice[string]{Elem: codec.String{}}

// lists registers the table "lists", which holds list state.
func lists(t *testing.T, b *Backend) *Table[string, []string] {
	t.Helper()
	tab, err := NewTable[string, []string](b, "lists", codec.String{}, listCodec)
	if err != nil {
		t.Fatalf("NewTable(lists): %v", err)
	}
	return tab
}

func listKey(k int64) string { return fmt.Sprintf("key-%d", k) }

func TestRescaleRoundTrip(t *testing.T) {
	const keys = 3000
	wantCounts := map[int64]int64{}
	wantLists := map[string][]string{}
	one := NewBackend(maxP, keygroup.RangeFor(maxP, 1, 0))
	counts, ls := newInt64Table(t, one, "count"), lists(t, one)
	for k := range int64(keys) {
		counts.Put(kgOf(k), k, k*k)
		wantCounts[k] = k * k
		if k%3 == 0 {
			s := listKey(k)
			v := []string{s, strings.Repeat("x", int(k%300))} // Some values need 2-byte length prefixes.
			ls.Put(keygroup.OfBytes([]byte(s), maxP), s, v)
			wantLists[s] = v
		}
	}
	ims := []image{snapshot(t, one)}

	for _, p := range []int{2, 3, 1} {
		t.Run(fmt.Sprintf("p=%d", p), func(t *testing.T) {
			gotCounts := map[int64]int64{}
			gotLists := map[string][]string{}
			var next []image
			for i := range p {
				b := NewBackend(maxP, keygroup.RangeFor(maxP, p, i))
				c := newInt64Table(t, b, "count") // Registered before restore.
				restoreFrom(t, b, ims...)
				l := lists(t, b) // Registered after restore: decodes pending bytes.
				for k, v := range contents(b, c) {
					if _, dup := gotCounts[k]; dup {
						t.Fatalf("key %d restored in two subtasks", k)
					}
					if !b.Range().Contains(kgOf(k)) {
						t.Fatalf("key %d (key group %d) restored in subtask %d with range %v", k, kgOf(k), i, b.Range())
					}
					gotCounts[k] = v
				}
				for k, v := range contents(b, l) {
					if _, dup := gotLists[k]; dup {
						t.Fatalf("key %q restored in two subtasks", k)
					}
					gotLists[k] = v
				}
				next = append(next, snapshot(t, b))
			}
			if diff := cmp.Diff(wantCounts, gotCounts); diff != "" {
				t.Fatalf("counts at p=%d (-want +got):\n%s", p, diff)
			}
			if diff := cmp.Diff(wantLists, gotLists); diff != "" {
				t.Fatalf("lists at p=%d (-want +got):\n%s", p, diff)
			}
			ims = next // The next parallelism restores from this one.
		})
	}
}

func TestSnapshotFormat(t *testing.T) {
	b := NewBackend(maxP, keygroup.Range{Start: 4, End: 6})
	tab := newInt64Table(t, b, "t")
	strs, err := NewTable[string, string](b, "s", codec.String{}, codec.String{})
	if err != nil {
		t.Fatal(err)
	}
	tab.Put(4, 1, 2)
	strs.Put(4, "k", "v")
	tab.Put(6, 3, 4)
	tab.Put(6, 5, 6)
	tab.Delete(6, 5)
	im := snapshot(t, b)
	want := [][]byte{
		// Key group 4: two tables, sorted by name.
		{2,
			1, 's', 1, 2, 1, 'k', 2, 1, 'v',
			1, 't', 1, 8, 0, 0, 0, 0, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0, 0, 0, 2},
		{0}, // Key group 5: empty.
		{1, 1, 't', 1, 8, 0, 0, 0, 0, 0, 0, 0, 3, 8, 0, 0, 0, 0, 0, 0, 0, 4},
	}
	for i, w := range want {
		kg := keygroup.KeyGroup(4 + i)
		got, crc := im.group(kg)
		if !bytes.Equal(got, w) {
			t.Errorf("key group %d: got % x, want % x", kg, got, w)
		}
		if want := crc32.Checksum(w, crc32.MakeTable(crc32.Castagnoli)); crc != want {
			t.Errorf("key group %d: crc %08x, want %08x", kg, crc, want)
		}
	}
}

func TestLongValuesRoundTrip(t *testing.T) {
	b := NewBackend(maxP, keygroup.Range{Start: 0, End: 0})
	tab, err := NewTable[string, string](b, "t", codec.String{}, codec.String{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, n := range []int{0, 126, 127, 128, 200, 16383, 16384, 70000} {
		k := fmt.Sprint(n)
		want[k] = strings.Repeat("v", n)
		tab.Put(0, k, want[k])
	}
	im := snapshot(t, b)
	b2 := NewBackend(maxP, keygroup.Range{Start: 0, End: 0})
	restoreFrom(t, b2, im)
	tab2, err := NewTable[string, string](b2, "t", codec.String{}, codec.String{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, contents(b2, tab2)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}
