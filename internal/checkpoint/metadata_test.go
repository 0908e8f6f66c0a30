package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tide-stream/tide/internal/keygroup"
)

func validMetadata() *Metadata {
	return &Metadata{
		JobID:              "job-1",
		CheckpointID:       7,
		Attempt:            3,
		TimestampUnixMilli: 1700000000000,
		MaxParallelism:     128,
		Operators: []OperatorState{
			{
				OperatorID:  "count",
				Parallelism: 2,
				Keyed: []KeyedHandle{
					{Path: "job-1/chk-7/count-0", Range: keygroup.Range{Start: 0, End: 2}, Offsets: []int64{0, 10, 10, 25}, CRCs: []uint32{1, 0, 3}},
					{Path: "job-1/chk-7/count-1", Range: keygroup.Range{Start: 64, End: 64}, Offsets: []int64{0, 4}, CRCs: []uint32{9}},
				},
			},
			{OperatorID: "source", Parallelism: 1, List: [][]byte{[]byte("split-0"), {}}, SourcePosition: 42},
		},
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, m := range []*Metadata{
		validMetadata(),
		{JobID: "j", CheckpointID: 1, MaxParallelism: 1, Savepoint: true},
	} {
		b, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "TIDECKPT\x01") {
			t.Fatalf("frame starts %q", b[:9])
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(m, got); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
	}
}

func TestDecodeDetectsDamage(t *testing.T) {
	good, err := Encode(validMetadata())
	if err != nil {
		t.Fatal(err)
	}
	mod := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "shorter than"},
		{"magic", mod(func(b []byte) []byte { b[0] = 'X'; return b }), "bad magic"},
		{"version", mod(func(b []byte) []byte { b[8] = 9; return b }), "unsupported version 9"},
		{"truncated", good[:len(good)-1], "torn write"},
		{"extended", append(append([]byte(nil), good...), 0), "torn write"},
		{"length", mod(func(b []byte) []byte { binary.BigEndian.PutUint32(b[9:], 1<<31); return b }), "payload length"},
		{"bit flip", mod(func(b []byte) []byte { b[len(b)/2] ^= 4; return b }), "checksum mismatch"},
		{"crc", mod(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), "checksum mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.b)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode = %v, want ErrCorrupt containing %q", err, tc.want)
			}
		})
	}
}

// reframe encodes a payload with a valid frame, to test the semantic checks
// of Decode on metadata Encode would refuse.
func reframe(payload string) []byte {
	b := []byte(magic)
	b = append(b, Version)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	return binary.BigEndian.AppendUint32(b, Checksum(b))
}

func TestValidateInvariants(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(m *Metadata)
		want   string
	}{
		{"job id", func(m *Metadata) { m.JobID = "" }, "empty job id"},
		{"checkpoint id", func(m *Metadata) { m.CheckpointID = 0 }, "checkpoint id is 0"},
		{"max parallelism", func(m *Metadata) { m.MaxParallelism = 0 }, "max parallelism 0"},
		{"operator id", func(m *Metadata) { m.Operators[0].OperatorID = "" }, "empty id"},
		{"duplicate", func(m *Metadata) { m.Operators[1].OperatorID = "count" }, `duplicate operator "count"`},
		{"unsorted", func(m *Metadata) { m.Operators[0].OperatorID = "zzz" }, "not sorted"},
		{"parallelism", func(m *Metadata) { m.Operators[0].Parallelism = 129 }, "parallelism 129 out of range"},
		{"too many handles", func(m *Metadata) { m.Operators[0].Parallelism = 1 }, "2 keyed handles for parallelism 1"},
		{"range outside", func(m *Metadata) { m.Operators[0].Keyed[1].Range = keygroup.Range{Start: 128, End: 128} }, "inside [0, 128)"},
		{"empty range", func(m *Metadata) { m.Operators[0].Keyed[1].Range = keygroup.Range{Start: 5, End: 4} }, "non-empty range"},
		{"offsets length", func(m *Metadata) { m.Operators[0].Keyed[0].Offsets = []int64{0, 1} }, "2 offsets for 3 key groups, want 4"},
		{"offsets order", func(m *Metadata) { m.Operators[0].Keyed[0].Offsets[2] = 5 }, "key group 2 (5) is before the previous one (10)"},
		{"negative offset", func(m *Metadata) { m.Operators[0].Keyed[0].Offsets[0] = -1 }, "negative offset"},
		{"crcs", func(m *Metadata) { m.Operators[0].Keyed[0].CRCs = nil }, "0 CRCs for 3 key groups"},
		{"path", func(m *Metadata) { m.Operators[0].Keyed[0].Path = "" }, "empty path"},
		{"path up", func(m *Metadata) { m.Operators[0].Keyed[0].Path = "job-1/chk-7/../../other/chk-1/x" }, "not a plain relative key"},
		{"path up at the end", func(m *Metadata) { m.Operators[0].Keyed[0].Path = "job-1/.." }, "not a plain relative key"},
		{"absolute path", func(m *Metadata) { m.Operators[0].Keyed[0].Path = "/etc/passwd" }, "not a plain relative key"},
		{"empty element", func(m *Metadata) { m.Operators[0].Keyed[0].Path = "job-1//count-0" }, "not a plain relative key"},
		{"dot element", func(m *Metadata) { m.Operators[0].Keyed[0].Path = "./count-0" }, "not a plain relative key"},
		{"control character", func(m *Metadata) { m.Operators[0].Keyed[0].Path = "job-1/chk-7/\ncount-0" }, "control character"},
		{"backslash", func(m *Metadata) { m.Operators[0].Keyed[0].Path = `job-1\..\x` }, "backslash"},
		{"long path", func(m *Metadata) { m.Operators[0].Keyed[0].Path = strings.Repeat("a", 1025) }, "longer than 1024"},
		{"overlap", func(m *Metadata) {
			m.Operators[0].Keyed[1].Range = keygroup.Range{Start: 2, End: 2}
		}, "overlap"},
		{"source position", func(m *Metadata) { m.Operators[1].SourcePosition = -1 }, "negative source position"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := validMetadata()
			tc.mutate(m)
			if _, err := Encode(m); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Encode = %v, want ErrInvalid containing %q", err, tc.want)
			}
			// Decode applies the same checks to an intact frame.
			payload, _ := jsonOf(m)
			if _, err := Decode(reframe(payload)); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode = %v, want ErrInvalid containing %q", err, tc.want)
			}
		})
	}
	if _, err := Decode(reframe(`{"job_id":"j","checkpoint_id":1,"max_parallelism":1,"bogus":1}`)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown field: %v", err)
	}
	if _, err := Decode(reframe(`{"job_id":"j","checkpoint_id":1,"max_parallelism":1} {}`)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("trailing data: %v", err)
	}
}

