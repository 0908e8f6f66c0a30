package attempt

import (
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/scheduler"
)

// Event is an input of the Lifecycle.
type Event interface{ isEvent() }

// Deployed says the shell has sent attempt Attempt's tasks to their
// TaskManagers. It replaces the previous attempt, which the scheduler has
// stopped first.
type Deployed struct {
	Attempt exec.Attempt
	Tasks   []Task
	// Restored is the checkpoint the attempt restores, 0 for none;
	// RestoredPosition the sources' total position in it.
	Restored         checkpoint.ID
	RestoredPosition int64
}

// Task is one subtask of a deployed attempt.
type Task struct {
	Key         exec.TaskKey
	TaskManager string // the registration that runs it
	Source      bool
}

// Status is a subtask's report.
type Status struct {
	TaskManager string // the registration it came from
	Attempt     exec.Attempt
	Task        exec.TaskKey
	State       rpc.TaskState
	// Error and Domain describe a failure.
	Error  string
	Domain rpc.FailureDomain
	// SourceDone: a source has emitted all its input.
	SourceDone bool
	// FirstRecord and LastRecord bound the records the subtask processed,
	// in unix nanoseconds (0: none).
	FirstRecord, LastRecord int64
	// SourcePosition is a source's total position (0: not known).
	SourcePosition int64
	// RestoredBytes and LocalKeyGroups are the subtask's restore statistics.
	RestoredBytes  int64
	LocalKeyGroups int
}

// Acked says a subtask acknowledged a checkpoint; a source reports its
// position with it.
type Acked struct {
	Attempt        exec.Attempt
	Task           exec.TaskKey
	SourcePosition int64
}

// TaskManagerGone says a registration ended: lost, or a leaving TaskManager
// that disconnected.
type TaskManagerGone struct {
	TaskManager string
	// DataAddr is where its data plane listened, for the failure message.
	DataAddr string
	Leaving  bool
	Reason   string
}

// Stop is the scheduler's Ready.Stop: cancel every task of Attempt.
type Stop struct{ Attempt exec.Attempt }

// JobEnded says the job reached a terminal state.
type JobEnded struct{}

// Triggered is a checkpoint the coordinator triggered: its barriers go to
// Sources, unless the attempt is being stopped.
type Triggered struct {
	Attempt    exec.Attempt
	Checkpoint checkpoint.ID
	Request    checkpoint.Request
	Sources    []exec.TaskKey
}

// CheckpointEnded is a checkpoint the coordinator completed (Failure "")
// or failed. Checkpoint is 0 for a request refused before it started.
type CheckpointEnded struct {
	Attempt    exec.Attempt
	Checkpoint checkpoint.ID
	Request    checkpoint.Request
	Failure    string
}

// FinalRefused says the coordinator refused the final checkpoint that
// Ready asked for; it is asked for again after RetryInterval.
type FinalRefused struct{ Attempt exec.Attempt }

// RescaleStarted and RescaleEnded are the scheduler's rescale records.
type RescaleStarted struct{ Record scheduler.RescaleRecord }
type RescaleEnded struct{ Record scheduler.RescaleRecord }

func (Deployed) isEvent()        {}
func (Status) isEvent()          {}
func (Acked) isEvent()           {}
func (TaskManagerGone) isEvent() {}
func (Stop) isEvent()            {}
func (JobEnded) isEvent()        {}
func (Triggered) isEvent()       {}
func (CheckpointEnded) isEvent() {}
func (FinalRefused) isEvent()    {}
func (RescaleStarted) isEvent()  {}
func (RescaleEnded) isEvent()    {}
