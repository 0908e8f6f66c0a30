package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// noStop is a split's stop offset when the source is not bounded.
const noStop = -1

// split is one partition a subtask reads, and its position. The reader's
// Poll goroutine owns it.
type split struct {
	topic     string
	partition int32
	// next is the offset of the next record to emit.
	next int64
	// stop is the offset the partition ends at in bounded mode (the end
	// offset at the job's first start), noStop otherwise.
	stop int64
	// emitted counts the records emitted from this partition since the
	// job's first start (for Position).
	emitted int64
	// id is the split's id for SourceOutput.Split: "topic-partition".
	id string
}

func newSplit(topic string, partition int32, next, stop, emitted int64) *split {
	return &split{topic: topic, partition: partition, next: next, stop: stop, emitted: emitted,
		id: topic + "-" + strconv.Itoa(int(partition))}
}

// finished says a bounded split has emitted everything up to its stop.
func (s *split) finished() bool { return s.stop != noStop && s.next >= s.stop }

// splitStateVersion is the first byte of an encoded split.
const splitStateVersion = 1

// encode returns the split's checkpoint entry: version, topic length
// (uvarint) and topic, then partition (4 bytes), next, stop and emitted (8
// bytes each), big-endian.
func (s *split) encode() []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(s.topic)+28)
	b = append(b, splitStateVersion)
	b = binary.AppendUvarint(b, uint64(len(s.topic)))
	b = append(b, s.topic...)
	b = binary.BigEndian.AppendUint32(b, uint32(s.partition))
	b = binary.BigEndian.AppendUint64(b, uint64(s.next))
	b = binary.BigEndian.AppendUint64(b, uint64(s.stop))
	return binary.BigEndian.AppendUint64(b, uint64(s.emitted))
}

var errBadSplit = errors.New("kafka: malformed split state")

// decodeSplit parses an entry written by encode.
func decodeSplit(b []byte) (*split, error) {
	if len(b) == 0 || b[0] != splitStateVersion {
		return nil, fmt.Errorf("%w: unknown version", errBadSplit)
	}
	n, w := binary.Uvarint(b[1:])
	if w <= 0 || n > uint64(len(b)) {
		return nil, fmt.Errorf("%w: bad topic length", errBadSplit)
	}
	rest := b[1+w:]
	if uint64(len(rest)) != n+28 {
		return nil, fmt.Errorf("%w: %d bytes after the topic length, want %d", errBadSplit, len(rest), n+28)
	}
	topic, rest := string(rest[:n]), rest[n:]
	p := int32(binary.BigEndian.Uint32(rest))
	next := int64(binary.BigEndian.Uint64(rest[4:]))
	stop := int64(binary.BigEndian.Uint64(rest[12:]))
	emitted := int64(binary.BigEndian.Uint64(rest[20:]))
	if topic == "" || p < 0 || next < 0 || (stop < 0 && stop != noStop) || emitted < 0 {
		return nil, fmt.Errorf("%w: topic %q partition %d next %d stop %d emitted %d out of range", errBadSplit, topic, p, next, stop, emitted)
	}
	return newSplit(topic, p, next, stop, emitted), nil
}
