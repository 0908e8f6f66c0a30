package jobmanager

import (
	"fmt"
	"strings"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/scheduler"
)

// savepointReq is one savepoint requested through the REST API.
type savepointReq struct {
	status rest.SavepointStatus
	stop   bool
}

// triggerSavepoint starts a savepoint; with stop, the job is canceled once
// it completed (stop-with-savepoint).
func (jm *JobManager) triggerSavepoint(req rest.SavepointRequest, stop bool) (string, error) {
	switch {
	case jm.sched.State() != scheduler.Executing:
		return "", &rest.ConflictError{Msg: fmt.Sprintf("job is %s, not running: no savepoint now", jm.sched.State().JobStatus())}
	case jm.cur == nil || !jm.cur.started || jm.cur.stopping:
		return "", &rest.ConflictError{Msg: "the job's tasks are being deployed or rescaled: try again in a moment"}
	}
	if len(req.TriggerID) > 128 {
		return "", &rest.BadRequestError{Msg: fmt.Sprintf("triggerId of %d characters: at most 128", len(req.TriggerID))}
	}
	if req.TargetDirectory != "" && req.TargetDirectory != jm.cfg.CheckpointsDir {
		return "", &rest.BadRequestError{Msg: fmt.Sprintf("target directory %q: savepoints are written to state.checkpoints.dir (%s)", req.TargetDirectory, jm.cfg.CheckpointsDir)}
	}
	id := req.TriggerID
	if strings.HasPrefix(id, "rescale-") || strings.HasPrefix(id, "final-") {
		return "", &rest.BadRequestError{Msg: fmt.Sprintf("triggerId %q: ids starting with rescale- or final- are Tide's own", id)}
	}
	if id == "" {
		id = fmt.Sprintf("%016x%016x", jm.nextReg+len(jm.savepoints)+1, jm.started.UnixNano())
	}
	if _, dup := jm.savepoints[id]; dup {
		return id, nil
	}
	jm.savepoints[id] = &savepointReq{stop: stop}
	if err := jm.coord.Step(checkpoint.TriggerRequest{Reason: "savepoint", Savepoint: true, RequestID: id}); err != nil {
		jm.savepoints[id].status = rest.SavepointStatus{State: rest.SavepointFailed, FailureCause: err.Error()}
	}
	jm.log.Info("savepoint requested", "request", id, "stop", stop)
	return id, nil
}

// savepointDone resolves a savepoint request.
func (jm *JobManager) savepointDone(requestID, path, failure string) {
	sp, ok := jm.savepoints[requestID]
	if !ok {
		return
	}
	if failure != "" {
		sp.status = rest.SavepointStatus{State: rest.SavepointFailed, FailureCause: failure}
		return
	}
	sp.status = rest.SavepointStatus{State: rest.SavepointSucceeded, Location: jm.location(path)}
	jm.log.Info("savepoint complete", "request", requestID, "path", path)
	if sp.stop {
		jm.stepSched(scheduler.Cancel{Finish: true})
	}
}
