package throughput

import (
	"encoding/binary"

	"github.com/tide-stream/tide/codec"
)

// Record is one generated record: 16 bytes on the wire.
type Record struct{ Key, Value int64 }

// RecordCodec encodes a Record in 16 bytes, big-endian.
type RecordCodec struct{}

// Append appends r's 16 bytes to dst.
func (RecordCodec) Append(dst []byte, r Record) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Key))
	return binary.BigEndian.AppendUint64(dst, uint64(r.Value))
}

// Decode reads one Record from the front of src.
func (RecordCodec) Decode(src []byte) (Record, int, error) {
	if len(src) < 16 {
		return Record{}, 0, codec.ErrShort
	}
	return Record{int64(binary.BigEndian.Uint64(src)), int64(binary.BigEndian.Uint64(src[8:]))}, 16, nil
}

// Generate returns record i of a job with the given number of keys.
func Generate(i, keys int64) Record { return Record{Key: i % keys, Value: i} }

// Scramble is the first Map: it mixes the value's bits (a Fibonacci hash
// followed by an xor-shift), so that Keep's decision is not periodic in i.
func Scramble(r Record) Record {
	v := uint64(r.Value) * 0x9E3779B97F4A7C15
	return Record{Key: r.Key, Value: int64(v ^ v>>29)}
}

// Keep is the Filter: it drops about one record in sixteen.
func Keep(r Record) bool { return r.Value&15 != 0 }

// Project is the second Map: it keeps the key and the value's high bits.
func Project(r Record) Record { return Record{Key: r.Key, Value: r.Value >> 8} }
