package codec

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSliceRoundTrip(t *testing.T) {
	roundTrip[[]int64](t, Slice[int64]{Int64{}}, []int64{1, -2, 3}, nil, []int64{1 << 40})
	roundTrip[[]string](t, Slice[string]{String{}}, []string{"a", "", "héllo"}, []string{"x"})
	nested := Slice[[]string]{Slice[string]{String{}}}
	roundTrip[[][]string](t, nested, [][]string{{"a"}, nil, {"b", "c"}})
}

func TestMapRoundTrip(t *testing.T) {
	c := Map[string, int64]{Key: String{}, Val: Int64{}}
	for _, m := range []map[string]int64{{}, {"a": 1}, {"a": 1, "b": -2, "": 3}} {
		b := c.Append([]byte{0xEE}, m)
		got, n, err := c.Decode(b[1:])
		if err != nil {
			t.Fatalf("decode %v: %v", m, err)
		}
		if n != len(b)-1 {
			t.Fatalf("decode %v used %d of %d bytes", m, n, len(b)-1)
		}
		if diff := cmp.Diff(m, got); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
	}
}

func TestCollectionDecodeErrors(t *testing.T) {
	huge := binary.AppendUvarint(nil, 1<<60)
	ints := Slice[int64]{Int64{}}
	strs := Map[string, string]{String{}, String{}}
	dup := binary.AppendUvarint(nil, 2)
	dup = String{}.Append(dup, "k")
	dup = String{}.Append(dup, "v1")
	dup = String{}.Append(dup, "k")
	dup = String{}.Append(dup, "v2")
	tests := []struct {
		name     string
		decode   func([]byte) error
		in       []byte
		errShort bool
	}{
		{"slice empty input", sliceDecoder(ints), nil, true},
		{"slice huge count", sliceDecoder(ints), huge, true},
		{"slice count beyond bytes", sliceDecoder(ints), []byte{3, 0, 0}, true},
		{"slice truncated element", sliceDecoder(ints), ints.Append(nil, []int64{1, 2})[:12], true},
		{"map empty input", mapDecoder(strs), nil, true},
		{"map huge count", mapDecoder(strs), huge, true},
		{"map truncated value", mapDecoder(strs), strs.Append(nil, map[string]string{"k": "value"})[:5], true},
		{"map duplicate key", mapDecoder(strs), dup, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode(tt.in)
			if err == nil {
				t.Fatal("decode succeeded, want error")
			}
			if got := errors.Is(err, ErrShort); got != tt.errShort {
				t.Fatalf("errors.Is(%v, ErrShort) = %v, want %v", err, got, tt.errShort)
			}
		})
	}
}

func sliceDecoder[T any](c Slice[T]) func([]byte) error {
	return func(b []byte) error { _, _, err := c.Decode(b); return err }
}

func mapDecoder[K comparable, V any](c Map[K, V]) func([]byte) error {
	return func(b []byte) error { _, _, err := c.Decode(b); return err }
}

func FuzzSliceDecode(f *testing.F) {
	c := Slice[string]{String{}}
	f.Add(c.Append(nil, []string{"a", "bc"}))
	f.Add(binary.AppendUvarint(nil, 1<<62))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := c.Decode(b)
		if err != nil {
			return
		}
		if n > len(b) || cap(v) > len(b) {
			t.Fatalf("n=%d cap=%d len=%d", n, cap(v), len(b))
		}
		got, _, err := c.Decode(c.Append(nil, v))
		if err != nil {
			t.Fatalf("decode re-encoding: %v", err)
		}
		if diff := cmp.Diff(v, got); diff != "" {
			t.Fatalf("re-encoding (-want +got):\n%s", diff)
		}
	})
}

func FuzzMapDecode(f *testing.F) {
	c := Map[string, int64]{String{}, Int64{}}
	f.Add(c.Append(nil, map[string]int64{"a": 1, "b": 2}))
	f.Add(binary.AppendUvarint(nil, 1<<62))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n, err := c.Decode(b)
		if err != nil {
			return
		}
		if n > len(b) {
			t.Fatalf("n=%d len=%d", n, len(b))
		}
		got, _, err := c.Decode(c.Append(nil, m))
		if err != nil {
			t.Fatalf("decode re-encoding: %v", err)
		}
		if diff := cmp.Diff(m, got); diff != "" {
			t.Fatalf("re-encoding (-want +got):\n%s", diff)
		}
	})
}
