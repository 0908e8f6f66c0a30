package rest

// This file holds the view types a Backend fills. Their JSON names are part
// of the REST API the README lists (Flink's REST API where Flink has the
// field); do not rename them. Timestamps are Unix milliseconds, durations milliseconds; -1 means
// "not yet" (e.g. the end time of a running job).

// JobState is a job's state, as Flink names it.
type JobState string

// The job states, as Flink names them.
const (
	JobCreated    JobState = "CREATED"
	JobRunning    JobState = "RUNNING"
	JobRestarting JobState = "RESTARTING"
	JobFinished   JobState = "FINISHED"
	JobFailed     JobState = "FAILED"
	JobCanceled   JobState = "CANCELED"
)

// Overview is GET /overview.
type Overview struct {
	TaskManagers   int `json:"taskmanagers"`
	SlotsTotal     int `json:"slots-total"`
	SlotsAvailable int `json:"slots-available"`
	JobsRunning    int `json:"jobs-running"`
	JobsFinished   int `json:"jobs-finished"`
	JobsCancelled  int `json:"jobs-cancelled"`
	JobsFailed     int `json:"jobs-failed"`
	// Version is the build version; the server fills it from Config.Version
	// when the Backend leaves it empty.
	Version string `json:"tide-version"`
}

// JobSummary is one job of GET /jobs/overview; GET /jobs shows only its ID and
// State.
type JobSummary struct {
	ID    string   `json:"jid"`
	Name  string   `json:"name"`
	State JobState `json:"state"`
	// StartTime is when the job was submitted, Unix ms.
	StartTime int64 `json:"start-time"`
	// EndTime is when the job reached a terminal state, Unix ms, or -1.
	EndTime int64 `json:"end-time"`
	// Duration is EndTime (or now) minus StartTime, ms.
	Duration int64 `json:"duration"`
	// LastModification is the time of the last state change, Unix ms.
	LastModification int64 `json:"last-modification"`
}

// JobDetail is GET /jobs/{jobid}.
type JobDetail struct {
	ID        string   `json:"jid"`
	Name      string   `json:"name"`
	State     JobState `json:"state"`
	StartTime int64    `json:"start-time"`
	EndTime   int64    `json:"end-time"`
	Duration  int64    `json:"duration"`
	// Now is the time of the snapshot, Unix ms; the server fills it with the
	// current time when the Backend leaves it zero.
	Now int64 `json:"now"`
	// Attempt is the attempt number of the current deployment of the job's
	// tasks; it grows by one on every restart and rescale.
	Attempt int64 `json:"attempt"`
	// MaxParallelism is pipeline.max-parallelism, the number of key groups.
	MaxParallelism int `json:"maxParallelism"`
	// IsStoppable is Flink's field: whether stop-with-savepoint is possible.
	IsStoppable bool     `json:"isStoppable"`
	Vertices    []Vertex `json:"vertices"`
}

// Vertex is one vertex of a job's execution graph.
type Vertex struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Parallelism    int    `json:"parallelism"`
	MaxParallelism int    `json:"maxParallelism"`
	// Status is the vertex's execution state (CREATED, SCHEDULED, DEPLOYING,
	// RUNNING, FINISHED, CANCELING, CANCELED, FAILED), as in Flink.
	Status string `json:"status"`
	// Metrics is the busiest subtask's time split over the last second, in
	// Flink's units: what an autoscaler reads.
	Metrics VertexMetrics `json:"metrics"`
}

// VertexMetrics splits a subtask's wall time per second: busy processing,
// blocked on a full output (backpressured), or waiting for input (idle).
// Each is the maximum over the vertex's subtasks; -1 when not measured yet.
// The record rates are sums over the subtasks: records read from the
// network, and records a source emitted.
type VertexMetrics struct {
	BusyTimeMsPerSecond          int64 `json:"busyTimeMsPerSecond"`
	BackPressuredTimeMsPerSecond int64 `json:"backPressuredTimeMsPerSecond"`
	IdleTimeMsPerSecond          int64 `json:"idleTimeMsPerSecond"`
	NumRecordsInPerSecond        int64 `json:"numRecordsInPerSecond"`
	NumRecordsOutPerSecond       int64 `json:"numRecordsOutPerSecond"`
}

// CheckpointStatus is a checkpoint's status, as Flink names it.
type CheckpointStatus string

// The checkpoint statuses.
const (
	CheckpointInProgress CheckpointStatus = "IN_PROGRESS"
	CheckpointCompleted  CheckpointStatus = "COMPLETED"
	CheckpointFailed     CheckpointStatus = "FAILED"
)

