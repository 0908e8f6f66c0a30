package codec

import (
	"reflect"
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

// must returns For's codec for T, failing the test if there is none.
func must[T any](t *testing.T) Codec[T] {
	t.Helper()
	c, err := For[T]()
	if err != nil {
		t.Fatalf("For[%v]: %v", reflect.TypeFor[T](), err)
	}
	return c
}

func TestRoundTrips(t *testing.T) {
	roundTrip[int64](t, must[int64](t), 0, -1, 1<<62)
	roundTrip[int](t, must[int](t), 0, -7, 42)
	roundTrip[string](t, must[string](t), "", "a", "héllo")
	roundTrip[[]byte](t, must[[]byte](t), []byte{1, 2}, []byte{})
	roundTrip[float64](t, must[float64](t), 0.5, -3)
	roundTrip[bool](t, must[bool](t), true, false)
	type rec struct {
		A int
		B string
	}
	roundTrip[rec](t, must[rec](t), rec{1, "x"}, rec{})
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
