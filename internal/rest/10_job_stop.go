package rest

import "net/http"

// stopBody is the body of POST /jobs/{jobid}/stop, with Flink's field names
// (camel case here, unlike the savepoints endpoint). Every field is
// optional, and so is the body.
type stopBody struct {
	TargetDirectory string `json:"targetDirectory"`
	Drain           bool   `json:"drain"`
	FormatType      string `json:"formatType"`
	TriggerID       string `json:"triggerId"`
}

// handleJobStop serves POST /jobs/{jobid}/stop: it starts a stop with
// savepoint and answers 202 with the request id, which
// GET /jobs/{jobid}/savepoints/{triggerid} polls.
func (s *Server) handleJobStop(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	var body stopBody
	if err := decodeBody(r, &body); err != nil {
		return 0, nil, err
	}
	ctx, cancel := s.commandContext(r)
	defer cancel()
	rid, err := s.backend.StopWithSavepoint(ctx, id, SavepointRequest{
		TargetDirectory: body.TargetDirectory,
		Drain:           body.Drain,
		FormatType:      body.FormatType,
		TriggerID:       body.TriggerID,
	})
	if err != nil {
		return 0, nil, wrapJob(err, id)
	}
	s.log.Info("stop with savepoint triggered", "job", id, "request", rid,
		"target", body.TargetDirectory, "drain", body.Drain)
	return http.StatusAccepted, triggerResponse{RequestID: rid}, nil
}