// CheckpointStats is GET /jobs/{jobid}/checkpoints.
type CheckpointStats struct {
	Counts  CheckpointCounts   `json:"counts"`
	Latest  LatestCheckpoints  `json:"latest"`
	History []CheckpointRecord `json:"history"`
}

// CheckpointCounts counts a job's checkpoints since it was submitted.
type CheckpointCounts struct {
	Completed  int64 `json:"completed"`
	Failed     int64 `json:"failed"`
	InProgress int64 `json:"in_progress"`
	Restored   int64 `json:"restored"`
	Total      int64 `json:"total"`
}

// LatestCheckpoints names the latest completed and the latest restored
// checkpoint; each is null in JSON when there is none.
type LatestCheckpoints struct {
	Completed *CheckpointRecord   `json:"completed"`
	Restored  *RestoredCheckpoint `json:"restored"`
}

// CheckpointRecord is one checkpoint or savepoint, in progress or done.
type CheckpointRecord struct {
	ID                 int64            `json:"id"`
	Status             CheckpointStatus `json:"status"`
	IsSavepoint        bool             `json:"is_savepoint"`
	TriggerTimestamp   int64            `json:"trigger_timestamp"`
	LatestAckTimestamp int64            `json:"latest_ack_timestamp"`
	// EndToEndDuration is from trigger to the last acknowledgement, ms.
	EndToEndDuration int64 `json:"end_to_end_duration"`
	// StateSize is the total size of the snapshot's state, bytes.
	StateSize int64 `json:"state_size"`
	// ExternalPath is the blob URL of the checkpoint's directory, empty while
	// it is in progress or when it failed.
	ExternalPath           string `json:"external_path"`
	NumSubtasks            int    `json:"num_subtasks"`
	NumAcknowledgedSubtask int    `json:"num_acknowledged_subtasks"`
	// FailureMessage says why a FAILED checkpoint failed.
	FailureMessage string `json:"failure_message,omitempty"`
}

// RestoredCheckpoint is the checkpoint the current attempt restored from.
type RestoredCheckpoint struct {
	ID               int64  `json:"id"`
	ExternalPath     string `json:"external_path"`
	RestoreTimestamp int64  `json:"restore_timestamp"`
	IsSavepoint      bool   `json:"is_savepoint"`
}

// RescaleTrigger says why a rescale happened.
type RescaleTrigger string

// The rescale triggers GET /jobs/:jobid/rescales shows (the README lists it);
// a Backend may add others.
const (
	// TriggerInitial is the job's first deployment (from 0), listed so
	// that its pause and restored state show too.
	TriggerInitial            RescaleTrigger = "initial"
	TriggerTaskManagerJoined  RescaleTrigger = "taskmanager-joined"
	TriggerTaskManagerLeaving RescaleTrigger = "taskmanager-leaving"
	TriggerTaskManagerLost    RescaleTrigger = "taskmanager-lost"
	TriggerManual             RescaleTrigger = "manual"
	// TriggerFailure is a restart after a failure of the job (its code,
	// its storage), which the restart strategy bounds.
	TriggerFailure RescaleTrigger = "failure"
)

// RescaleStatus is a rescale's progress.
type RescaleStatus string

// The rescale statuses.
const (
	RescaleInProgress RescaleStatus = "IN_PROGRESS"
	RescaleCompleted  RescaleStatus = "COMPLETED"
	// RescaleAbandoned: the slots came back before the rescale ran; nothing moved.
	RescaleAbandoned RescaleStatus = "ABANDONED"
	RescaleFailed    RescaleStatus = "FAILED"
)

// Rescale is one entry of GET /jobs/{jobid}/rescales.
type Rescale struct {
	ID      int64          `json:"id"`
	Trigger RescaleTrigger `json:"trigger"`
	// From and To are the job's parallelism before and after.
	From int `json:"from"`
	To   int `json:"to"`
	// Checkpoint is the id of the checkpoint restored, or 0 for none (empty state).
	Checkpoint int64 `json:"checkpoint"`
	// Start and End are Unix ms; End is -1 while the rescale is in progress.
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	// PauseMs is how long no records were processed, ms.
	PauseMs int64 `json:"pause_ms"`
	// ReprocessedRecords is what the sources re-read: their position when
	// the old tasks stopped minus the restored one.
	ReprocessedRecords int64 `json:"reprocessed_records"`
	// RestoredBytes is the keyed state the new attempt read from the blob
	// store; LocalKeyGroups the key groups it kept in memory instead (local
	// recovery).
	RestoredBytes  int64         `json:"restored_bytes"`
	LocalKeyGroups int           `json:"local_key_groups"`
	Status         RescaleStatus `json:"status"`
	// Message explains a failed rescale, or adds detail.
	Message string `json:"message,omitempty"`
}

