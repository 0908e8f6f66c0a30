package rest

import "net/http"

// handleJobCancel serves PATCH /jobs/{jobid}[?mode=cancel]: it asks the job
// to cancel and answers 202 {} without waiting for it to end. Flink's
// deprecated mode=stop is refused; use POST /jobs/{jobid}/stop.
func (s *Server) handleJobCancel(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	if mode := r.URL.Query().Get("mode"); mode != "" && mode != "cancel" {
		return 0, nil, badRequestf("unsupported mode %q: want cancel (for stop, POST /jobs/%s/stop)", truncate(mode, 32), id)
	}
	ctx, cancel := s.commandContext(r)
	defer cancel()
	if err := s.backend.Cancel(ctx, id); err != nil {
		return 0, nil, wrapJob(err, id)
	}
	s.log.Info("job cancel requested", "job", id)
	return http.StatusAccepted, struct{}{}, nil
}
