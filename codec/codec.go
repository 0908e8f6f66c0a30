// Package codec owns the serialization of user values: records that cross a
// subtask boundary, keys (whose bytes decide the key group) and state values
// in snapshots. Chained operators pass Go values and never touch a codec.
//
// A Codec appends its encoding to a buffer and decodes from the front of one,
// so that many values share one buffer without per-value allocations.
package codec

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
)

// ErrShort is returned when a buffer ends inside a value.
var ErrShort = errors.New("codec: buffer too short")

// Codec encodes and decodes values of type T.
type Codec[T any] interface {
	// Append appends the encoding of v to dst and returns the extended buffer.
	Append(dst []byte, v T) []byte
	// Decode decodes one value from the front of src and returns it with the
	// number of bytes it used.
	Decode(src []byte) (T, int, error)
}

// Int64 encodes an int64 as 8 bytes, big endian.
type Int64 struct{}

func (Int64) Append(dst []byte, v int64) []byte { return binary.BigEndian.AppendUint64(dst, uint64(v)) }
func (Int64) Decode(src []byte) (int64, int, error) {
	if len(src) < 8 {
		return 0, 0, ErrShort
	}
	return int64(binary.BigEndian.Uint64(src)), 8, nil
}

// Int encodes an int as 8 bytes, big endian.
type Int struct{}

func (Int) Append(dst []byte, v int) []byte { return binary.BigEndian.AppendUint64(dst, uint64(v)) }
func (Int) Decode(src []byte) (int, int, error) {
	if len(src) < 8 {
		return 0, 0, ErrShort
	}
	return int(binary.BigEndian.Uint64(src)), 8, nil
}

// Uint64 encodes a uint64 as 8 bytes, big endian.
type Uint64 struct{}

func (Uint64) Append(dst []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(dst, v) }
func (Uint64) Decode(src []byte) (uint64, int, error) {
	if len(src) < 8 {
		return 0, 0, ErrShort
	}
	return binary.BigEndian.Uint64(src), 8, nil
}

// Float64 encodes a float64 as its IEEE 754 bits, big endian.
type Float64 struct{}

func (Float64) Append(dst []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(v))
}
func (Float64) Decode(src []byte) (float64, int, error) {
	if len(src) < 8 {
		return 0, 0, ErrShort
	}
	return math.Float64frombits(binary.BigEndian.Uint64(src)), 8, nil
}

// Bool encodes a bool as one byte.
type Bool struct{}

func (Bool) Append(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}
func (Bool) Decode(src []byte) (bool, int, error) {
	if len(src) < 1 {
		return false, 0, ErrShort
	}
	return src[0] != 0, 1, nil
}

// String encodes a string as a uvarint length and its bytes.
type String struct{}

func (String) Append(dst []byte, v string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	return append(dst, v...)
}
func (String) Decode(src []byte) (string, int, error) {
	b, n, err := decodeBytes(src)
	return string(b), n, err
}

// Bytes encodes a byte slice as a uvarint length and its bytes. Decode copies.
type Bytes struct{}

func (Bytes) Append(dst []byte, v []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	return append(dst, v...)
}
func (Bytes) Decode(src []byte) ([]byte, int, error) {
	b, n, err := decodeBytes(src)
	if err != nil {
		return nil, 0, err
	}
	return append(make([]byte, 0, len(b)), b...), n, nil
}

func decodeBytes(src []byte) ([]byte, int, error) {
	l, n := binary.Uvarint(src)
	if n <= 0 {
		return nil, 0, ErrShort
	}
	if uint64(len(src)-n) < l {
		return nil, 0, ErrShort
	}
	end := n + int(l)
	return src[n:end], end, nil
}

// JSON encodes any value as a uvarint length and its JSON. It is the slow
// fallback for types with no better codec. It gives back only what JSON
// encodes: unexported fields and fields tagged `json:"-"` come back as zero
// values, interfaces as maps, slices and float64s. For uses it only for
// types where that loses nothing.
type JSON[T any] struct{}

func (JSON[T]) Append(dst []byte, v T) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// A type that cannot be marshalled is a programming error found the
		// first time a record crosses the network; name the type.
		panic(fmt.Sprintf("codec: JSON cannot encode %T: %v", v, err))
	}
	return Bytes{}.Append(dst, b)
}
func (JSON[T]) Decode(src []byte) (T, int, error) {
	var v T
	b, n, err := decodeBytes(src)
	if err != nil {
		return v, 0, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, 0, fmt.Errorf("codec: JSON decode %T: %w", v, err)
	}
	return v, n, nil
}

// Pair is a two-field record.
type Pair[A, B any] struct {
	First  A
	Second B
}

// PairCodec encodes a Pair with one codec per field.
type PairCodec[A, B any] struct {
	A Codec[A]
	B Codec[B]
}

func (c PairCodec[A, B]) Append(dst []byte, v Pair[A, B]) []byte {
	return c.B.Append(c.A.Append(dst, v.First), v.Second)
}
func (c PairCodec[A, B]) Decode(src []byte) (Pair[A, B], int, error) {
	a, n, err := c.A.Decode(src)
	if err != nil {
		return Pair[A, B]{}, 0, err
	}
	b, m, err := c.B.Decode(src[n:])
	if err != nil {
		return Pair[A, B]{}, 0, err
	}
	return Pair[A, B]{a, b}, n + m, nil
}

// For returns the built-in codec for T: a fixed encoding for int64, int,
// uint64, float64, bool, string and []byte, and JSON for everything else.
//
// JSON gives back only what it encodes, so For refuses, with a
// *FallbackError naming the type and the field, a type whose values it
// would not give back: interface types, and types with an unexported field,
// a field tagged `json:"-"`, an interface, channel, function or complex
// field, or a map with keys JSON cannot encode, anywhere in nested structs,
// pointers, slices, arrays and maps. A type that marshals itself
// (json.Marshaler or encoding.TextMarshaler, with the matching unmarshaler)
// is taken as it is. Give such types a Codec of their own.
func For[T any]() (Codec[T], error) {
	var zero T
	var c any
	switch any(zero).(type) {
	case int64:
		c = Int64{}
	case int:
		c = Int{}
	case uint64:
		c = Uint64{}
	case float64:
		c = Float64{}
	case bool:
		c = Bool{}
	case string:
		c = String{}
	case []byte:
		c = Bytes{}
	default:
		if err := checkJSON(reflect.TypeFor[T]()); err != nil {
			return nil, err
		}
		return JSON[T]{}, nil
	}
	return c.(Codec[T]), nil
}
