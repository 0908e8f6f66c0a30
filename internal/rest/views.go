package rest

// This file holds the view types a Backend fills. Their JSON names are part
// of the REST API docs/rest.md lists — Flink's names where Flink has the
// field, checked against Flink's spec by compat_test.go — do not rename
// them. Timestamps are Unix milliseconds, durations milliseconds; -1 means
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

// Overview is GET /overview, Flink's ClusterOverviewWithVersion plus
// tide-version.
type Overview struct {
	TaskManagers   int `json:"taskmanagers"`
	SlotsTotal     int `json:"slots-total"`
	SlotsAvailable int `json:"slots-available"`
	JobsRunning    int `json:"jobs-running"`
	JobsFinished   int `json:"jobs-finished"`
	JobsCancelled  int `json:"jobs-cancelled"`
	JobsFailed     int `json:"jobs-failed"`
	// SlotsFreeAndBlocked and TaskManagersBlocked count what Flink's
	// blocklist holds back; Tide blocks no TaskManager, so they are 0.
	SlotsFreeAndBlocked int `json:"slots-free-and-blocked"`
	TaskManagersBlocked int `json:"taskmanagers-blocked"`
	// FlinkVersion and FlinkCommit are filled by the server: the Flink REST
	// API version whose shapes Tide serves (FlinkAPIVersion), and Tide's
	// own source revision.
	FlinkVersion string `json:"flink-version"`
	FlinkCommit  string `json:"flink-commit"`
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
	// Tasks counts the job's subtasks by execution state, lower-case
	// (Flink's JobDetails.tasks: "running", "finished", …, and "total").
	Tasks map[string]int `json:"tasks"`
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
	// StatusCounts counts the subtasks by execution state, upper-case
	// (Flink's status-counts).
	StatusCounts map[string]int `json:"status-counts"`
	// Timestamps holds, per job state, when the job last entered it (Unix
	// ms), 0 for states it never was in (Flink's timestamps).
	Timestamps map[string]int64 `json:"timestamps"`
	// Plan is the job's dataflow plan, also served by GET /jobs/{jobid}/plan.
	Plan JobPlan `json:"plan"`
}

// JobPlan is Flink's plan JSON: the job graph's vertices ("nodes") and the
// edges into each.
type JobPlan struct {
	JobID string     `json:"jid"`
	Name  string     `json:"name"`
	Type  string     `json:"type"`
	Nodes []PlanNode `json:"nodes"`
}

// PlanNode is one vertex of a JobPlan.
type PlanNode struct {
	// ID is the vertex's REST id (32 hex).
	ID          string `json:"id"`
	Parallelism int    `json:"parallelism"`
	// Operator and Description name the vertex's chain of operators.
	Operator         string      `json:"operator"`
	OperatorStrategy string      `json:"operator_strategy"`
	Description      string      `json:"description"`
	Inputs           []PlanInput `json:"inputs,omitempty"`
	// OptimizerProperties is always {}, as Flink's streaming plans have.
	OptimizerProperties struct{} `json:"optimizer_properties"`
}

// PlanInput is an edge into a PlanNode.
type PlanInput struct {
	Num int `json:"num"`
	// ID is the producing vertex's REST id.
	ID string `json:"id"`
	// ShipStrategy is how records cross the edge: FORWARD, REBALANCE, HASH.
	ShipStrategy string `json:"ship_strategy"`
	Exchange     string `json:"exchange"`
}

// Vertex is one vertex of a job's execution graph (Flink's
// JobDetailsVertexInfo).
type Vertex struct {
	// ID is the vertex's REST id: 32 lowercase hex characters, stable for
	// the job graph (see exec.VertexID.RESTID).
	ID             string `json:"id"`
	Name           string `json:"name"`
	Parallelism    int    `json:"parallelism"`
	MaxParallelism int    `json:"maxParallelism"`
	// Status is the vertex's execution state (CREATED, SCHEDULED, DEPLOYING,
	// RUNNING, FINISHED, CANCELING, CANCELED, FAILED), as in Flink.
	Status string `json:"status"`
	// StartTime is when the current deployment of the vertex started, Unix
	// ms, or -1; EndTime when all its subtasks ended, or -1; Duration is
	// from StartTime to EndTime (or now), ms, or -1.
	StartTime int64 `json:"start-time"`
	EndTime   int64 `json:"end-time"`
	Duration  int64 `json:"duration"`
	// Tasks counts the vertex's subtasks by execution state, upper-case.
	Tasks map[string]int `json:"tasks"`
	// Metrics is Flink's IOMetricsInfo summed over the subtasks, plus the
	// per-second rates Tide's autoscaler reads.
	Metrics VertexMetrics `json:"metrics"`
}

