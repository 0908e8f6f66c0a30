package kafka

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// The source's split entries and the exactly-once sink's transaction
// entries come back from checkpoints (operator list state), and the
// transactional ids parseTxnName reads come from the brokers: none of them
// may panic a subtask or decode as a value that does not encode back.

func FuzzDecodeSplit(f *testing.F) {
	f.Add(newSplit("numbers", 0, 0, noStop, 0).encode())
	f.Add(newSplit("a.b_c-d", 17, 1<<40, 1<<41, 12345).encode())
	f.Add(SplitState("t", 3, 5, -1))
	// A topic length of 1<<62 in a 12-byte entry.
	f.Add(append(binary.AppendUvarint([]byte{splitStateVersion}, 1<<62), 't', 0, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSplit(b)
		if err != nil {
			return
		}
		if s.topic == "" || s.partition < 0 || s.next < 0 || s.emitted < 0 || (s.stop < 0 && s.stop != noStop) {
			t.Fatalf("decoded an out-of-range split %+v", *s)
		}
		// The topic length is a uvarint, which may come longer than the one
		// encode writes: compare values, not bytes.
		again, err := decodeSplit(s.encode())
		if err != nil {
			t.Fatalf("re-encoding of %+v does not decode: %v", *s, err)
		}
		if *again != *s {
			t.Fatalf("round trip: %+v, then %+v", *s, *again)
		}
	})
}

func FuzzDecodePreparedTxn(f *testing.F) {
	f.Add(preparedTxn{ID: "p-1-2-3", ProducerID: 99, Epoch: 7, Checkpoint: 42}.encode())
	f.Add(preparedTxn{}.encode())
	f.Add([]byte{txnStateVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := decodePreparedTxn(b)
		if err != nil {
			return
		}
		if enc := tx.encode(); !bytes.Equal(enc, b) {
			t.Fatalf("%x decodes as %v, which encodes as %x", b, tx, enc)
		}
	})
}

func FuzzParseTxnName(f *testing.F) {
	f.Add("p", "p-3-1-17")
	f.Add("my-job", "my-job-3-1-17")
	f.Add("p", "p-3-01-1")
	f.Add("p", "p-1-18446744073709551615-1")
	f.Add("", "-1-2-3")
	f.Fuzz(func(t *testing.T, prefix, id string) {
		tn, err := parseTxnName(prefix, id)
		if err != nil {
			if err != errNotOurs {
				t.Fatalf("parseTxnName(%q, %q) = %v, want errNotOurs", prefix, id, err)
			}
			return
		}
		// Only the canonical form is ours: the name must say exactly the id.
		if got := tn.id(prefix); got != id {
			t.Fatalf("parseTxnName(%q, %q) = %+v, which names %q", prefix, id, tn, got)
		}
		if tn.subtask < 0 {
			t.Fatalf("parseTxnName(%q, %q): negative subtask %d", prefix, id, tn.subtask)
		}
	})
}
