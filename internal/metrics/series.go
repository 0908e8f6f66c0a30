package metrics

import (
	"slices"

	"github.com/tide-stream/tide/internal/metrichook"
)

// Kind is a series' Prometheus type.
type Kind uint8

// The kinds of series. Counters only grow (PromQL's rate() applies);
// gauges go up and down.
const (
	Counter Kind = iota + 1
	Gauge
)

func (k Kind) String() string {
	switch k {
	case Counter:
		return "counter"
	case Gauge:
		return "gauge"
	}
	return "unknown"
}

// Process names the processes that export a series.
type Process string

// The processes.
const (
	JobManager  Process = "JobManager"
	TaskManager Process = "TaskManager"
	Autoscaler  Process = "autoscaler"
)

// Series declares one metric: its name, type, help and label names. Every
// series Tide exports is declared below, once; a collector refers to its
// Series and cannot export another name.
type Series struct {
	Name    string
	Kind    Kind
	Help    string
	Labels  []string
	Process Process
}

// Label names, Flink's (DESIGN.md).
const (
	LabelJobID        = "job_id"
	LabelJobName      = "job_name"
	LabelTaskName     = "task_name"
	LabelSubtaskIndex = "subtask_index"
	LabelTMID         = "tm_id"
	LabelOperatorName = metrichook.LabelOperatorName
	LabelTopic        = metrichook.LabelTopic
	LabelPartition    = metrichook.LabelPartition
	LabelTrigger      = "trigger"
	LabelPolicy       = "policy"
	LabelDirection    = "direction"
)

var (
	jobLabels  = []string{LabelJobID, LabelJobName}
	taskLabels = []string{LabelJobID, LabelJobName, LabelTaskName, LabelSubtaskIndex, LabelTMID}
)

// The JobManager's series.
var (
	TaskManagers = &Series{Name: "tide_jobmanager_taskmanagers", Kind: Gauge, Process: JobManager,
		Help: "TaskManagers registered with the JobManager."}
	SlotsTotal = &Series{Name: "tide_jobmanager_slots_total", Kind: Gauge, Process: JobManager,
		Help: "Task slots of the registered TaskManagers."}
	SlotsAvailable = &Series{Name: "tide_jobmanager_slots_available", Kind: Gauge, Process: JobManager,
		Help: "Task slots that run no subtask of the job."}
	JobUptime = &Series{Name: "tide_job_uptime_seconds", Kind: Gauge, Process: JobManager, Labels: jobLabels,
		Help: "Time since the job started running, 0 when it does not run."}
	JobRestarts = &Series{Name: "tide_job_restarts_total", Kind: Counter, Process: JobManager, Labels: jobLabels,
		Help: "Restarts of the job after a failure or a lost TaskManager, since the JobManager started."}
	JobRescales = &Series{Name: "tide_job_rescales_total", Kind: Counter, Process: JobManager,
		Labels: append([]string{LabelTrigger}, jobLabels...),
		Help:   "Completed rescales of the job by trigger (initial, taskmanager-joined, taskmanager-lost, ...), since the JobManager started."}
	RescalePause = &Series{Name: "tide_job_rescale_pause_seconds_total", Kind: Counter, Process: JobManager,
		Labels: append([]string{LabelTrigger}, jobLabels...),
		Help:   "Time the job processed no records during completed rescales, by trigger, since the JobManager started."}
	ReprocessedRecords = &Series{Name: "tide_job_reprocessed_records_total", Kind: Counter, Process: JobManager,
		Labels: append([]string{LabelTrigger}, jobLabels...),
		Help:   "Records the sources read again after completed rescales (their position when the old subtasks stopped minus the restored one), by trigger."}
	CheckpointsCompleted = &Series{Name: "tide_checkpoints_completed_total", Kind: Counter, Process: JobManager, Labels: jobLabels,
		Help: "Checkpoints and savepoints completed, since the JobManager started."}
	CheckpointsFailed = &Series{Name: "tide_checkpoints_failed_total", Kind: Counter, Process: JobManager, Labels: jobLabels,
		Help: "Checkpoints and savepoints that failed, since the JobManager started."}
	CheckpointLastDuration = &Series{Name: "tide_checkpoint_last_duration_seconds", Kind: Gauge, Process: JobManager, Labels: jobLabels,
		Help: "Duration of the latest completed checkpoint, from trigger to completion."}
	CheckpointLastSize = &Series{Name: "tide_checkpoint_last_size_bytes", Kind: Gauge, Process: JobManager, Labels: jobLabels,
		Help: "State size of the latest completed checkpoint."}
)

