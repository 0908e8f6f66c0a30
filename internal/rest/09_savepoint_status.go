package rest

import (
	"errors"
	"fmt"
	"net/http"
)

// savepointStatusBody is GET /jobs/{jobid}/savepoints/{triggerid}, in the
// shape of Flink's AsynchronousOperationResult.
type savepointStatusBody struct {
	Status    queueStatus         `json:"status"`
	Operation *savepointOperation `json:"operation"`
}

// queueStatus is Flink's QueueStatus: IN_PROGRESS or COMPLETED.
type queueStatus struct {
	ID string `json:"id"`
}

// savepointOperation is the result of a completed savepoint request: either
// its location or why it failed.
type savepointOperation struct {
	Location     string        `json:"location,omitempty"`
	FailureCause *failureCause `json:"failure-cause,omitempty"`
}

// failureCause mirrors Flink's SerializedThrowable JSON. Tide has no Java
// exceptions; the class is fixed and stack-trace carries the cause's message
// (never a Go stack), which is what Flink's tools print.
type failureCause struct {
	Class      string `json:"class"`
	StackTrace string `json:"stack-trace"`
}

// savepointFailureClass is failureCause.Class for every failed savepoint.
const savepointFailureClass = "tide.SavepointFailure"

// handleSavepointStatus serves GET /jobs/{jobid}/savepoints/{triggerid}: the
// progress of a savepoint or stop-with-savepoint request.
func (s *Server) handleSavepointStatus(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	rid := r.PathValue("triggerid")
	st, err := s.backend.Savepoint(id, rid)
	if errors.Is(err, ErrNotFound) {
		// Worded by the server alone, as in wrapJob.
		err = ErrNotFound
	}
	if err != nil {
		return 0, nil, fmt.Errorf("job %s: savepoint request %q: %w", id, truncate(rid, 64), err)
	}
	return http.StatusOK, renderSavepointStatus(st), nil
}

// renderSavepointStatus converts a Backend's status to Flink's shape.
func renderSavepointStatus(st SavepointStatus) savepointStatusBody {
	switch st.State {
	case SavepointSucceeded:
		return savepointStatusBody{
			Status:    queueStatus{ID: "COMPLETED"},
			Operation: &savepointOperation{Location: st.Location},
		}
	case SavepointFailed:
		cause := st.FailureCause
		if cause == "" {
			cause = "savepoint failed"
		}
		return savepointStatusBody{
			Status: queueStatus{ID: "COMPLETED"},
			Operation: &savepointOperation{FailureCause: &failureCause{
				Class: savepointFailureClass, StackTrace: cause,
			}},
		}
	default:
		return savepointStatusBody{Status: queueStatus{ID: "IN_PROGRESS"}}
	}
}
