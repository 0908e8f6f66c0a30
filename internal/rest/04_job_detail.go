package rest

import (
	"net/http"
	"slices"
	"time"
)

// handleJobDetail serves GET /jobs/{jobid}: the job's state, vertices and
// plan (Flink's JobDetailsInfo).
func (s *Server) handleJobDetail(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	d, err := s.backend.Job(id)
	if err != nil {
		return 0, nil, wrapJob(err, id)
	}
	return http.StatusOK, finishJobDetail(d), nil
}

// finishJobDetail fills what a Backend may leave empty: the time, and
// empty collections for nil ones.
func finishJobDetail(d JobDetail) JobDetail {
	if d.Now == 0 {
		d.Now = time.Now().UnixMilli()
	}
	d.Vertices = slices.Clone(nonNil(d.Vertices)) // the Backend's slice is not ours to modify
	for i := range d.Vertices {
		d.Vertices[i].Tasks = nonNilMap(d.Vertices[i].Tasks)
	}
	d.StatusCounts = nonNilMap(d.StatusCounts)
	d.Timestamps = nonNilMap(d.Timestamps)
	d.Plan = finishPlan(d.Plan, d)
	return d
}

// finishPlan fills a plan's job fields from d and its empty collections.
func finishPlan(p JobPlan, d JobDetail) JobPlan {
	if p.JobID == "" {
		p.JobID = d.ID
	}
	if p.Name == "" {
		p.Name = d.Name
	}
	if p.Type == "" {
		p.Type = "STREAMING"
	}
	p.Nodes = nonNil(p.Nodes)
	return p
}
