package filesink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Pending is a closed part that waits for its checkpoint to complete before
// it is committed.
type Pending struct {
	// Name is the part's base name, part-<attempt>-<subtask>-<seq>.
	Name string
	// Checkpoint is the id of the checkpoint whose barrier closed the part
	// (or a later one's, for parts pending when it was taken).
	Checkpoint uint64
}

// stateVersion is the first byte of an encoded state.
const stateVersion = 1

// maxNameLen bounds a part name in an encoded state; real names are at most
// 5+20+1+10+1+20 bytes.
const maxNameLen = 64

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeState encodes pending parts as one entry of the sink's operator list
// state:
//
//	version byte (1)
//	uvarint  number of entries
//	per entry: uvarint checkpoint, uvarint name length, name bytes
//	4 bytes  CRC-32C (little endian) of everything before
func encodeState(parts []Pending) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(parts)*40+4)
	b = append(b, stateVersion)
	b = binary.AppendUvarint(b, uint64(len(parts)))
	for _, p := range parts {
		b = binary.AppendUvarint(b, p.Checkpoint)
		b = binary.AppendUvarint(b, uint64(len(p.Name)))
		b = append(b, p.Name...)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// DecodeState decodes one subtask's transaction state, as returned by
// PreCommit. It verifies the checksum and that every name is a canonical
// part name, so a decoded name can never point outside the sink's
// directories.
func DecodeState(b []byte) ([]Pending, error) {
	if len(b) < 1+1+4 {
		return nil, fmt.Errorf("decode file sink state: %d bytes, want at least 6", len(b))
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if got := crc32.Checksum(body, castagnoli); got != sum {
		return nil, fmt.Errorf("decode file sink state: checksum %08x, want %08x", got, sum)
	}
	if body[0] != stateVersion {
		return nil, fmt.Errorf("decode file sink state: version %d, want %d", body[0], stateVersion)
	}
	r := body[1:]
	n, err := uvarint(&r)
	if err != nil {
		return nil, fmt.Errorf("decode file sink state: entry count: %w", err)
	}
	// Every entry takes at least 3 bytes, which bounds the allocation.
	if n > uint64(len(r))/3 {
		return nil, fmt.Errorf("decode file sink state: %d entries in %d bytes", n, len(r))
	}
	parts := make([]Pending, 0, n)
	for i := range n {
		cp, err := uvarint(&r)
		if err != nil {
			return nil, fmt.Errorf("decode file sink state: entry %d: checkpoint: %w", i, err)
		}
		l, err := uvarint(&r)
		if err != nil {
			return nil, fmt.Errorf("decode file sink state: entry %d: name length: %w", i, err)
		}
		if l > maxNameLen || l > uint64(len(r)) {
			return nil, fmt.Errorf("decode file sink state: entry %d: name length %d, %d bytes left", i, l, len(r))
		}
		name := string(r[:l])
		r = r[l:]
		if _, err := parsePartName(name); err != nil {
			return nil, fmt.Errorf("decode file sink state: entry %d: %w", i, err)
		}
		parts = append(parts, Pending{Name: name, Checkpoint: cp})
	}
	if len(r) != 0 {
		return nil, fmt.Errorf("decode file sink state: %d trailing bytes", len(r))
	}
	return parts, nil
}

var errVarint = errors.New("truncated or overlong varint")

// uvarint reads one uvarint from the front of *r and advances it.
func uvarint(r *[]byte) (uint64, error) {
	v, n := binary.Uvarint(*r)
	if n <= 0 {
		return 0, errVarint
	}
	*r = (*r)[n:]
	return v, nil
}