// The TaskManager's series.
var (
	TaskRecordsIn = &Series{Name: "tide_task_records_in_total", Kind: Counter, Process: TaskManager, Labels: taskLabels,
		Help: "Records a subtask received, from the network or, for a source, from its system."}
	TaskRecordsOut = &Series{Name: "tide_task_records_out_total", Kind: Counter, Process: TaskManager, Labels: taskLabels,
		Help: "Records a subtask sent over the network to the subtasks downstream."}
	TaskBusy = &Series{Name: "tide_task_busy_seconds_total", Kind: Counter, Process: TaskManager, Labels: taskLabels,
		Help: "Time a subtask spent working (neither idle nor back-pressured)."}
	TaskBackpressured = &Series{Name: "tide_task_backpressured_seconds_total", Kind: Counter, Process: TaskManager, Labels: taskLabels,
		Help: "Time a subtask spent waiting for buffers or credits downstream."}
	TaskIdle = &Series{Name: "tide_task_idle_seconds_total", Kind: Counter, Process: TaskManager, Labels: taskLabels,
		Help: "Time a subtask spent waiting for input."}
	TaskWatermark = &Series{Name: "tide_task_watermark_milliseconds", Kind: Gauge, Process: TaskManager, Labels: taskLabels,
		Help: "A subtask's output event-time watermark, ms since the Unix epoch (absent before its first watermark)."}
	TaskStateSize = &Series{Name: "tide_task_state_size_bytes", Kind: Gauge, Process: TaskManager, Labels: taskLabels,
		Help: "Keyed state a subtask wrote at its last checkpoint."}
	TaskInputQueue = &Series{Name: "tide_task_input_queue_length", Kind: Gauge, Process: TaskManager, Labels: taskLabels,
		Help: "Messages (record buffers, barriers, watermarks) waiting at a subtask's input gate."}
	TaskInputQueueCapacity = &Series{Name: "tide_task_input_queue_capacity", Kind: Gauge, Process: TaskManager, Labels: taskLabels,
		Help: "The capacity of a subtask's input gate, in messages: its queue is full at this length."}
	TaskOutputCredits = &Series{Name: "tide_task_output_credits", Kind: Gauge, Process: TaskManager, Labels: taskLabels,
		Help: "Credits a subtask holds over its output channels: buffers it may send without waiting; 0 while every consumer applies backpressure."}
	TaskManagerCPU = &Series{Name: "tide_taskmanager_cpu_seconds_total", Kind: Counter, Process: TaskManager, Labels: []string{LabelTMID},
		Help: "CPU time the TaskManager process used, user and system."}
	TaskManagerCPULimit = &Series{Name: "tide_taskmanager_cpu_limit_cores", Kind: Gauge, Process: TaskManager, Labels: []string{LabelTMID},
		Help: "CPU the TaskManager may use, in cores: its cgroup's quota (a pod's limit), else the machine's cores. CPU utilization is the rate of tide_taskmanager_cpu_seconds_total over this."}
)

