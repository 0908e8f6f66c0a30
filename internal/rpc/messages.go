package rpc

// Envelope is the one message type on the Connect stream. Exactly one field
// is set. A tagged struct rather than an interface keeps the JSON codec
// trivial and makes an unknown message (from a newer build) an empty
// envelope that the receiver refuses by name.
type Envelope struct {
	// TaskManager -> JobManager.
	Register       *Register          `json:"register,omitempty"`
	HeartbeatReply *HeartbeatReply    `json:"heartbeatReply,omitempty"`
	TaskStatus     *TaskStatus        `json:"taskStatus,omitempty"`
	Ack            *CheckpointAck     `json:"ack,omitempty"`
	Decline        *CheckpointDecline `json:"decline,omitempty"`
	Leaving        *Leaving           `json:"leaving,omitempty"`
	PeerLost       *PeerLost          `json:"peerLost,omitempty"`
	Metrics        *Metrics           `json:"metrics,omitempty"`

	// JobManager -> TaskManager.
	Registered *Registered         `json:"registered,omitempty"`
	Refused    *Refused            `json:"refused,omitempty"`
	Heartbeat  *Heartbeat          `json:"heartbeat,omitempty"`
	Deploy     *Deploy             `json:"deploy,omitempty"`
	Cancel     *Cancel             `json:"cancel,omitempty"`
	Trigger    *TriggerCheckpoint  `json:"trigger,omitempty"`
	Complete   *CheckpointComplete `json:"complete,omitempty"`
	Released   *Released           `json:"released,omitempty"`
	Resume     *Resume             `json:"resume,omitempty"`
	AddSplits  *AddSplits          `json:"addSplits,omitempty"`
}

// Register is the first message of a TaskManager on a new stream.
type Register struct {
	// ResourceID names the TaskManager process (stable across reconnects).
	ResourceID string `json:"resourceId"`
	// Version is the build version; the JobManager refuses another one.
	Version  string `json:"version"`
	Slots    int    `json:"slots"`
	DataAddr string `json:"dataAddr"`
	Host     string `json:"host"`
	PID      int    `json:"pid"`
	// CPUCores is the CPU the TaskManager may use (its cgroup quota, or
	// the machine's cores); PhysicalMemory the machine's memory and
	// MemoryLimit the process's Go memory limit, bytes. 0: not reported
	// (an older TaskManager); MemoryLimit -1: none set.
	CPUCores       float64 `json:"cpuCores,omitempty"`
	PhysicalMemory int64   `json:"physicalMemory,omitempty"`
	MemoryLimit    int64   `json:"memoryLimit,omitempty"`
	// LastJobID and LastAttempt are the job this TaskManager ran last and
	// the newest attempt of it that it ran: a JobManager whose job record
	// knows fewer attempts is not looking at the checkpoint directory the
	// job ran with.
	LastJobID   string `json:"lastJobId,omitempty"`
	LastAttempt uint64 `json:"lastAttempt,omitempty"`
}

// Registered accepts a registration. RegistrationID fences: every later
// message of this TaskManager is valid only while this registration is.
type Registered struct {
	RegistrationID string `json:"registrationId"`
	// Incarnation names the JobManager process: a TaskManager that finds
	// another one than at its previous registration starts over (the job,
	// its arguments, its storage and the data plane's fences may all have
	// changed).
	Incarnation string   `json:"incarnation"`
	JobID       string   `json:"jobId"`
	JobName     string   `json:"jobName"`
	JobArgs     []string `json:"jobArgs"`
	// PlanDigest is the JobManager's digest of the job graph; a TaskManager
	// that builds another graph from the same job refuses to run it.
	PlanDigest         string            `json:"planDigest"`
	MaxParallelism     int               `json:"maxParallelism"`
	Config             map[string]string `json:"config"`
	HeartbeatTimeoutMs int64             `json:"heartbeatTimeoutMs"`
}

// Refused ends a registration attempt with a reason for the TaskManager's log.
type Refused struct {
	Reason string `json:"reason"`
	// Retry says the refusal is for now (the job has ended and its
	// JobManager is about to go): the TaskManager keeps registering, for
	// the next JobManager at its address. Without it the refusal is for
	// good (another version).
	Retry bool `json:"retry,omitempty"`
}

// Heartbeat is the JobManager's periodic liveness request.
type Heartbeat struct {
	Seq uint64 `json:"seq"`
}

// HeartbeatReply answers a Heartbeat.
type HeartbeatReply struct {
	Seq uint64 `json:"seq"`
}

// Leaving tells the JobManager that the TaskManager was asked to stop and
// will keep serving until the job has rescaled without it.
type Leaving struct {
	Reason string `json:"reason"`
}

