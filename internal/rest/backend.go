package rest

import (
	"context"
	"errors"
	"fmt"
)

// Backend is what the REST server reads and commands. The JobManager
// implements it.
//
// The read methods (Overview, Jobs, Job, Checkpoints, Rescales, TaskManagers,
// Savepoint) must return quickly from a published snapshot: they are called on
// HTTP goroutines and must never wait for the JobManager's loop. The command
// methods (TriggerSavepoint, StopWithSavepoint, Cancel) hand a command to the
// loop and must give up when ctx is done; the server bounds ctx by
// Config.CommandTimeout and by the client's connection.
//
// All methods must be safe for concurrent use. Slices in the returned values
// may be nil; the server renders them as empty JSON arrays. The server never
// modifies a returned value's slices.
//
// Errors: ErrNotFound (possibly wrapped) becomes 404, *BadRequestError 400,
// *ConflictError 409, context.DeadlineExceeded 503; anything else is 500 with
// the error's message. A 404's message is the server's own ("job ID: not
// found"): it drops whatever the Backend wrapped around ErrNotFound.
type Backend interface {
	// Overview summarizes the cluster.
	Overview() Overview
	// Jobs lists every job the JobManager knows (in application mode: one).
	Jobs() []JobSummary
	// Job returns the details of a job, or ErrNotFound.
	Job(id string) (JobDetail, error)
	// Checkpoints returns a job's checkpoint statistics, or ErrNotFound.
	Checkpoints(id string) (CheckpointStats, error)
	// Rescales returns every rescale of a job, oldest first, or ErrNotFound.
	Rescales(id string) ([]Rescale, error)
	// Exceptions returns a job's failures, newest first, or ErrNotFound.
	Exceptions(id string) (JobExceptions, error)
	// TaskManagers lists the registered TaskManagers.
	TaskManagers() []TaskManager
	// TriggerSavepoint starts a savepoint of job id and returns a request id
	// that Savepoint accepts. It must not wait for the savepoint to complete.
	TriggerSavepoint(ctx context.Context, id string, req SavepointRequest) (requestID string, err error)
	// Savepoint reports on a request returned by TriggerSavepoint or
	// StopWithSavepoint; ErrNotFound if the job or the request is unknown.
	Savepoint(id, requestID string) (SavepointStatus, error)
	// StopWithSavepoint starts a savepoint of job id after which the job
	// stops, and returns a request id that Savepoint accepts. It must not wait
	// for the job to stop.
	StopWithSavepoint(ctx context.Context, id string, req SavepointRequest) (requestID string, err error)
	// Cancel asks job id to cancel. It must not wait for the job to end.
	Cancel(ctx context.Context, id string) error
}

// ErrNotFound is returned by a Backend for an unknown job or savepoint
// request. The server answers 404.
var ErrNotFound = errors.New("rest: not found")

// BadRequestError is returned by a Backend (or produced by the server) when
// the request is invalid. The server answers 400 with Msg.
type BadRequestError struct{ Msg string }

// Error implements error.
func (e *BadRequestError) Error() string { return "rest: bad request: " + e.Msg }

// ConflictError is returned by a Backend when the request is valid but cannot
// be carried out in the job's current state, e.g. a savepoint of a job that
// is not running. The server answers 409 with Msg.
type ConflictError struct{ Msg string }

// Error implements error.
func (e *ConflictError) Error() string { return "rest: conflict: " + e.Msg }

// badRequestf builds a *BadRequestError.
func badRequestf(format string, args ...any) error {
	return &BadRequestError{Msg: fmt.Sprintf(format, args...)}
}
