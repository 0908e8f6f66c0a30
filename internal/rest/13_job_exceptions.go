package rest

import (
	"net/http"
	"slices"
)

// handleJobExceptions serves GET /jobs/{jobid}/exceptions: the failures
// that restarted or failed the job, newest first, as Flink's
// JobExceptionsInfoWithHistory.
func (s *Server) handleJobExceptions(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	ex, err := s.backend.Exceptions(id)
	if err != nil {
		return 0, nil, wrapJob(err, id)
	}
	ex.AllExceptions = nonNil(ex.AllExceptions)
	// The Backend's slices are not ours to modify.
	ex.ExceptionHistory.Entries = slices.Clone(nonNil(ex.ExceptionHistory.Entries))
	for i := range ex.ExceptionHistory.Entries {
		e := &ex.ExceptionHistory.Entries[i]
		e.ConcurrentExceptions = slices.Clone(nonNil(e.ConcurrentExceptions))
		if e.FailureLabels == nil {
			e.FailureLabels = map[string]string{}
		}
		for j := range e.ConcurrentExceptions {
			if c := &e.ConcurrentExceptions[j]; c.FailureLabels == nil {
				c.FailureLabels = map[string]string{}
			}
		}
	}
	return http.StatusOK, ex, nil
}