// Released tells a leaving TaskManager that no task of the current attempt
// runs on it any more, so it may exit.
type Released struct{}

// PeerLost reports that a data connection to another TaskManager broke.
type PeerLost struct {
	DataAddr string `json:"dataAddr"`
	Error    string `json:"error"`
}

// TaskKey names one subtask.
type TaskKey struct {
	Vertex  string `json:"vertex"`
	Subtask int    `json:"subtask"`
}

// Placement says where subtask i of a vertex runs: the data address of its
// TaskManager.
type Placement struct {
	Vertex    string   `json:"vertex"`
	DataAddrs []string `json:"dataAddrs"`
}

// OperatorRestore is the share of one operator's checkpointed state that a
// subtask restores.
type OperatorRestore struct {
	OperatorID string       `json:"operatorId"`
	Keyed      []KeyedSlice `json:"keyed,omitempty"`
	List       [][]byte     `json:"list,omitempty"`
	// SourcePosition is the restored operator's total source position.
	SourcePosition int64 `json:"sourcePosition,omitempty"`
}

// TaskDeployment is one subtask to run.
type TaskDeployment struct {
	Task      TaskKey           `json:"task"`
	KeyGroups KeyGroupRange     `json:"keyGroups"`
	Restore   []OperatorRestore `json:"restore,omitempty"`
}

// Deploy starts the subtasks of one attempt on a TaskManager.
type Deploy struct {
	Attempt     uint64           `json:"attempt"`
	Parallelism map[string]int   `json:"parallelism"`
	Placements  []Placement      `json:"placements"`
	Tasks       []TaskDeployment `json:"tasks"`
	// CheckpointID is the checkpoint restored (0: fresh start); state objects
	// are read relative to StateRoot.
	CheckpointID uint64 `json:"checkpointId"`
}

// Cancel stops every task of an attempt on the TaskManager.
type Cancel struct {
	Attempt uint64 `json:"attempt"`
}

// TriggerCheckpoint asks a source subtask to inject a barrier.
type TriggerCheckpoint struct {
	Attempt    uint64 `json:"attempt"`
	Checkpoint uint64 `json:"checkpoint"`
	Savepoint  bool   `json:"savepoint,omitempty"`
	// Final marks the last checkpoint of a bounded job: sources end their
	// outputs after its barrier.
	Final bool `json:"final,omitempty"`
	// Halt asks sources to emit nothing after the barrier until resumed or
	// canceled: the checkpoint is the last state of the attempt (a planned
	// rescale, stop-with-savepoint), so restoring it reprocesses nothing.
	Halt  bool      `json:"halt,omitempty"`
	Tasks []TaskKey `json:"tasks"`
}

// Resume lets halted sources of an attempt go on: the rescale they halted
// for was abandoned.
type Resume struct {
	Attempt uint64 `json:"attempt"`
}

// AddSplits hands splits that the JobManager's enumerator found to a
// source subtask of an attempt.
type AddSplits struct {
	Attempt uint64  `json:"attempt"`
	Task    TaskKey `json:"task"`
	// Entries are the splits, in the encoding of the reader's snapshot
	// entries.
	Entries [][]byte `json:"entries,omitempty"`
	// NoMore says no split will follow: a bounded source's reader ends
	// once its splits are done.
	NoMore bool `json:"noMore,omitempty"`
}

// CheckpointComplete tells every task that a checkpoint's metadata is
// durable: sinks commit.
type CheckpointComplete struct {
	Attempt    uint64 `json:"attempt"`
	Checkpoint uint64 `json:"checkpoint"`
}

// TaskState is the lifecycle state of a subtask.
type TaskState string

// Task states, Flink's names.
const (
	TaskDeploying TaskState = "DEPLOYING"
	TaskRunning   TaskState = "RUNNING"
	TaskFinished  TaskState = "FINISHED"
	TaskCanceled  TaskState = "CANCELED"
	TaskFailed    TaskState = "FAILED"
)

