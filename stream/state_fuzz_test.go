package stream

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tide-stream/tide/codec"
)

// A window operator's state (its windows, their accumulators, buffered
// records and trigger state) and a window join's buffered records come
// back from checkpoints: whatever the bytes, decoding them fails cleanly or
// gives a value that encodes and decodes back to itself, and a count the
// bytes cannot hold is refused before anything is allocated for it.

func FuzzWindowStateCodec(f *testing.F) {
	buffered := windowStateCodec[string, int64]{t: codec.String{}}
	incremental := windowStateCodec[string, int64]{t: codec.String{}, acc: codec.Int64{}}
	f.Add(buffered.Append(nil, &windowState[string, int64]{
		Elems:   []Element[string]{{Value: "a", Timestamp: 1}, {Value: "", Timestamp: -5}},
		Trigger: TriggerState[string]{N: 3, HasN: true, HasLast: true, Last: "z", LastTimestamp: 9},
	}))
	f.Add(incremental.Append(nil, &windowState[string, int64]{HasAcc: true, Acc: 42}))
	// A record count of 1<<62 in a few bytes.
	f.Add(append(binary.AppendUvarint([]byte{0}, 1<<62), 0, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, c := range []windowStateCodec[string, int64]{buffered, incremental} {
			s, n, err := c.Decode(b)
			if err != nil {
				continue
			}
			if n <= 0 || n > len(b) {
				t.Fatalf("used %d of %d bytes", n, len(b))
			}
			if cap(s.Elems) > len(b)/8 {
				t.Fatalf("%d records decoded from %d bytes: capacity %d", len(s.Elems), len(b), cap(s.Elems))
			}
			again, m, err := c.Decode(c.Append(nil, s))
			if err != nil {
				t.Fatalf("re-encoding of %+v does not decode: %v", s, err)
			}
			if m > n {
				t.Fatalf("the re-encoding (%d bytes) is longer than the input (%d)", m, n)
			}
			if diff := cmp.Diff(s, again, cmp.AllowUnexported(windowState[string, int64]{})); diff != "" {
				t.Fatalf("round trip (-first +second):\n%s", diff)
			}
		}
	})
}

func FuzzWindowCodec(f *testing.F) {
	f.Add(windowCodec{}.Append(nil, Window{Start: -10, End: 10}))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		w, n, err := windowCodec{}.Decode(b)
		if err != nil {
			return
		}
		if n != 16 || len(b) < 16 {
			t.Fatalf("used %d of %d bytes", n, len(b))
		}
		if enc := (windowCodec{}).Append(nil, w); string(enc) != string(b[:n]) {
			t.Fatalf("%x decodes as %+v, which encodes as %x", b[:n], w, enc)
		}
	})
}

func FuzzEitherCodec(f *testing.F) {
	c := eitherCodec[string, int64]{a: codec.String{}, b: codec.Int64{}}
	f.Add(c.Append(nil, either[string, int64]{a: "left"}))
	f.Add(c.Append(nil, either[string, int64]{b: -1, second: true}))
	f.Add([]byte{3})
	f.Add([]byte{2, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := c.Decode(b)
		if err != nil {
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("used %d of %d bytes", n, len(b))
		}
		again, _, err := c.Decode(c.Append(nil, v))
		if err != nil || again != v {
			t.Fatalf("%+v re-encoded decodes as %+v, %v", v, again, err)
		}
	})
}
