package rest

import "net/http"

// savepointTriggerBody is the body of POST /jobs/{jobid}/savepoints, with
// Flink's field names. Every field is optional, and so is the body.
type savepointTriggerBody struct {
	TargetDirectory string `json:"target-directory"`
	CancelJob       bool   `json:"cancel-job"`
	FormatType      string `json:"formatType"`
	TriggerID       string `json:"triggerId"`
}

// triggerResponse answers a savepoint or stop request, as Flink's
// TriggerResponse.
type triggerResponse struct {
	RequestID string `json:"request-id"`
}

// handleSavepointTrigger serves POST /jobs/{jobid}/savepoints: it starts a
// savepoint and answers 202 with the request id to poll.
func (s *Server) handleSavepointTrigger(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	var body savepointTriggerBody
	if err := decodeBody(r, &body); err != nil {
		return 0, nil, err
	}
	ctx, cancel := s.commandContext(r)
	defer cancel()
	rid, err := s.backend.TriggerSavepoint(ctx, id, SavepointRequest{
		TargetDirectory: body.TargetDirectory,
		CancelJob:       body.CancelJob,
		FormatType:      body.FormatType,
		TriggerID:       body.TriggerID,
	})
	if err != nil {
		return 0, nil, wrapJob(err, id)
	}
	s.log.Info("savepoint triggered", "job", id, "request", rid,
		"target", body.TargetDirectory, "cancel", body.CancelJob)
	return http.StatusAccepted, triggerResponse{RequestID: rid}, nil
}