// The series connectors report through their subtask's metric hook
// (metrichook.Group); their names are declared in internal/metrichook,
// which connectors import without Prometheus.
var (
	KafkaConsumerLag = &Series{Name: metrichook.KafkaConsumerLag, Kind: Gauge, Process: TaskManager,
		Labels: partitionLabels,
		Help: "Records of a Kafka partition not read yet: its high watermark (read_committed: its last stable offset; bounded: at most the stop offset) " +
			"as of the latest fetch, minus the source's position. Absent until the partition's first fetch."}
	KafkaConsumerLagMax = &Series{Name: metrichook.KafkaConsumerLagMax, Kind: Gauge, Process: TaskManager,
		Labels: operatorLabels,
		Help:   "The largest tide_kafka_consumer_lag_records of a source subtask's partitions (Flink's records-lag-max)."}
	KafkaRecordsSkipped = &Series{Name: metrichook.KafkaRecordsSkipped, Kind: Counter, Process: TaskManager,
		Labels: partitionLabels,
		Help:   "Records of a Kafka partition the source skipped because its deserializer rejected them (OnDeserializeError Skip)."}
	KafkaRecordsDeadLettered = &Series{Name: metrichook.KafkaRecordsDeadLettered, Kind: Counter, Process: TaskManager,
		Labels: partitionLabels,
		Help:   "Records of a Kafka partition its deserializer rejected that the source produced to the dead-letter topic, acknowledged (OnDeserializeError DeadLetter)."}
	KafkaRecordsLost = &Series{Name: metrichook.KafkaRecordsLost, Kind: Counter, Process: TaskManager,
		Labels: partitionLabels,
		Help:   "Records of a Kafka partition the source never read because retention deleted them before it did and it reset to the log start (OnOffsetOutOfRange ResetEarliest)."}
)

var (
	operatorLabels  = append(slices.Clone(taskLabels), LabelOperatorName)
	partitionLabels = append(slices.Clone(operatorLabels), LabelTopic, LabelPartition)
)

// Hooked lists the series operators report through their subtask's
// metric hook: a TaskManager exports them from its subtasks' registries
// (EmitHooked), the subtask's labels (taskLabels) first.
var Hooked = []*Series{KafkaConsumerLag, KafkaConsumerLagMax, KafkaRecordsSkipped, KafkaRecordsDeadLettered, KafkaRecordsLost}

// The autoscaler's series (`tide autoscaler`).
var (
	AutoscalerCurrent = &Series{Name: "tide_autoscaler_current_taskmanagers", Kind: Gauge, Process: Autoscaler, Labels: []string{LabelPolicy},
		Help: "TaskManagers the autoscaler last asked its driver for."}
	AutoscalerDesired = &Series{Name: "tide_autoscaler_desired_taskmanagers", Kind: Gauge, Process: Autoscaler, Labels: []string{LabelPolicy},
		Help: "TaskManagers the policy's last decision wanted."}
	AutoscalerDecisions = &Series{Name: "tide_autoscaler_decisions_total", Kind: Counter, Process: Autoscaler, Labels: []string{LabelPolicy, LabelDirection},
		Help: "Decisions by direction: up, down, or hold (no change)."}
)

// All lists every series Tide declares, in the order of the docs' table.
var All = []*Series{
	TaskManagers, SlotsTotal, SlotsAvailable, JobUptime, JobRestarts, JobRescales, RescalePause, ReprocessedRecords,
	CheckpointsCompleted, CheckpointsFailed, CheckpointLastDuration, CheckpointLastSize,
	TaskRecordsIn, TaskRecordsOut, TaskBusy, TaskBackpressured, TaskIdle,
	TaskWatermark, TaskStateSize, TaskInputQueue, TaskInputQueueCapacity, TaskOutputCredits,
	TaskManagerCPU, TaskManagerCPULimit,
	KafkaConsumerLag, KafkaConsumerLagMax, KafkaRecordsSkipped, KafkaRecordsDeadLettered, KafkaRecordsLost,
	AutoscalerCurrent, AutoscalerDesired, AutoscalerDecisions,
}
