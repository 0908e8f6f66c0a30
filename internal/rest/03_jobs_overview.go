package rest

import "net/http"

// jobsOverview is GET /jobs/overview.
type jobsOverview struct {
	Jobs []JobSummary `json:"jobs"`
}

// handleJobsOverview serves GET /jobs/overview: a summary of every job.
func (s *Server) handleJobsOverview(*http.Request) (int, any, error) {
	return http.StatusOK, jobsOverview{Jobs: nonNil(s.backend.Jobs())}, nil
}

// nonNil returns xs, or an empty slice if xs is nil, so that JSON shows []
// rather than null.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}
