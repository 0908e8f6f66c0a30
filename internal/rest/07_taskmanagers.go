package rest

import "net/http"

// taskManagersList is GET /taskmanagers.
type taskManagersList struct {
	TaskManagers []TaskManager `json:"taskmanagers"`
}

// handleTaskManagers serves GET /taskmanagers: the registered TaskManagers
// with their slots and heartbeat age.
func (s *Server) handleTaskManagers(*http.Request) (int, any, error) {
	return http.StatusOK, taskManagersList{TaskManagers: nonNil(s.backend.TaskManagers())}, nil
}