// FuzzDecode feeds Decode arbitrary bytes and, when frame is set, arbitrary
// payloads in a valid frame, so that the fuzzer also reaches the JSON and
// invariant checks behind the checksum.
func FuzzDecode(f *testing.F) {
	for _, m := range []*Metadata{validMetadata(), {JobID: "j", CheckpointID: 1, MaxParallelism: 1}} {
		b, err := Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		payload, _ := jsonOf(m)
		f.Add([]byte(payload), true)
	}
	f.Add([]byte(`{"job_id":"j","checkpoint_id":1,"max_parallelism":4,"operators":[{"operator_id":"a","parallelism":1,"keyed":[{"path":"p","range":{"Start":3,"End":1},"offsets":[],"crcs":[]}]}]}`), true)
	f.Add([]byte("TIDECKPT"), false)
	f.Fuzz(func(t *testing.T, b []byte, frame bool) {
		if frame {
			b = reframe(string(b))
		}
		m, err := Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes must satisfy the invariants and re-encode.
		again, err := Encode(m)
		if err != nil {
			t.Fatalf("decoded metadata does not re-encode: %v", err)
		}
		if _, err := Decode(again); err != nil {
			t.Fatalf("re-encoded metadata does not decode: %v", err)
		}
		for _, op := range m.Operators {
			for _, h := range op.Keyed {
				for kg := h.Range.Start; kg <= h.Range.End; kg++ {
					if off, end, ok := h.KeyGroupBytes(kg); !ok || end < off {
						t.Fatalf("key group %d of %s: [%d,%d) ok=%v", kg, h.Path, off, end, ok)
					}
				}
			}
			for i := range op.Parallelism {
				_ = AssignKeyed(op.Keyed, keygroup.RangeFor(m.MaxParallelism, op.Parallelism, i))
				_ = AssignList(op.List, op.Parallelism, i)
			}
		}
	})
}

func TestKeyedHandleAccessors(t *testing.T) {
	h := validMetadata().Operators[0].Keyed[0]
	if off, end, ok := h.KeyGroupBytes(2); !ok || off != 10 || end != 25 {
		t.Fatalf("KeyGroupBytes(2) = %d, %d, %v", off, end, ok)
	}
	if _, _, ok := h.KeyGroupBytes(3); ok {
		t.Fatal("KeyGroupBytes outside the range succeeded")
	}
	if h.Size() != 25 {
		t.Fatalf("Size = %d", h.Size())
	}
	if Checksum([]byte("123456789")) != 0xe3069283 {
		t.Fatal("Checksum is not CRC-32C")
	}
}

func jsonOf(m *Metadata) (string, error) {
	b, err := json.Marshal(m)
	return string(b), err
}
