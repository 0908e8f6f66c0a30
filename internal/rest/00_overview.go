package rest

import "net/http"

// handleOverview serves GET /overview: the cluster summary.
func (s *Server) handleOverview(*http.Request) (int, any, error) {
	ov := s.backend.Overview()
	if ov.Version == "" {
		ov.Version = s.cfg.Version
	}
	ov.FlinkVersion = FlinkAPIVersion
	ov.FlinkCommit = s.cfg.Revision
	return http.StatusOK, ov, nil
}