// IOMetrics is Flink's IOMetricsInfo: what a subtask (or, summed, a
// vertex) read and wrote since it started, and how it spent its time, ms.
// Tide counts records, not bytes: the byte counts are 0 and marked
// incomplete. A record count is complete when every subtask reported it.
type IOMetrics struct {
	ReadBytes            int64 `json:"read-bytes"`
	ReadBytesComplete    bool  `json:"read-bytes-complete"`
	WriteBytes           int64 `json:"write-bytes"`
	WriteBytesComplete   bool  `json:"write-bytes-complete"`
	ReadRecords          int64 `json:"read-records"`
	ReadRecordsComplete  bool  `json:"read-records-complete"`
	WriteRecords         int64 `json:"write-records"`
	WriteRecordsComplete bool  `json:"write-records-complete"`
	// AccumulatedBusyTime is a number in Flink (it may be NaN there).
	AccumulatedBusyTime          float64 `json:"accumulated-busy-time"`
	AccumulatedBackpressuredTime int64   `json:"accumulated-backpressured-time"`
	AccumulatedIdleTime          int64   `json:"accumulated-idle-time"`
}

// VertexMetrics is IOMetrics plus Tide's rates: a subtask's wall time per
// second split into busy processing, blocked on a full output
// (backpressured), or waiting for input (idle). For a vertex each rate is
// the maximum over its subtasks; -1 when not measured yet. The record rates
// are sums over the subtasks: records read from the network, and records a
// source emitted.
type VertexMetrics struct {
	IOMetrics
	BusyTimeMsPerSecond          int64 `json:"busyTimeMsPerSecond"`
	BackPressuredTimeMsPerSecond int64 `json:"backPressuredTimeMsPerSecond"`
	IdleTimeMsPerSecond          int64 `json:"idleTimeMsPerSecond"`
	NumRecordsInPerSecond        int64 `json:"numRecordsInPerSecond"`
	NumRecordsOutPerSecond       int64 `json:"numRecordsOutPerSecond"`
}

// VertexDetail is GET /jobs/{jobid}/vertices/{vertexid} (Flink's
// JobVertexDetailsInfo); the server computes "aggregated" from Subtasks.
type VertexDetail struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Parallelism    int    `json:"parallelism"`
	MaxParallelism int    `json:"maxParallelism"`
	// Now is the time of the snapshot, Unix ms; the server fills it when 0.
	Now        int64            `json:"now"`
	Subtasks   []SubtaskDetail  `json:"subtasks"`
	Aggregated AggregatedDetail `json:"aggregated"`
}

// SubtaskDetail is one subtask of a VertexDetail (Flink's
// SubtaskExecutionAttemptDetailsInfo).
type SubtaskDetail struct {
	Subtask int    `json:"subtask"`
	Status  string `json:"status"`
	// Attempt is the job's deployment attempt the subtask belongs to.
	Attempt int64 `json:"attempt"`
	// Host is the TaskManager's data address; TaskManagerID its REST id.
	Host          string `json:"host"`
	TaskManagerID string `json:"taskmanager-id"`
	StartTime     int64  `json:"start-time"`
	EndTime       int64  `json:"end-time"`
	Duration      int64  `json:"duration"`
	// Metrics holds the subtask's counters and, in the rate fields, its
	// own rates (-1 before two samples came in).
	Metrics VertexMetrics `json:"metrics"`
	// StatusDuration is how long the subtask spent in each execution state
	// it went through in this attempt, ms (Flink's status-duration).
	StatusDuration map[string]int64 `json:"status-duration"`
}

// AggregatedDetail is Flink's AggregatedTaskDetailsInfo: for each IO metric
// and each state's duration, its min, max, avg, sum, median, p25, p75 and
// p95 over the subtasks.
type AggregatedDetail struct {
	Metrics        map[string]map[string]int64 `json:"metrics"`
	StatusDuration map[string]map[string]int64 `json:"status-duration"`
}

// CheckpointStatus is a checkpoint's status, as Flink names it.
type CheckpointStatus string

// The checkpoint statuses.
const (
	CheckpointInProgress CheckpointStatus = "IN_PROGRESS"
	CheckpointCompleted  CheckpointStatus = "COMPLETED"
	CheckpointFailed     CheckpointStatus = "FAILED"
)

