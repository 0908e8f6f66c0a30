package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The fuzz targets below cover the built-in codecs that
// FuzzStringDecode, FuzzSliceDecode and FuzzMapDecode do not: the bytes
// they decode arrive from other subtasks (records) and from checkpoints
// (state). Each checks that Decode never claims more bytes than it was
// given and that what it decodes encodes and decodes back to itself.

func FuzzBytesDecode(f *testing.F) {
	f.Add(Bytes{}.Append(nil, []byte("seed")))
	f.Add(binary.AppendUvarint(nil, 1<<40))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := Bytes{}.Decode(b)
		if err != nil {
			return
		}
		if n > len(b) || len(v) > n {
			t.Fatalf("decoded %d bytes using %d of %d", len(v), n, len(b))
		}
		if len(b) > 0 && len(v) > 0 && &v[0] == &b[n-len(v)] {
			t.Fatal("Decode returned the input's bytes, not a copy")
		}
		again, m, err := Bytes{}.Decode(Bytes{}.Append(nil, v))
		if err != nil || !bytes.Equal(again, v) {
			t.Fatalf("re-encoding of %x decodes as %x, %v", v, again, err)
		}
		if m > n {
			t.Fatalf("the canonical encoding (%d bytes) is longer than the input's (%d)", m, n)
		}
	})
}

// jsonRecord is a record type that goes through the JSON fallback.
type jsonRecord struct {
	Name   string
	Counts []int64
	Tags   map[string]float64
	Next   *jsonRecord
}

func FuzzJSONDecode(f *testing.F) {
	c := JSON[jsonRecord]{}
	f.Add(c.Append(nil, jsonRecord{Name: "a", Counts: []int64{1, 2}, Tags: map[string]float64{"x": 0.5}, Next: &jsonRecord{}}))
	f.Add(Bytes{}.Append(nil, []byte(`{"Name":"\ud800","Counts":null}`)))
	f.Add(Bytes{}.Append(nil, []byte(`{"Name":1}`)))
	f.Add(binary.AppendUvarint(nil, 1<<40))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := c.Decode(b)
		if err != nil {
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("used %d of %d bytes", n, len(b))
		}
		again, _, err := c.Decode(c.Append(nil, v))
		if err != nil {
			t.Fatalf("decode re-encoding of %+v: %v", v, err)
		}
		if diff := cmp.Diff(v, again); diff != "" {
			t.Fatalf("re-encoding (-first +second):\n%s", diff)
		}
	})
}

func FuzzPairDecode(f *testing.F) {
	c := PairCodec[string, int64]{A: String{}, B: Int64{}}
	f.Add(c.Append(nil, Pair[string, int64]{"k", -1}))
	f.Add([]byte{1, 'k', 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := c.Decode(b)
		if err != nil {
			if !errors.Is(err, ErrShort) {
				t.Fatalf("error %v does not wrap ErrShort", err)
			}
			return
		}
		if n > len(b) {
			t.Fatalf("used %d of %d bytes", n, len(b))
		}
		// Not always the same bytes: String's uvarint length may come
		// longer than the one Append writes.
		again, _, err := c.Decode(c.Append(nil, v))
		if err != nil || again != v {
			t.Fatalf("%+v re-encoded decodes as %+v, %v", v, again, err)
		}
	})
}
