package rest

import "net/http"

// handleJobManagerConfig serves GET /jobmanager/config: the JobManager's
// effective configuration as [{"key","value"}] (Flink's
// ConfigurationInfo), secrets masked.
func (s *Server) handleJobManagerConfig(*http.Request) (int, any, error) {
	return http.StatusOK, nonNil(s.backend.ClusterConfig()), nil
}
