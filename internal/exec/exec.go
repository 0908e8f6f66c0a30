// Package exec names the parts of a job's execution that Tide's cores
// share: the attempts in which the job's tasks are deployed, the vertices
// of its graph, and their subtasks. Distinct types keep an attempt number
// from being passed as a checkpoint id (checkpoint.ID), or a vertex id as
// an operator id, without anyone noticing.
//
// The wire format (internal/rpc) declares its own types; the shells
// convert at the boundary.
package exec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Attempt numbers one deployment of the job's tasks. Attempts increase by
// one per deployment over the job's life, across JobManager restarts; 0
// means none.
type Attempt uint64

// VertexID identifies a vertex of the job graph: a chain of operators that
// runs as one subtask per unit of parallelism.
type VertexID string

// RESTID is the vertex's id in the REST API: 32 lowercase hex characters,
// as Flink's JobVertexID, derived from the id alone (the first 16 bytes of
// its SHA-256), so it is stable wherever the job graph is built from the
// same job: across restarts, rescales and JobManagers.
func (v VertexID) RESTID() string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:16])
}

// TaskKey identifies one subtask: subtask Subtask of vertex Vertex.
type TaskKey struct {
	Vertex  VertexID
	Subtask int
}

func (k TaskKey) String() string { return fmt.Sprintf("%s[%d]", k.Vertex, k.Subtask) }
