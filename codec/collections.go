package codec

import (
	"encoding/binary"
	"fmt"
)

// Slice encodes a []T as a uvarint element count followed by the elements,
// each encoded with Elem. It backs list state.
//
// Decode bounds its allocation by the input: every element is assumed to take
// at least one byte, so a count larger than the bytes left is an error rather
// than a huge allocation. Elem must therefore never encode a value to zero
// bytes. An empty slice decodes as nil.
type Slice[T any] struct {
	Elem Codec[T]
}

// Append appends the encoding of v to dst.
func (c Slice[T]) Append(dst []byte, v []T) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	for _, e := range v {
		dst = c.Elem.Append(dst, e)
	}
	return dst
}

// Decode decodes one slice from the front of src.
func (c Slice[T]) Decode(src []byte) ([]T, int, error) {
	count, n, err := decodeCount(src)
	if err != nil {
		return nil, 0, fmt.Errorf("codec: slice: %w", err)
	}
	if count == 0 {
		return nil, n, nil
	}
	out := make([]T, 0, count)
	for i := range count {
		e, m, err := c.Elem.Decode(src[n:])
		if err != nil {
			return nil, 0, fmt.Errorf("codec: slice element %d of %d: %w", i, count, err)
		}
		out = append(out, e)
		n += m
	}
	return out, n, nil
}

// Map encodes a map[K]V as a uvarint entry count followed by the entries,
// each a key encoded with Key and then a value encoded with Val. Entries are
// written in Go's map iteration order, so two encodings of one map may differ.
// It backs map state.
//
// Decode bounds its allocation by the input as Slice does (an entry must take
// at least one byte), and rejects a key that appears twice.
type Map[K comparable, V any] struct {
	Key Codec[K]
	Val Codec[V]
}

// Append appends the encoding of v to dst.
func (c Map[K, V]) Append(dst []byte, v map[K]V) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	for k, e := range v {
		dst = c.Key.Append(dst, k)
		dst = c.Val.Append(dst, e)
	}
	return dst
}

// Decode decodes one map from the front of src. The result is never nil.
func (c Map[K, V]) Decode(src []byte) (map[K]V, int, error) {
	count, n, err := decodeCount(src)
	if err != nil {
		return nil, 0, fmt.Errorf("codec: map: %w", err)
	}
	out := make(map[K]V, count)
	for i := range count {
		k, m, err := c.Key.Decode(src[n:])
		if err != nil {
			return nil, 0, fmt.Errorf("codec: map entry %d of %d: key: %w", i, count, err)
		}
		n += m
		v, m, err := c.Val.Decode(src[n:])
		if err != nil {
			return nil, 0, fmt.Errorf("codec: map entry %d of %d: value: %w", i, count, err)
		}
		n += m
		out[k] = v
		if len(out) != i+1 {
			return nil, 0, fmt.Errorf("codec: map entry %d of %d: duplicate key", i, count)
		}
	}
	return out, n, nil
}

// decodeCount reads a uvarint element count and checks that at least that
// many bytes follow it, so that callers may allocate count elements.
func decodeCount(src []byte) (count, n int, err error) {
	c, n := binary.Uvarint(src)
	if n <= 0 {
		return 0, 0, ErrShort
	}
	if rest := uint64(len(src) - n); c > rest {
		return 0, 0, fmt.Errorf("count %d exceeds the %d bytes left: %w", c, rest, ErrShort)
	}
	return int(c), n, nil
}
