package rest

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
)

// handleCheckpointDetail serves GET
// /jobs/{jobid}/checkpoints/details/{checkpointid}: one checkpoint of the
// recent history with its per-vertex statistics (Flink's
// CheckpointStatistics with "tasks" filled).
func (s *Server) handleCheckpointDetail(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	cp, err := checkpointIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	c, err := s.backend.Checkpoint(id, cp)
	if errors.Is(err, ErrCheckpointNotFound) {
		return 0, nil, fmt.Errorf("job %s: checkpoint %d: %w", id, cp, ErrNotFound)
	}
	if err != nil {
		return 0, nil, wrapJob(err, id)
	}
	c.Tasks = maps.Clone(c.Tasks) // the Backend's map is not ours to modify
	for k, t := range c.Tasks {
		t.CheckpointedSize = t.StateSize
		c.Tasks[k] = t
	}
	return http.StatusOK, finishCheckpoint(c), nil
}
