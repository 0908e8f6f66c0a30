package jobmanager

import (
	"fmt"
	"slices"
	"time"

	"github.com/tide-stream/tide/internal/attempt"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/rpc"
)

// exceptionNames names the kinds of failure in the exception history.
var exceptionNames = map[rpc.FailureDomain]string{
	rpc.DomainUser:              "UserCodeFailure",
	rpc.DomainExternal:          "ExternalFailure",
	rpc.DomainInternal:          "InternalFailure",
	rpc.DomainCorruptCheckpoint: "CorruptCheckpoint",
	rpc.DomainPermanent:         "PermanentFailure",
}

// failure records a failure in the exception history. The first failure of
// an attempt is an entry of its own; later ones of the same attempt — the
// same cause seen by other subtasks, in the main — are its concurrent
// exceptions.
func (jm *JobManager) failure(attempt exec.Attempt, name, message, task, tm string, domain rpc.FailureDomain) {
	e := rest.ExceptionInfo{ExceptionName: name, Stacktrace: message, Timestamp: time.Now().UnixMilli(),
		FailureLabels: map[string]string{"domain": string(domain)}}
	if task != "" {
		e.TaskName = &task
	}
	if tm != "" {
		rid := restTMID(tm)
		e.TaskManagerID = &rid
		if c := jm.tms[tm]; c != nil {
			e.Location = &c.info.DataAddr
		}
	}
	if n := len(jm.exceptions); n > 0 && jm.exceptionsAttempt == attempt && attempt != 0 {
		root := &jm.exceptions[n-1]
		if len(root.ConcurrentExceptions) < historyLimit {
			root.ConcurrentExceptions = append(root.ConcurrentExceptions, e)
		}
		return
	}
	jm.exceptionsAttempt = attempt
	jm.exceptions = append(jm.exceptions, rest.ExceptionEntry{ExceptionInfo: e})
	if len(jm.exceptions) > historyLimit {
		jm.exceptions = slices.Delete(jm.exceptions, 0, 1)
		jm.exceptionsTruncated = true
	}
}

// lifecycleFailure records a failure the attempt lifecycle reports.
func (jm *JobManager) lifecycleFailure(f attempt.Failure) {
	name := f.Name
	if name == "" {
		var ok bool
		if name, ok = exceptionNames[f.Domain]; !ok {
			name = "TaskFailure"
		}
	}
	task := ""
	if f.Task != nil {
		task = jm.taskName(*f.Task)
	}
	jm.failure(f.Attempt, name, f.Reason, task, f.TaskManager, f.Domain)
}

// taskName is a subtask as Flink's web UI names it: "name (i/p)".
func (jm *JobManager) taskName(k exec.TaskKey) string {
	_, v, ok := jm.graph.Vertex(k.Vertex)
	if !ok {
		return fmt.Sprintf("%s (%d)", k.Vertex, k.Subtask+1)
	}
	p := 0
	if pl := jm.placed; pl != nil {
		p = pl.parallelism[k.Vertex]
	}
	return fmt.Sprintf("%s (%d/%d)", v.Name, k.Subtask+1, p)
}

// exceptionsView is the exception history for the REST API, newest first.
func (jm *JobManager) exceptionsView() rest.JobExceptions {
	var out rest.JobExceptions
	for i := len(jm.exceptions) - 1; i >= 0; i-- {
		e := jm.exceptions[i]
		e.ConcurrentExceptions = slices.Clone(e.ConcurrentExceptions)
		out.ExceptionHistory.Entries = append(out.ExceptionHistory.Entries, e)
	}
	out.ExceptionHistory.Truncated = jm.exceptionsTruncated
	if len(jm.exceptions) == 0 {
		return out
	}
	root := jm.exceptions[len(jm.exceptions)-1]
	out.RootException, out.Timestamp = &root.Stacktrace, &root.Timestamp
	for _, e := range append([]rest.ExceptionInfo{root.ExceptionInfo}, root.ConcurrentExceptions...) {
		if e.TaskName == nil {
			continue
		}
		te := rest.TaskException{Exception: e.Stacktrace, Task: *e.TaskName, Timestamp: e.Timestamp}
		if e.Location != nil {
			te.Location = *e.Location
		}
		if e.TaskManagerID != nil {
			te.TaskManagerID = *e.TaskManagerID
		}
		out.AllExceptions = append(out.AllExceptions, te)
	}
	return out
}