// CheckpointStats is GET /jobs/{jobid}/checkpoints (Flink's
// CheckpointingStatistics).
type CheckpointStats struct {
	Counts  CheckpointCounts  `json:"counts"`
	Summary CheckpointSummary `json:"summary"`
	Latest  LatestCheckpoints `json:"latest"`
	// History holds the recent checkpoints, newest first; its entries'
	// Tasks are empty, as in Flink (GET …/checkpoints/details/{id} has them).
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

// CheckpointSummary summarizes the completed checkpoints (Flink's
// CheckpointStatisticsSummary). Tide does not measure the bytes processed
// during alignment, so Flink's processed_data is absent.
type CheckpointSummary struct {
	CheckpointedSize StatsSummary `json:"checkpointed_size"`
	StateSize        StatsSummary `json:"state_size"`
	EndToEndDuration StatsSummary `json:"end_to_end_duration"`
	// AlignmentBuffered is deprecated in Flink, which always sends 0s.
	AlignmentBuffered StatsSummary `json:"alignment_buffered"`
	// PersistedData is the in-flight data persisted by unaligned
	// checkpoints: Tide's are aligned, so it is 0s.
	PersistedData StatsSummary `json:"persisted_data"`
}

// StatsSummary is Flink's StatsSummaryDto: all 0 when there is no value.
type StatsSummary struct {
	Min  int64   `json:"min"`
	Max  int64   `json:"max"`
	Avg  int64   `json:"avg"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
}

// LatestCheckpoints holds the latest completed, savepoint, failed and
// restored checkpoint; each is null in JSON when there is none, as Flink
// sends it (the spec does not say the fields may be null).
type LatestCheckpoints struct {
	Completed *CheckpointRecord   `json:"completed"`
	Savepoint *CheckpointRecord   `json:"savepoint"`
	Failed    *CheckpointRecord   `json:"failed"`
	Restored  *RestoredCheckpoint `json:"restored"`
}

// CheckpointRecord is one checkpoint or savepoint, in progress or done
// (Flink's CheckpointStatistics and its completed, failed and in_progress
// kinds). The server fills ClassName, CheckpointType, SavepointFormat and
// CheckpointedSize from the other fields.
type CheckpointRecord struct {
	// ClassName is Flink's discriminator: "completed", "failed" or
	// "in_progress".
	ClassName   string           `json:"className"`
	ID          int64            `json:"id"`
	Status      CheckpointStatus `json:"status"`
	IsSavepoint bool             `json:"is_savepoint"`
	// CheckpointType is CHECKPOINT or SAVEPOINT (Tide's barriers are
	// aligned: never UNALIGNED_CHECKPOINT).
	CheckpointType string `json:"checkpoint_type"`
	// SavepointFormat is NATIVE for a savepoint (Tide's savepoints are its
	// checkpoints' format) and null for a checkpoint, as Flink sends it.
	SavepointFormat    *string `json:"savepointFormat"`
	TriggerTimestamp   int64   `json:"trigger_timestamp"`
	LatestAckTimestamp int64   `json:"latest_ack_timestamp"`
	// EndToEndDuration is from trigger to the last acknowledgement, ms.
	EndToEndDuration int64 `json:"end_to_end_duration"`
	// StateSize is the total size of the snapshot's state, bytes;
	// CheckpointedSize equals it, since every Tide checkpoint is full.
	StateSize        int64 `json:"state_size"`
	CheckpointedSize int64 `json:"checkpointed_size"`
	// AlignmentBuffered and PersistedData: see CheckpointSummary.
	AlignmentBuffered      int64 `json:"alignment_buffered"`
	PersistedData          int64 `json:"persisted_data"`
	NumSubtasks            int   `json:"num_subtasks"`
	NumAcknowledgedSubtask int   `json:"num_acknowledged_subtasks"`
	// ExternalPath is the full URI of a completed checkpoint's directory;
	// absent otherwise.
	ExternalPath string `json:"external_path,omitempty"`
	// Discarded says whether a completed checkpoint's files were deleted
	// (it fell out of state.checkpoints.num-retained); absent otherwise.
	Discarded *bool `json:"discarded,omitempty"`
	// FailureTimestamp (Unix ms) and FailureMessage say when and why a
	// FAILED checkpoint failed; absent otherwise.
	FailureTimestamp *int64 `json:"failure_timestamp,omitempty"`
	FailureMessage   string `json:"failure_message,omitempty"`
	// Tasks holds per-vertex statistics keyed by the vertex's REST id.
	Tasks map[string]TaskCheckpointStats `json:"tasks"`
}

// TaskCheckpointStats is one vertex's part of a checkpoint (Flink's
// TaskCheckpointStatistics).
type TaskCheckpointStats struct {
	ID                      int64            `json:"id"`
	Status                  CheckpointStatus `json:"status"`
	LatestAckTimestamp      int64            `json:"latest_ack_timestamp"`
	StateSize               int64            `json:"state_size"`
	CheckpointedSize        int64            `json:"checkpointed_size"`
	EndToEndDuration        int64            `json:"end_to_end_duration"`
	AlignmentBuffered       int64            `json:"alignment_buffered"`
	PersistedData           int64            `json:"persisted_data"`
	NumSubtasks             int              `json:"num_subtasks"`
	NumAcknowledgedSubtasks int              `json:"num_acknowledged_subtasks"`
}

// RestoredCheckpoint is the checkpoint the current attempt restored from.
type RestoredCheckpoint struct {
	ID               int64  `json:"id"`
	ExternalPath     string `json:"external_path"`
	RestoreTimestamp int64  `json:"restore_timestamp"`
	IsSavepoint      bool   `json:"is_savepoint"`
}

// CheckpointConfig is GET /jobs/{jobid}/checkpoints/config (Flink's
// CheckpointConfigInfo). Durations are ms. Tide has no changelog state
// backend: Flink's changelog_storage and
// changelog_periodic_materialization_interval are absent.
type CheckpointConfig struct {
	Mode                        string                    `json:"mode"`
	Interval                    int64                     `json:"interval"`
	Timeout                     int64                     `json:"timeout"`
	MinPause                    int64                     `json:"min_pause"`
	MaxConcurrent               int64                     `json:"max_concurrent"`
	Externalization             CheckpointExternalization `json:"externalization"`
	StateBackend                string                    `json:"state_backend"`
	CheckpointStorage           string                    `json:"checkpoint_storage"`
	UnalignedCheckpoints        bool                      `json:"unaligned_checkpoints"`
	TolerableFailedCheckpoints  int64                     `json:"tolerable_failed_checkpoints"`
	AlignedCheckpointTimeout    int64                     `json:"aligned_checkpoint_timeout"`
	CheckpointsAfterTasksFinish bool                      `json:"checkpoints_after_tasks_finish"`
	StateChangelogEnabled       bool                      `json:"state_changelog_enabled"`
}

// CheckpointExternalization says whether completed checkpoints outlive the
// job (Flink's ExternalizedCheckpointInfo).
type CheckpointExternalization struct {
	Enabled              bool `json:"enabled"`
	DeleteOnCancellation bool `json:"delete_on_cancellation"`
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

// TaskManager is one entry of GET /taskmanagers (Flink's TaskManagerInfo).
// Flink's totalResource and freeResource describe resource profiles Tide
// does not have; they are absent (Flink's client accepts that; it does not
// accept a missing hardware or memoryConfiguration).
type TaskManager struct {
	// ID is the TaskManager's REST id: its registration, safe in a path.
	ID string `json:"id"`
	// Path is the TaskManager's data address.
	Path        string `json:"path"`
	DataPort    int    `json:"dataPort"`
	SlotsNumber int    `json:"slotsNumber"`
	FreeSlots   int    `json:"freeSlots"`
	// TimeSinceLastHeartbeat is, despite its name, when the TaskManager was
	// last heard from, Unix ms: what Flink sends (its ResourceManager fills
	// the field with the last heartbeat's timestamp, and its web UI shows
	// it as a date). HeartbeatAge is Tide's: ms since then.
	TimeSinceLastHeartbeat int64 `json:"timeSinceLastHeartbeat"`
	HeartbeatAge           int64 `json:"heartbeatAge"`
	// JmxPort is -1, Flink's value when JMX is off: Tide has none.
	JmxPort int `json:"jmxPort"`
	// Blocked is false: Tide has no blocklist.
	Blocked             bool                `json:"blocked"`
	Hardware            Hardware            `json:"hardware"`
	MemoryConfiguration MemoryConfiguration `json:"memoryConfiguration"`
	// Leaving is true once the TaskManager announced it is stopping.
	Leaving bool `json:"leaving"`
}

// Hardware is what a TaskManager reported of its machine when it
// registered (Flink's HardwareDescription); -1 for what it did not report.
type Hardware struct {
	// CPUCores is the CPU the TaskManager may use, rounded up: its cgroup
	// quota, or the machine's cores.
	CPUCores int `json:"cpuCores"`
	// PhysicalMemory is the machine's memory, bytes.
	PhysicalMemory int64 `json:"physicalMemory"`
	// FreeMemory is the memory the process may use, bytes (Flink: the JVM's
	// maximum heap): its Go memory limit, or PhysicalMemory when unset.
	FreeMemory int64 `json:"freeMemory"`
	// ManagedMemory is 0: Tide has no managed memory.
	ManagedMemory int64 `json:"managedMemory"`
}

// MemoryConfiguration is Flink's TaskExecutorMemoryConfiguration: the
// sizes of the JVM and Flink memory pools, bytes, null where not
// configured, as Flink sends them. Tide has none of those pools: only
// ManagedMemory (0) and TotalProcessMemory (the Go memory limit, when set)
// are known; the rest are null.
type MemoryConfiguration struct {
	FrameworkHeap      *int64 `json:"frameworkHeap"`
	TaskHeap           *int64 `json:"taskHeap"`
	FrameworkOffHeap   *int64 `json:"frameworkOffHeap"`
	TaskOffHeap        *int64 `json:"taskOffHeap"`
	NetworkMemory      *int64 `json:"networkMemory"`
	ManagedMemory      *int64 `json:"managedMemory"`
	JvmMetaspace       *int64 `json:"jvmMetaspace"`
	JvmOverhead        *int64 `json:"jvmOverhead"`
	TotalFlinkMemory   *int64 `json:"totalFlinkMemory"`
	TotalProcessMemory *int64 `json:"totalProcessMemory"`
}

// TaskManagerDetail is GET /taskmanagers/{taskmanagerid} (Flink's
// TaskManagerDetailsInfo).
type TaskManagerDetail struct {
	TaskManager
	// AllocatedSlots has one entry per slot a subtask of the job uses.
	AllocatedSlots []AllocatedSlot `json:"allocatedSlots"`
	// Metrics is the TaskManager's latest process sample; all 0 until it
	// sent one, as Flink's are before its metric store has the
	// TaskManager's (Flink's client refuses a null).
	Metrics TaskManagerMetrics `json:"metrics"`
}

// AllocatedSlot is a used slot (Flink's SlotInfo, without its resource
// profile, which Tide does not have).
type AllocatedSlot struct {
	JobID string `json:"jobId"`
}

// TaskManagerMetrics is a TaskManager's process memory in Flink's
// TaskManagerMetricsInfo names, bytes, read from the Go runtime: heap is
// the Go heap, non-heap the rest of what the runtime obtained from the OS
// (stacks, runtime structures). A maximum is -1 when no limit is set.
// Flink's direct, mapped and network-segment fields describe JVM and Netty
// pools Tide does not have; they are absent.
type TaskManagerMetrics struct {
	HeapUsed          int64              `json:"heapUsed"`
	HeapCommitted     int64              `json:"heapCommitted"`
	HeapMax           int64              `json:"heapMax"`
	NonHeapUsed       int64              `json:"nonHeapUsed"`
	NonHeapCommitted  int64              `json:"nonHeapCommitted"`
	NonHeapMax        int64              `json:"nonHeapMax"`
	GarbageCollectors []GarbageCollector `json:"garbageCollectors"`
}

// GarbageCollector is one collector's work (Flink's GarbageCollectorInfo):
// Go has one, named "Go". Time is its total stop-the-world pause, ms.
type GarbageCollector struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
	Time  int64  `json:"time"`
}

// Metric is one entry of a metric query's answer (Flink's Metric). Value
// is a string, as Flink sends it; a Backend always fills it, and the server
// drops it when the request listed ids only.
type Metric struct {
	ID    string `json:"id"`
	Value string `json:"value,omitempty"`
}

// ConfigEntry is one key of GET /jobmanager/config (Flink's
// ConfigurationInfoEntry).
type ConfigEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// JobConfig is GET /jobs/{jobid}/config. Flink's spec names its fields
// jobId, jobName and executionConfigInfo, but Flink's JobConfigInfo has its
// own serializer that writes jid, name and execution-config: Tide follows
// what Flink sends.
type JobConfig struct {
	JobID           string          `json:"jid"`
	Name            string          `json:"name"`
	ExecutionConfig ExecutionConfig `json:"execution-config"`
}

// ExecutionConfig is Flink's ExecutionConfigInfo.
type ExecutionConfig struct {
	// ExecutionMode is PIPELINED: records stream between subtasks.
	ExecutionMode string `json:"execution-mode"`
	// RestartStrategy describes restart-strategy in words, as Flink does.
	RestartStrategy string `json:"restart-strategy"`
	// JobParallelism is parallelism.default, or -1 in reactive mode, where
	// the slots decide (Flink's -1: the default).
	JobParallelism int `json:"job-parallelism"`
	// ObjectReuseMode is false: Tide's operators get their own records.
	ObjectReuseMode bool `json:"object-reuse-mode"`
	// UserConfig holds the job's arguments, keyed by position ("0", "1", …).
	UserConfig map[string]string `json:"user-config"`
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
