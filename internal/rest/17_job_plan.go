package rest

import "net/http"

// jobPlan is GET /jobs/{jobid}/plan (Flink's JobPlanInfo).
type jobPlan struct {
	Plan JobPlan `json:"plan"`
}

// handleJobPlan serves GET /jobs/{jobid}/plan: the job's dataflow plan,
// the same as the "plan" of GET /jobs/{jobid}.
func (s *Server) handleJobPlan(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	d, err := s.backend.Job(id)
	if err != nil {
		return 0, nil, wrapJob(err, id)
	}
	return http.StatusOK, jobPlan{Plan: finishPlan(d.Plan, d)}, nil
}
