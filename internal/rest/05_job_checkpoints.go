package rest

import "net/http"

// handleJobCheckpoints serves GET /jobs/{jobid}/checkpoints: counts, the
// latest completed and restored checkpoints, and the recent history.
func (s *Server) handleJobCheckpoints(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	st, err := s.backend.Checkpoints(id)
	if err != nil {
		return 0, nil, wrapJob(err, id)
	}
	st.History = nonNil(st.History)
	return http.StatusOK, st, nil
}
