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
	d.Metrics.GarbageCollectors = slices.Clone(nonNil(d.Metrics.GarbageCollectors)) // not ours to modify
	return http.StatusOK, d, nil
}
