package rest

import (
	"context"
	"errors"
	"fmt"
)

// Backend is what the REST server reads and commands. The JobManager
// implements it.
//
// The read methods (all but the commands) must return quickly from a
// published snapshot: they are called on HTTP goroutines and must never
// wait for the JobManager's loop. The command
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
	// TaskManager returns one TaskManager by its REST id, or
	// ErrTaskManagerNotFound.
	TaskManager(tmID string) (TaskManagerDetail, error)
	// Vertex returns a vertex of job id by its REST id with its subtasks,
	// or ErrNotFound for the job, ErrVertexNotFound for the vertex.
	Vertex(id, vertexID string) (VertexDetail, error)
	// Checkpoint returns one checkpoint of job id with its per-vertex
	// statistics, or ErrNotFound for the job, ErrCheckpointNotFound for a
	// checkpoint not in the job's recent history.
	Checkpoint(id string, checkpointID int64) (CheckpointRecord, error)
	// CheckpointConfig returns job id's checkpointing configuration, or
	// ErrNotFound, or ErrCheckpointingDisabled.
	CheckpointConfig(id string) (CheckpointConfig, error)
	// JobConfig returns job id's configuration, or ErrNotFound.
	JobConfig(id string) (JobConfig, error)
	// ClusterConfig returns the JobManager's effective configuration,
	// sorted by key, with the values of secret-looking keys masked.
	ClusterConfig() []ConfigEntry
	// JobManagerMetrics returns every metric of the JobManager, with its
	// value, in Flink's names.
	JobManagerMetrics() []Metric
	// JobMetrics returns every metric of job id, with its value, in
	// Flink's names ("uptime", "numRestarts", "lastCheckpointDuration"), or
	// ErrNotFound.
	JobMetrics(id string) ([]Metric, error)
	// VertexMetrics returns every metric of a vertex of job id, with its
	// value, in Flink's names ("busyTimeMsPerSecond", "0.numRecordsIn"), or
	// ErrNotFound for the job, ErrVertexNotFound for the vertex.
	VertexMetrics(id, vertexID string) ([]Metric, error)
	// TaskManagerMetrics returns every metric of a TaskManager, with its
	// value, in Flink's names, or ErrTaskManagerNotFound.
	TaskManagerMetrics(tmID string) ([]Metric, error)
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

// The not-found errors of the parts of a job and of the cluster. Each wraps
// ErrNotFound (a 404); the server names what was not found itself.
var (
	ErrVertexNotFound      = fmt.Errorf("vertex: %w", ErrNotFound)
	ErrCheckpointNotFound  = fmt.Errorf("checkpoint: %w", ErrNotFound)
	ErrTaskManagerNotFound = fmt.Errorf("taskmanager: %w", ErrNotFound)
	// ErrCheckpointingDisabled answers GET …/checkpoints/config of a job
	// that takes no periodic checkpoints: Flink answers 404 then.
	ErrCheckpointingDisabled = fmt.Errorf("checkpointing is not enabled: %w", ErrNotFound)
)

// notFoundError is a 404 worded in full by the server.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

// Is makes a notFoundError an ErrNotFound.
func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

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
