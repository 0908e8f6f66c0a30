package rest

import "net/http"

// rescalesList is GET /jobs/{jobid}/rescales.
type rescalesList struct {
	Rescales []Rescale `json:"rescales"`
}

// handleJobRescales serves GET /jobs/{jobid}/rescales: the job's first
// deployment (trigger initial), then every rescale and restart, oldest
// first, with its pause and reprocessed records.
func (s *Server) handleJobRescales(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	rs, err := s.backend.Rescales(id)
	if err != nil {
		return 0, nil, wrapJob(err, id)
	}
	return http.StatusOK, rescalesList{Rescales: nonNil(rs)}, nil
}
