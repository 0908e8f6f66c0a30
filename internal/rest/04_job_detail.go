package rest

import (
	"net/http"
	"time"
)

// handleJobDetail serves GET /jobs/{jobid}: the job's state and vertices.
func (s *Server) handleJobDetail(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	d, err := s.backend.Job(id)
	if err != nil {
		return 0, nil, wrapJob(err, id)
	}
	d.Vertices = nonNil(d.Vertices)
	if d.Now == 0 {
		d.Now = time.Now().UnixMilli()
	}
	return http.StatusOK, d, nil
}
