package rest

import "net/http"

// jobsList is GET /jobs.
type jobsList struct {
	Jobs []jobIDStatus `json:"jobs"`
}

// jobIDStatus is one job of GET /jobs, as Flink's JobIdWithStatus.
type jobIDStatus struct {
	ID     string   `json:"id"`
	Status JobState `json:"status"`
}

// handleJobs serves GET /jobs: every job's id and state.
func (s *Server) handleJobs(*http.Request) (int, any, error) {
	jobs := s.backend.Jobs()
	out := jobsList{Jobs: make([]jobIDStatus, 0, len(jobs))}
	for _, j := range jobs {
		out.Jobs = append(out.Jobs, jobIDStatus{ID: j.ID, Status: j.State})
	}
	return http.StatusOK, out, nil
}
