package main

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Binary codecs of the records and state of the Nexmark jobs. Without
// them codec.For would encode these structs as JSON wherever they cross a
// subtask boundary, which would measure encoding/json rather than Tide;
// Flink's SQL runtime likewise ships binary rows.

// fieldCodec is a codec.Codec built from an encoder and a decoder of
// fields: integers as varints, strings as a uvarint length and the bytes.
type fieldCodec[T any] struct {
	enc func(e *enc, v T)
	dec func(d *dec) T
}

func (c fieldCodec[T]) Append(dst []byte, v T) []byte {
	e := enc{b: dst}
	c.enc(&e, v)
	return e.b
}

func (c fieldCodec[T]) Decode(src []byte) (T, int, error) {
	d := dec{b: src}
	v := c.dec(&d)
	if d.err != nil {
		var zero T
		return zero, 0, fmt.Errorf("decode %T: %w", v, d.err)
	}
	return v, d.n, nil
}

type enc struct{ b []byte }

func (e *enc) int(v int64) { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

// dec reads fields from the front of b; the first error sticks and every
// later read returns a zero value.
type dec struct {
	b   []byte
	n   int
	err error
}

var errShort = errors.New("buffer ends inside a value")

func (d *dec) int() int64 {
	if d.err != nil {
		return 0
	}
	v, m := binary.Varint(d.b[d.n:])
	if m <= 0 {
		d.err = errShort
		return 0
	}
	d.n += m
	return v
}

func (d *dec) str() string {
	if d.err != nil {
		return ""
	}
	l, m := binary.Uvarint(d.b[d.n:])
	if m <= 0 || uint64(len(d.b)-d.n-m) < l {
		d.err = errShort
		return ""
	}
	s := string(d.b[d.n+m : d.n+m+int(l)])
	d.n += m + int(l)
	return s
}

// count reads a slice length, refusing one that the remaining bytes
// cannot hold (each element takes at least one byte).
func (d *dec) count() int {
	n := d.int()
	if n < 0 || n > int64(len(d.b)-d.n) {
		if d.err == nil {
			d.err = fmt.Errorf("bad element count %d", n)
		}
		return 0
	}
	return int(n)
}