// TaskStatus reports a subtask's state change or progress.
type TaskStatus struct {
	Attempt uint64    `json:"attempt"`
	Task    TaskKey   `json:"task"`
	State   TaskState `json:"state"`
	Error   string    `json:"error,omitempty"`
	// Domain classifies a failure.
	Domain FailureDomain `json:"domain,omitempty"`
	// SourceDone is set once a source subtask has emitted all its input
	// and waits for the final checkpoint.
	SourceDone bool `json:"sourceDone,omitempty"`
	// FirstRecordUnixNano and LastRecordUnixNano bound the records this
	// subtask processed in this attempt (0: none), for rescale pauses.
	FirstRecordUnixNano int64 `json:"firstRecord,omitempty"`
	LastRecordUnixNano  int64 `json:"lastRecord,omitempty"`
	// SourcePosition is a source's total position when it stopped.
	SourcePosition int64 `json:"sourcePosition,omitempty"`
	// RestoredBytes is the keyed state the subtask read from the blob store
	// on restore; LocalKeyGroups the key groups it kept in memory instead.
	RestoredBytes  int64 `json:"restoredBytes,omitempty"`
	LocalKeyGroups int   `json:"localKeyGroups,omitempty"`
}

// CheckpointAck carries a subtask's snapshot handles.
type CheckpointAck struct {
	Attempt    uint64             `json:"attempt"`
	Checkpoint uint64             `json:"checkpoint"`
	Task       TaskKey            `json:"task"`
	Snapshots  []OperatorSnapshot `json:"snapshots"`
}

// CheckpointDecline reports that a subtask could not take a checkpoint.
type CheckpointDecline struct {
	Attempt    uint64  `json:"attempt"`
	Checkpoint uint64  `json:"checkpoint"`
	Task       TaskKey `json:"task"`
	Reason     string  `json:"reason"`
}

// Metrics is a TaskManager's periodic sample of its subtasks' time split,
// and of its process.
type Metrics struct {
	Attempt uint64       `json:"attempt"`
	Tasks   []TaskSample `json:"tasks"`
	// Process is nil from an older TaskManager.
	Process *ProcessSample `json:"process,omitempty"`
}

// ProcessSample is a TaskManager process's CPU and memory, read from the
// Go runtime; sizes are bytes.
type ProcessSample struct {
	// CPUNs is the CPU time the process used, user and system.
	CPUNs int64 `json:"cpuNs"`
	// HeapUsed is the Go heap's live and not yet swept objects;
	// HeapCommitted what the heap obtained from the OS.
	HeapUsed      int64 `json:"heapUsed"`
	HeapCommitted int64 `json:"heapCommitted"`
	// NonHeapCommitted is the rest the runtime obtained from the OS
	// (stacks, runtime structures); NonHeapUsed the part in use.
	NonHeapUsed      int64 `json:"nonHeapUsed"`
	NonHeapCommitted int64 `json:"nonHeapCommitted"`
	// MemoryLimit is the Go memory limit, -1 when none is set.
	MemoryLimit int64 `json:"memoryLimit"`
	// GCCount and GCPauseNs count the garbage collections and their
	// stop-the-world pauses since the process started.
	GCCount   int64 `json:"gcCount"`
	GCPauseNs int64 `json:"gcPauseNs"`
	// Goroutines is the number of goroutines.
	Goroutines int64 `json:"goroutines"`
}

// TaskSample is one subtask's cumulative time split since it started.
type TaskSample struct {
	Task            TaskKey `json:"task"`
	UptimeNs        int64   `json:"uptimeNs"`
	IdleNs          int64   `json:"idleNs"`
	BackPressuredNs int64   `json:"backPressuredNs"`
	// RecordsIn counts the records read from the network since the subtask
	// started; SourcePosition is a source's position (records emitted since
	// the job's first start).
	RecordsIn      int64 `json:"recordsIn,omitempty"`
	SourcePosition int64 `json:"sourcePosition,omitempty"`
	// RecordsOut counts the records sent to the network since the subtask
	// started.
	RecordsOut int64 `json:"recordsOut,omitempty"`
	// PendingRecords is a source's records waiting in its system (a Kafka
	// lag), -1 when it does not know or is not a source.
	PendingRecords int64 `json:"pendingRecords,omitempty"`
}

// FailureDomain classifies a task failure: where it came from, and so
// whether restarting may mend it.
type FailureDomain string

// The failure domains.
const (
	// DomainUser: the job's own code failed (an error, a panic). Restarts
	// are bounded by the restart strategy.
	DomainUser FailureDomain = "user"
	// DomainExternal: the world around the task (storage, a peer's data
	// connection, a source's system).
	DomainExternal FailureDomain = "external"
	// DomainInternal: Tide itself.
	DomainInternal FailureDomain = "internal"
	// DomainCorruptCheckpoint: the state restored does not verify.
	DomainCorruptCheckpoint FailureDomain = "corrupt-checkpoint"
	// DomainPermanent: no restart can mend it (operator.Permanent).
	DomainPermanent FailureDomain = "permanent"
)

// Retryable says a restart may mend a failure of domain d.
func (d FailureDomain) Retryable() bool { return d != DomainPermanent }