// TaskManager is one entry of GET /taskmanagers.
type TaskManager struct {
	ID string `json:"id"`
	// Path is the TaskManager's control address as Flink shows it.
	Path        string `json:"path"`
	DataPort    int    `json:"dataPort"`
	SlotsNumber int    `json:"slotsNumber"`
	FreeSlots   int    `json:"freeSlots"`
	// TimeSinceLastHeartbeat is ms since the TaskManager was last heard from.
	TimeSinceLastHeartbeat int64 `json:"timeSinceLastHeartbeat"`
	// Leaving is true once the TaskManager announced it is stopping.
	Leaving bool `json:"leaving"`
}

// SavepointRequest is the body of POST /jobs/{jobid}/savepoints and of
// POST /jobs/{jobid}/stop, merged into one command.
type SavepointRequest struct {
	// TargetDirectory is a blob URL; empty means the configured default.
	TargetDirectory string
	// CancelJob cancels the job once the savepoint completed (savepoints
	// endpoint only).
	CancelJob bool
	// Drain emits MAX_WATERMARK before the savepoint (stop endpoint only).
	Drain bool
	// FormatType is Flink's "formatType" (CANONICAL or NATIVE); empty means
	// the default. Tide has one format and may ignore it.
	FormatType string
	// TriggerID is Flink's optional client-chosen "triggerId", for an
	// idempotent retry; empty means the Backend picks one.
	TriggerID string
}

// SavepointState is the progress of a savepoint request.
type SavepointState int

// The savepoint states.
const (
	// SavepointInProgress: not done yet.
	SavepointInProgress SavepointState = iota
	// SavepointSucceeded: done; SavepointStatus.Location names it.
	SavepointSucceeded
	// SavepointFailed: done; SavepointStatus.FailureCause says why.
	SavepointFailed
)

// SavepointStatus is a Backend's answer about a savepoint request. The server
// renders it in Flink's shape:
//
//	{"status":{"id":"IN_PROGRESS"},"operation":null}
//	{"status":{"id":"COMPLETED"},"operation":{"location":"file:///…"}}
//	{"status":{"id":"COMPLETED"},"operation":{"failure-cause":{"class":…,"stack-trace":…}}}
type SavepointStatus struct {
	State SavepointState
	// Location is the savepoint's blob URL when State is SavepointSucceeded.
	Location string
	// FailureCause says why when State is SavepointFailed.
	FailureCause string
}

// JobExceptions is GET /jobs/{jobid}/exceptions, in the shape of Flink's
// JobExceptionsInfoWithHistory: the deprecated root fields, and the
// exception history, newest first.
type JobExceptions struct {
	// RootException and Timestamp are the newest failure's; absent when the
	// job has not failed.
	RootException *string `json:"root-exception"`
	Timestamp     *int64  `json:"timestamp"`
	// AllExceptions lists the newest failure's exceptions of subtasks.
	AllExceptions    []TaskException  `json:"all-exceptions"`
	Truncated        bool             `json:"truncated"`
	ExceptionHistory ExceptionHistory `json:"exceptionHistory"`
}

// TaskException is an entry of JobExceptions.AllExceptions.
type TaskException struct {
	Exception     string `json:"exception"`
	Task          string `json:"task"`
	Location      string `json:"location"`
	Timestamp     int64  `json:"timestamp"`
	TaskManagerID string `json:"taskManagerId"`
}

// ExceptionHistory is the failures that restarted or failed the job.
type ExceptionHistory struct {
	Entries   []ExceptionEntry `json:"entries"`
	Truncated bool             `json:"truncated"`
}

// ExceptionInfo is one failure (Flink's ExceptionInfo). Flink names a Java
// exception class in ExceptionName; Tide names the kind of failure
// (UserCodeFailure, TaskManagerLost, …) and puts its domain in
// FailureLabels["domain"]. The task fields are absent, as in Flink, for a
// failure of no task.
type ExceptionInfo struct {
	ExceptionName string            `json:"exceptionName"`
	Stacktrace    string            `json:"stacktrace"`
	Timestamp     int64             `json:"timestamp"`
	FailureLabels map[string]string `json:"failureLabels"`
	TaskName      *string           `json:"taskName,omitempty"`
	Location      *string           `json:"location,omitempty"`
	TaskManagerID *string           `json:"taskManagerId,omitempty"`
}

// ExceptionEntry is an entry of the history (Flink's RootExceptionInfo).
type ExceptionEntry struct {
	ExceptionInfo
	// ConcurrentExceptions are the other failures of the same attempt.
	ConcurrentExceptions []ExceptionInfo `json:"concurrentExceptions"`
}
