package codec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func roundTrip[T any](t *testing.T, c Codec[T], vs ...T) {
	t.Helper()
	var buf []byte
	for _, v := range vs {
		buf = c.Append(buf, v)
	}
	var got []T
	for len(buf) > 0 {
		v, n, err := c.Decode(buf)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		got = append(got, v)
		buf = buf[n:]
	}
	if diff := cmp.Diff(vs, got); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
}

func TestRoundTrips(t *testing.T) {
	roundTrip[int64](t, For[int64](), 0, -1, 1<<62)
	roundTrip[int](t, For[int](), 0, -7, 42)
	roundTrip[string](t, For[string](), "", "a", "héllo")
	roundTrip[[]byte](t, For[[]byte](), []byte{1, 2}, []byte{})
	roundTrip[float64](t, For[float64](), 0.5, -3)
	roundTrip[bool](t, For[bool](), true, false)
	type rec struct {
		A int
		B string
	}
	roundTrip[rec](t, For[rec](), rec{1, "x"}, rec{})
	roundTrip[Pair[int64, string]](t, PairCodec[int64, string]{Int64{}, String{}}, Pair[int64, string]{3, "z"})
}

func TestShortBuffers(t *testing.T) {
	if _, _, err := (Int64{}).Decode([]byte{1, 2}); err != ErrShort {
		t.Fatalf("got %v", err)
	}
	b := String{}.Append(nil, "hello")
	if _, _, err := (String{}).Decode(b[:3]); err != ErrShort {
		t.Fatalf("got %v", err)
	}
}

func FuzzStringDecode(f *testing.F) {
	f.Add(String{}.Append(nil, "seed"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, n, err := String{}.Decode(b)
		if err != nil {
			return
		}
		if n > len(b) || len(s) > n {
			t.Fatalf("n=%d len=%d", n, len(b))
		}
	})
}
