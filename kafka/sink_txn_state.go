package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// preparedTxn is a transaction flushed at a checkpoint barrier and not yet
// known to be committed: one entry of an ExactlyOnce sink's list state.
type preparedTxn struct {
	// ID is the transactional id, "<prefix>-<attempt>-<subtask>-<n>".
	ID string
	// ProducerID and Epoch are the producer's when it was flushed; EndTxn
	// with them commits the transaction from any client.
	ProducerID int64
	Epoch      int16
	// Checkpoint is the checkpoint whose barrier prepared it: it commits
	// when that checkpoint (or a later one) completes.
	Checkpoint uint64
}

func (t preparedTxn) String() string {
	return fmt.Sprintf("%s (producer id %d, epoch %d, checkpoint %d)", t.ID, t.ProducerID, t.Epoch, t.Checkpoint)
}

// txnStateVersion is the first byte of an encoded preparedTxn.
const txnStateVersion = 1

// encode is version(1) checkpoint(8) producer id(8) epoch(2) id(rest).
func (t preparedTxn) encode() []byte {
	b := make([]byte, 0, 19+len(t.ID))
	b = append(b, txnStateVersion)
	b = binary.BigEndian.AppendUint64(b, t.Checkpoint)
	b = binary.BigEndian.AppendUint64(b, uint64(t.ProducerID))
	b = binary.BigEndian.AppendUint16(b, uint16(t.Epoch))
	return append(b, t.ID...)
}

func decodePreparedTxn(b []byte) (preparedTxn, error) {
	if len(b) < 20 || b[0] != txnStateVersion {
		return preparedTxn{}, fmt.Errorf("a transaction state entry of %d bytes (version %v) is not a Kafka sink's", len(b), firstByte(b))
	}
	return preparedTxn{
		Checkpoint: binary.BigEndian.Uint64(b[1:]),
		ProducerID: int64(binary.BigEndian.Uint64(b[9:])),
		Epoch:      int16(binary.BigEndian.Uint16(b[17:])),
		ID:         string(b[19:]),
	}, nil
}

func firstByte(b []byte) any {
	if len(b) == 0 {
		return "none"
	}
	return b[0]
}

// txnName is what a transactional id says: the attempt and subtask that
// opened it, and n, one more than the newest checkpoint barrier the
// subtask had passed (or restored) when it opened it. Every record in the
// transaction follows barrier n-1 in the subtask's input.
type txnName struct {
	attempt uint64
	subtask int
	n       uint64
}

func (n txnName) id(prefix string) string {
	return fmt.Sprintf("%s-%d-%d-%d", prefix, n.attempt, n.subtask, n.n)
}

var errNotOurs = errors.New("not a transactional id of this sink")

// parseTxnName parses id if it is "<prefix>-<attempt>-<subtask>-<n>".
func parseTxnName(prefix, id string) (txnName, error) {
	rest, ok := strings.CutPrefix(id, prefix+"-")
	if !ok {
		return txnName{}, errNotOurs
	}
	parts := strings.Split(rest, "-")
	if len(parts) != 3 {
		return txnName{}, errNotOurs
	}
	var nums [3]uint64
	for i, p := range parts {
		// The subtask is an int: 31 bits, so that no id names a negative one.
		bits := 64
		if i == 1 {
			bits = 31
		}
		v, err := strconv.ParseUint(p, 10, bits)
		if err != nil || strconv.FormatUint(v, 10) != p {
			return txnName{}, errNotOurs
		}
		nums[i] = v
	}
	return txnName{attempt: nums[0], subtask: int(nums[1]), n: nums[2]}, nil
}
