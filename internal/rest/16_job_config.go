package rest

import "net/http"

// handleJobConfig serves GET /jobs/{jobid}/config: the job's name,
// parallelism, restart strategy and arguments (Flink's JobConfigInfo, with
// the field names Flink sends; see JobConfig).
func (s *Server) handleJobConfig(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	c, err := s.backend.JobConfig(id)
	if err != nil {
		return 0, nil, wrapJob(err, id)
	}
	c.ExecutionConfig.UserConfig = nonNilMap(c.ExecutionConfig.UserConfig)
	return http.StatusOK, c, nil
}
