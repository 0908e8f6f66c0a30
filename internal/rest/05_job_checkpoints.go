package rest

import (
	"net/http"
	"slices"
)

// handleJobCheckpoints serves GET /jobs/{jobid}/checkpoints: counts,
// summary, the latest checkpoint of each kind, and the recent history
// (Flink's CheckpointingStatistics).
func (s *Server) handleJobCheckpoints(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	st, err := s.backend.Checkpoints(id)
	if err != nil {
		return 0, nil, wrapJob(err, id)
	}
	// The Backend's slice and records are not ours to modify.
	st.History = slices.Clone(nonNil(st.History))
	for i := range st.History {
		st.History[i] = finishCheckpoint(st.History[i])
	}
	for _, p := range []**CheckpointRecord{&st.Latest.Completed, &st.Latest.Savepoint, &st.Latest.Failed} {
		if *p != nil {
			c := finishCheckpoint(**p)
			*p = &c
		}
	}
	return http.StatusOK, st, nil
}

// savepointFormat is CheckpointRecord.SavepointFormat of a savepoint.
var savepointFormat = "NATIVE"

// finishCheckpoint fills the fields of c that follow from the others, as
// Flink's CheckpointStatistics kinds have them.
func finishCheckpoint(c CheckpointRecord) CheckpointRecord {
	switch c.Status {
	case CheckpointCompleted:
		c.ClassName = "completed"
		if c.Discarded == nil {
			kept := false
			c.Discarded = &kept
		}
	case CheckpointFailed:
		c.ClassName = "failed"
		c.ExternalPath, c.Discarded = "", nil
	default:
		c.ClassName = "in_progress"
		c.ExternalPath, c.Discarded, c.FailureTimestamp, c.FailureMessage = "", nil, nil, ""
	}
	if c.Status != CheckpointFailed {
		c.FailureTimestamp, c.FailureMessage = nil, ""
	}
	c.CheckpointType, c.SavepointFormat = "CHECKPOINT", nil
	if c.IsSavepoint {
		c.CheckpointType, c.SavepointFormat = "SAVEPOINT", &savepointFormat
	}
	c.CheckpointedSize = c.StateSize
	c.Tasks = nonNilMap(c.Tasks)
	return c
}
