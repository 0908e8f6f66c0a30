package rest

import (
	"net/http"
	"slices"
)

// handleTaskManagerDetail serves GET /taskmanagers/{taskmanagerid}: one
// TaskManager with its used slots and process memory (Flink's
// TaskManagerDetailsInfo).
func (s *Server) handleTaskManagerDetail(r *http.Request) (int, any, error) {
	tmID, err := taskManagerIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	d, err := s.backend.TaskManager(tmID)
	if err != nil {
		return 0, nil, wrapTaskManager(err, tmID)
	}
	d.AllocatedSlots = nonNil(d.AllocatedSlots)
	if d.Metrics != nil {
		m := *d.Metrics // the Backend's value is not ours to modify
		m.GarbageCollectors = slices.Clone(nonNil(m.GarbageCollectors))
		d.Metrics = &m
	}
	return http.StatusOK, d, nil
}
