package throughput

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The text pipeline's stages (--work text). Every record is turned into
// the text line an upstream system would send ("key,value" in decimal),
// parsed back with strconv, filtered, and rendered as a result string: the
// allocations and conversions of a real stateless job, about a hundred
// nanoseconds per record. A hand-written loop calls the same functions.

// FormatLine renders r as a text line: "key,value" in decimal.
func FormatLine(r Record) string {
	var b [48]byte
	s := strconv.AppendInt(b[:0], r.Key, 10)
	s = append(s, ',')
	s = strconv.AppendInt(s, r.Value, 10)
	return string(s)
}

// errNoComma is DecodeLine's error for a line without a separator.
var errNoComma = errors.New("no comma")

// DecodeLine parses a line written by FormatLine.
func DecodeLine(line string) (Record, error) {
	k, v, ok := strings.Cut(line, ",")
	if !ok {
		return Record{}, fmt.Errorf("parse line %q: %w", line, errNoComma)
	}
	key, err := strconv.ParseInt(k, 10, 64)
	if err != nil {
		return Record{}, fmt.Errorf("parse line %q: key: %w", line, err)
	}
	val, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return Record{}, fmt.Errorf("parse line %q: value: %w", line, err)
	}
	return Record{Key: key, Value: val}, nil
}

// ParseLine is the Parse map: DecodeLine, with a malformed line or a
// negative key turned into Record{Key: -1}, which Valid drops (a Map
// cannot return an error).
func ParseLine(line string) Record {
	r, err := DecodeLine(line)
	if err != nil || r.Key < 0 {
		return Record{Key: -1}
	}
	return r
}

// Valid is the text pipeline's filter: it drops unparsable lines and about
// one record in sixteen (by a hash of the value, as Keep does).
func Valid(r Record) bool { return r.Key >= 0 && Keep(Scramble(r)) }

// Render formats the result string of a record: "key=K value=0xHEX".
func Render(r Record) string {
	var b [64]byte
	s := append(b[:0], "key="...)
	s = strconv.AppendInt(s, r.Key, 10)
	s = append(s, " value=0x"...)
	s = strconv.AppendUint(s, uint64(r.Value), 16)
	return string(s)
}

// Payload returns the n-byte value the keyed pipeline stores once per key
// with --state-bytes-per-key n: bytes derived from the key, so that a
// restored value can be checked and is not all zeros.
func Payload(key int64, n int) []byte {
	b := make([]byte, n)
	x := uint64(key)*0x9E3779B97F4A7C15 | 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}
