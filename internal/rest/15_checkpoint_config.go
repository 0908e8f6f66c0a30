package rest

import (
	"errors"
	"fmt"
	"net/http"
)

// handleCheckpointConfig serves GET /jobs/{jobid}/checkpoints/config: the
// job's checkpointing configuration (Flink's CheckpointConfigInfo). A job
// without periodic checkpoints is a 404, as in Flink.
func (s *Server) handleCheckpointConfig(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	c, err := s.backend.CheckpointConfig(id)
	if errors.Is(err, ErrCheckpointingDisabled) {
		return 0, nil, &notFoundError{msg: fmt.Sprintf("job %s: checkpointing is not enabled (execution.checkpointing.interval is off)", id)}
	}
	if err != nil {
		return 0, nil, wrapJob(err, id)
	}
	return http.StatusOK, c, nil
}
