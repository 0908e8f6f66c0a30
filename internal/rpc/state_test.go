package rpc

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/mem"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/keygroup"
)

// TestStateWireFormat pins the JSON of an acknowledgement and a restore:
// the wire format is declared here, so a field renamed in the coordinator
// cannot change it.
func TestStateWireFormat(t *testing.T) {
	h := checkpoint.KeyedHandle{Path: "j/chk-3/op-0-a1", Range: keygroup.Range{Start: 0, End: 1}, Offsets: []int64{0, 5, 9}, CRCs: []uint32{7, 8}}
	snaps := []checkpoint.OperatorSnapshot{{OperatorID: "op", Subtask: 1, Keyed: &h, List: [][]byte{[]byte("x")}, SourcePosition: 42}, {OperatorID: "sink"}}
	ack := Envelope{Ack: &CheckpointAck{Attempt: 2, Checkpoint: 3, Task: TaskKey{Vertex: "v", Subtask: 1}, Snapshots: WireSnapshots(snaps)}}
	got, err := json.Marshal(ack)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"ack":{"attempt":2,"checkpoint":3,"task":{"vertex":"v","subtask":1},"snapshots":[` +
		`{"operatorId":"op","subtask":1,"keyed":{"path":"j/chk-3/op-0-a1","range":{"start":0,"end":1},"offsets":[0,5,9],"crcs":[7,8]},"list":["eA=="],"sourcePosition":42},` +
		`{"operatorId":"sink","subtask":0}]}}`
	if string(got) != want {
		t.Fatalf("ack on the wire:\n%s\nwant\n%s", got, want)
	}
	var back Envelope
	if err := (Codec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(got)}, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(snaps, Snapshots(back.Ack.Snapshots)); diff != "" {
		t.Fatalf("snapshots after the round trip (-sent +received):\n%s", diff)
	}

	slices := checkpoint.AssignKeyed([]checkpoint.KeyedHandle{h}, keygroup.Range{Start: 1, End: 1})
	if diff := cmp.Diff(slices, Slices(WireSlices(slices))); diff != "" {
		t.Fatalf("restore slices after the round trip (-sent +received):\n%s", diff)
	}
	r := keygroup.Range{Start: 64, End: 127}
	if WireRange(r).KeyGroups() != r {
		t.Fatal("key-group range does not survive the wire")
	}
}

// FuzzEnvelope: whatever bytes arrive on a control stream, decoding them
// fails cleanly or yields an envelope whose state converts without panic.
func FuzzEnvelope(f *testing.F) {
	f.Add([]byte(`{"ack":{"attempt":2,"checkpoint":3,"task":{"vertex":"v","subtask":1},"snapshots":[{"operatorId":"op","keyed":{"range":{"start":5,"end":1},"offsets":[0]}}]}}`))
	f.Add([]byte(`{"deploy":{"attempt":1,"tasks":[{"task":{"vertex":"v"},"keyGroups":{"start":0,"end":127},"restore":[{"operatorId":"o","keyed":[{"handle":{},"range":{}}]}]}]}}`))
	f.Add([]byte(`{"taskStatus":{"state":"FAILED","domain":"user"}}`))
	f.Add([]byte(`{"addSplits":{"attempt":3,"task":{"vertex":"v"},"entries":["AQID"],"noMore":true}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Envelope
		if err := (Codec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, &e); err != nil {
			return
		}
		if e.Ack != nil {
			Snapshots(e.Ack.Snapshots)
		}
		if e.Deploy != nil {
			for _, td := range e.Deploy.Tasks {
				if r := td.KeyGroups.KeyGroups(); WireRange(r) != td.KeyGroups {
					t.Fatalf("key-group range %+v does not convert back", td.KeyGroups)
				}
				for _, r := range td.Restore {
					Slices(r.Keyed)
				}
			}
		}
		if _, err := (Codec{}).Marshal(&e); err != nil {
			t.Fatalf("a decoded envelope does not encode: %v", err)
		}
	})
}
