package rpc

import (
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/keygroup"
)

// The wire format's own types for checkpointed state. They mirror the
// coordinator's (internal/checkpoint) but are declared, and tagged, here:
// a field renamed in a core cannot change what JobManagers and
// TaskManagers send each other. The functions below convert.

// KeyGroupRange is an inclusive range of key groups.
type KeyGroupRange struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// KeyedHandle is a keyed state object in the checkpoint storage.
type KeyedHandle struct {
	Path    string        `json:"path"`
	Range   KeyGroupRange `json:"range"`
	Offsets []int64       `json:"offsets"`
	CRCs    []uint32      `json:"crcs"`
	// Watermark is the writer's watermark, if it had one; Watermarks each
	// key group's, when they differ.
	Watermark  *int64  `json:"watermark,omitempty"`
	Watermarks []int64 `json:"watermarks,omitempty"`
}

// KeyedSlice is the part of a KeyedHandle that a subtask restores.
type KeyedSlice struct {
	Handle KeyedHandle   `json:"handle"`
	Range  KeyGroupRange `json:"range"`
}

// OperatorSnapshot is one operator's state in a subtask's acknowledgement.
type OperatorSnapshot struct {
	OperatorID     string       `json:"operatorId"`
	Subtask        int          `json:"subtask"`
	Keyed          *KeyedHandle `json:"keyed,omitempty"`
	List           [][]byte     `json:"list,omitempty"`
	SourcePosition int64        `json:"sourcePosition,omitempty"`
}

// WireRange converts a key-group range to the wire.
func WireRange(r keygroup.Range) KeyGroupRange {
	return KeyGroupRange{Start: int(r.Start), End: int(r.End)}
}

// KeyGroups converts a wire range back.
func (r KeyGroupRange) KeyGroups() keygroup.Range {
	return keygroup.Range{Start: keygroup.KeyGroup(r.Start), End: keygroup.KeyGroup(r.End)}
}

func wireHandle(h checkpoint.KeyedHandle) KeyedHandle {
	return KeyedHandle{Path: h.Path, Range: WireRange(h.Range), Offsets: h.Offsets, CRCs: h.CRCs, Watermark: h.Watermark, Watermarks: h.Watermarks}
}

func (h KeyedHandle) checkpoint() checkpoint.KeyedHandle {
	return checkpoint.KeyedHandle{Path: h.Path, Range: h.Range.KeyGroups(), Offsets: h.Offsets, CRCs: h.CRCs, Watermark: h.Watermark, Watermarks: h.Watermarks}
}

// WireSnapshots converts a subtask's snapshots to the wire.
func WireSnapshots(ss []checkpoint.OperatorSnapshot) []OperatorSnapshot {
	out := make([]OperatorSnapshot, len(ss))
	for i, s := range ss {
		out[i] = OperatorSnapshot{OperatorID: s.OperatorID, Subtask: s.Subtask, List: s.List, SourcePosition: s.SourcePosition}
		if s.Keyed != nil {
			h := wireHandle(*s.Keyed)
			out[i].Keyed = &h
		}
	}
	return out
}

// Snapshots converts wire snapshots back.
func Snapshots(ss []OperatorSnapshot) []checkpoint.OperatorSnapshot {
	out := make([]checkpoint.OperatorSnapshot, len(ss))
	for i, s := range ss {
		out[i] = checkpoint.OperatorSnapshot{OperatorID: s.OperatorID, Subtask: s.Subtask, List: s.List, SourcePosition: s.SourcePosition}
		if s.Keyed != nil {
			h := s.Keyed.checkpoint()
			out[i].Keyed = &h
		}
	}
	return out
}

// WireSlices converts the keyed state a subtask restores to the wire.
func WireSlices(ss []checkpoint.KeyedSlice) []KeyedSlice {
	if ss == nil {
		return nil
	}
	out := make([]KeyedSlice, len(ss))
	for i, s := range ss {
		out[i] = KeyedSlice{Handle: wireHandle(s.Handle), Range: WireRange(s.Range)}
	}
	return out
}

// Slices converts wire slices back.
func Slices(ss []KeyedSlice) []checkpoint.KeyedSlice {
	if ss == nil {
		return nil
	}
	out := make([]checkpoint.KeyedSlice, len(ss))
	for i, s := range ss {
		out[i] = checkpoint.KeyedSlice{Handle: s.Handle.checkpoint(), Range: s.Range.KeyGroups()}
	}
	return out
}

// WireKey converts a subtask's key to the wire.
func WireKey(k exec.TaskKey) TaskKey { return TaskKey{Vertex: string(k.Vertex), Subtask: k.Subtask} }

// Exec converts a wire key back.
func (k TaskKey) Exec() exec.TaskKey {
	return exec.TaskKey{Vertex: exec.VertexID(k.Vertex), Subtask: k.Subtask}
}

// WireParallelism converts parallelism by vertex to the wire.
func WireParallelism(p map[exec.VertexID]int) map[string]int {
	out := make(map[string]int, len(p))
	for v, n := range p {
		out[string(v)] = n
	}
	return out
}

// ExecParallelism converts wire parallelism back.
func ExecParallelism(p map[string]int) map[exec.VertexID]int {
	out := make(map[exec.VertexID]int, len(p))
	for v, n := range p {
		out[exec.VertexID(v)] = n
	}
	return out
}
