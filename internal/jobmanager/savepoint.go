package jobmanager

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/checkpointstore"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/scheduler"
)

// savepointReq is one savepoint requested through the REST API.
type savepointReq struct {
	status rest.SavepointStatus
	stop   bool
	// target is the URL of a target directory outside
	// state.checkpoints.dir; "" for none. The savepoint is taken into
	// state.checkpoints.dir and then copied there.
	target string
	// taken is the location of a stop-with-savepoint's savepoint, held
	// until the job has stopped: as in Flink, the request completes when
	// the job reached its terminal state, so that a client that sees it
	// complete also sees the job FINISHED.
	taken string
}

// triggerSavepoint starts a savepoint; with stop, the job is canceled once
// it completed (stop-with-savepoint).
func (jm *JobManager) triggerSavepoint(req rest.SavepointRequest, stop bool) (string, error) {
	switch {
	case jm.sched.State() != scheduler.Executing:
		return "", &rest.ConflictError{Msg: fmt.Sprintf("job is %s, not running: no savepoint now", jm.sched.State().JobStatus())}
	case !jm.life.Running():
		return "", &rest.ConflictError{Msg: "the job's tasks are being deployed or rescaled: try again in a moment"}
	}
	if len(req.TriggerID) > 128 {
		return "", &rest.BadRequestError{Msg: fmt.Sprintf("triggerId of %d characters: at most 128", len(req.TriggerID))}
	}
	var target string
	if req.TargetDirectory != "" {
		t, err := checkpointstore.TargetURL(req.TargetDirectory)
		if err != nil {
			return "", &rest.BadRequestError{Msg: err.Error()}
		}
		if t != strings.TrimSuffix(jm.cfg.CheckpointsDir, "/") {
			target = t
		}
	}
	id := req.TriggerID
	if id == "" {
		jm.savepointSeq++
		id = fmt.Sprintf("%016x%016x", jm.savepointSeq, jm.started.UnixNano())
	}
	if _, dup := jm.savepoints[id]; dup {
		return id, nil
	}
	jm.savepoints[id] = &savepointReq{stop: stop, target: target}
	jm.savepointOrder = append(jm.savepointOrder, id)
	jm.forgetOldSavepoints()
	kind := checkpoint.KindSavepoint
	if stop {
		kind = checkpoint.KindStopWithSavepoint
	}
	if err := jm.coord.Step(checkpoint.TriggerRequest{Request: checkpoint.Request{Kind: kind, ID: id}}); err != nil {
		jm.savepoints[id].status = rest.SavepointStatus{State: rest.SavepointFailed, FailureCause: err.Error()}
	}
	jm.log.Info("savepoint requested", "request", id, "stop", stop)
	return id, nil
}

// savepointDone resolves a savepoint request once its checkpoint has
// completed or failed. A stop-with-savepoint stops the job at once, its
// sources still halted at the barrier, so that nothing after the savepoint
// runs, whatever happens next. A savepoint with a target directory is then
// copied there (savepointCopied ends the request); the JobManager stays up
// until the copy is done.
func (jm *JobManager) savepointDone(requestID string, id checkpoint.ID, path, failure string) {
	sp, ok := jm.savepoints[requestID]
	if !ok {
		return
	}
	if failure == "" && sp.stop {
		jm.stepSched(scheduler.Cancel{Finish: true})
	}
	if failure == "" && sp.target != "" {
		jm.log.Info("savepoint taken; copying it to its target directory", "request", requestID, "path", path, "target", sp.target)
		jm.copying++
		jm.io.copyCheckpoint(copyJob{requestID: requestID, checkpoint: id, path: path, target: sp.target})
		return
	}
	jm.savepointCopied(evCopied{requestID: requestID, checkpoint: id, location: jm.externalPath(path), failure: failure})
}

// savepointCopied ends a savepoint request.
func (jm *JobManager) savepointCopied(e evCopied) {
	sp, ok := jm.savepoints[e.requestID]
	if !ok {
		return
	}
	if e.failure != "" {
		sp.status = rest.SavepointStatus{State: rest.SavepointFailed, FailureCause: e.failure}
		jm.log.Error("savepoint failed", "request", e.requestID, "reason", e.failure)
		return
	}
	if sp.stop {
		sp.taken = e.location
		if st := jm.sched.State(); st.Terminal() {
			jm.jobStopped(st, "")
		}
		return
	}
	jm.savepointSucceeded(e.requestID, sp, e.location)
}

func (jm *JobManager) savepointSucceeded(requestID string, sp *savepointReq, location string) {
	sp.status = rest.SavepointStatus{State: rest.SavepointSucceeded, Location: location}
	jm.log.Info("savepoint complete", "request", requestID, "location", location)
}

// jobStopped resolves the stop-with-savepoint requests whose savepoint was
// taken, once the job reached its terminal state: complete if it FINISHED,
// failed, naming the savepoint that is still there, if it ended otherwise.
func (jm *JobManager) jobStopped(st scheduler.State, reason string) {
	if reason != "" {
		reason = ": " + reason
	}
	for _, id := range jm.savepointOrder {
		sp := jm.savepoints[id]
		if sp.taken == "" {
			continue
		}
		if st == scheduler.Finished {
			jm.savepointSucceeded(id, sp, sp.taken)
		} else {
			sp.status = rest.SavepointStatus{State: rest.SavepointFailed, FailureCause: fmt.Sprintf(
				"the savepoint %s was taken, but the job then ended %s instead of stopping%s", sp.taken, st.JobStatus(), reason)}
			jm.log.Error("stop with savepoint failed", "request", id, "savepoint", sp.taken, "state", st.JobStatus())
		}
		sp.taken = ""
	}
}

// historyLimit bounds the rescales, savepoint requests and exceptions a
// JobManager remembers for the REST API: a job that runs for months
// rescales, takes savepoints and fails without end.
const historyLimit = 100

// forgetOldSavepoints keeps the newest historyLimit savepoint requests, and
// any still in progress, for GET /jobs/:jobid/savepoints/:id.
func (jm *JobManager) forgetOldSavepoints() {
	for i := 0; len(jm.savepoints) > historyLimit && i < len(jm.savepointOrder); {
		id := jm.savepointOrder[i]
		if st := jm.savepoints[id].status.State; st != rest.SavepointSucceeded && st != rest.SavepointFailed {
			i++
			continue
		}
		delete(jm.savepoints, id)
		jm.savepointOrder = slices.Delete(jm.savepointOrder, i, i+1)
	}
}
