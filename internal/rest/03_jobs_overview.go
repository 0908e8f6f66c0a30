package rest

import (
	"net/http"
	"slices"
)

// jobsOverview is GET /jobs/overview (Flink's MultipleJobsDetails).
type jobsOverview struct {
	Jobs []JobSummary `json:"jobs"`
}

// handleJobsOverview serves GET /jobs/overview: a summary of every job.
func (s *Server) handleJobsOverview(*http.Request) (int, any, error) {
	// The Backend's slice is not ours to modify.
	jobs := slices.Clone(nonNil(s.backend.Jobs()))
	for i := range jobs {
		jobs[i].Tasks = nonNilMap(jobs[i].Tasks)
	}
	return http.StatusOK, jobsOverview{Jobs: jobs}, nil
}

// nonNil returns xs, or an empty slice if xs is nil, so that JSON shows []
// rather than null.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// nonNilMap returns m, or an empty map if m is nil, so that JSON shows {}
// rather than null.
func nonNilMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}
