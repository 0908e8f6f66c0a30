package rpc

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/grpc/mem"
)

// envelopeSeeds holds one envelope of every message type, each field set,
// so that the fuzzer starts from the shape of every message.
var envelopeSeeds = []Envelope{
	{Register: &Register{ResourceID: "tm-1", Version: "v1", Slots: 2, DataAddr: "10.0.0.1:6121", Host: "h", PID: 7,
		CPUCores: 1.5, PhysicalMemory: 1 << 30, MemoryLimit: -1, LastJobID: "0123456789abcdef0123456789abcdef", LastAttempt: 3}},
	{HeartbeatReply: &HeartbeatReply{Seq: 9}},
	{TaskStatus: &TaskStatus{Attempt: 1, Task: TaskKey{Vertex: "v", Subtask: 2}, State: TaskFailed, Error: "boom",
		Domain: DomainUser, SourceDone: true, FirstRecordUnixNano: 1, LastRecordUnixNano: 2, SourcePosition: 3, RestoredBytes: 4, LocalKeyGroups: 5}},
	{Ack: &CheckpointAck{Attempt: 2, Checkpoint: 3, Task: TaskKey{Vertex: "v", Subtask: 1}, Snapshots: []OperatorSnapshot{{
		OperatorID: "op", Subtask: 1, List: [][]byte{[]byte("x"), {}}, SourcePosition: 42,
		Keyed: &KeyedHandle{Path: "j/chk-3/op-1-a2", Range: KeyGroupRange{Start: 0, End: 1}, Offsets: []int64{0, 5, 9}, CRCs: []uint32{7, 8}}}}}},
	{Decline: &CheckpointDecline{Attempt: 2, Checkpoint: 3, Task: TaskKey{Vertex: "v"}, Reason: "overtaken"}},
	{Leaving: &Leaving{Reason: "SIGTERM"}},
	{PeerLost: &PeerLost{DataAddr: "10.0.0.2:6121", Error: "EOF"}},
	{Metrics: &Metrics{Attempt: 1, Tasks: []TaskSample{{Task: TaskKey{Vertex: "v"}, UptimeNs: 1, IdleNs: 2, BackPressuredNs: 3,
		RecordsIn: 4, SourcePosition: 5, RecordsOut: 6, PendingRecords: -1}}, Process: &ProcessSample{CPUNs: 1, MemoryLimit: -1}}},
	{Registered: &Registered{RegistrationID: "tm-1#1", Incarnation: "i", JobID: "j", JobName: "n", JobArgs: []string{"--a"},
		PlanDigest: "d", MaxParallelism: 128, Config: map[string]string{"k": "v"}, HeartbeatTimeoutMs: 5000}},
	{Refused: &Refused{Reason: "version", Retry: true}},
	{Heartbeat: &Heartbeat{Seq: 9}},
	{Deploy: &Deploy{Attempt: 1, Parallelism: map[string]int{"v": 2}, Placements: []Placement{{Vertex: "v", DataAddrs: []string{"a:1", "b:2"}}},
		Tasks: []TaskDeployment{{Task: TaskKey{Vertex: "v", Subtask: 1}, KeyGroups: KeyGroupRange{Start: 64, End: 127},
			Restore: []OperatorRestore{{OperatorID: "op", List: [][]byte{[]byte("s")}, SourcePosition: 1,
				Keyed: []KeyedSlice{{Handle: KeyedHandle{Path: "p", Range: KeyGroupRange{End: 127}, Offsets: []int64{0}}, Range: KeyGroupRange{Start: 64, End: 127}}}}}}},
		CheckpointID: 5}},
	{Cancel: &Cancel{Attempt: 1}},
	{Trigger: &TriggerCheckpoint{Attempt: 1, Checkpoint: 2, Savepoint: true, Final: true, Halt: true, Tasks: []TaskKey{{Vertex: "v"}}}},
	{Complete: &CheckpointComplete{Attempt: 1, Checkpoint: 2}},
	{Released: &Released{}},
	{Resume: &Resume{Attempt: 1}},
	{AddSplits: &AddSplits{Attempt: 3, Task: TaskKey{Vertex: "v"}, Entries: [][]byte{{1, 2, 3}}, NoMore: true}},
}

// FuzzEnvelopeRoundTrip: whatever bytes a peer sends on the control
// stream, every message they decode as (each field of the envelope is one
// message type) encodes and decodes back to the same message, so that
// what one side logs, stores or forwards is what it received.
func FuzzEnvelopeRoundTrip(f *testing.F) {
	for _, e := range envelopeSeeds {
		b, err := json.Marshal(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"register":{"slots":1e400}}`))
	f.Add([]byte(`{"ack":{"snapshots":[{"list":["not base64"]}]}}`))
	f.Add([]byte(`{"registered":{"config":{"k":"\ud800"}},"heartbeat":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Envelope
		if err := (Codec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, &e); err != nil {
			return
		}
		enc, err := (Codec{}).Marshal(&e)
		if err != nil {
			t.Fatalf("a decoded envelope does not encode: %v", err)
		}
		var again Envelope
		if err := (Codec{}).Unmarshal(enc, &again); err != nil {
			t.Fatalf("a re-encoded envelope does not decode: %v\n%s", err, enc.Materialize())
		}
		// omitempty drops empty slices and maps: nil and empty are one.
		if diff := cmp.Diff(e, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

// TestEnvelopeSeedsCoverEveryMessage keeps envelopeSeeds complete: a new
// message type needs a seed.
func TestEnvelopeSeedsCoverEveryMessage(t *testing.T) {
	set := map[string]bool{}
	for _, e := range envelopeSeeds {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(b, &fields); err != nil {
			t.Fatal(err)
		}
		if len(fields) != 1 {
			t.Fatalf("seed %s sets %d messages, want 1", b, len(fields))
		}
		for k := range fields {
			set[k] = true
		}
	}
	et := reflect.TypeFor[Envelope]()
	for i := range et.NumField() {
		name, _, _ := strings.Cut(et.Field(i).Tag.Get("json"), ",")
		if !set[name] {
			t.Errorf("no seed for message %q", name)
		}
	}
}
