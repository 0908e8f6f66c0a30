package attempt

import (
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/scheduler"
)

// Ready is the work the shell must do, in field order: record the
// failures, step the coordinator, send the messages, then step the
// scheduler.
type Ready struct {
	// Failures go to the job's exception history.
	Failures []Failure
	// Coordinator are events for the checkpoint coordinator, in order. A
	// checkpoint.TriggerRequest for the final checkpoint that the
	// coordinator refuses is reported back as FinalRefused.
	Coordinator []checkpoint.Event
	// Messages go to TaskManagers, in order.
	Messages []Message
	// Scheduler are events for the scheduler, in order.
	Scheduler []scheduler.Event
}

func (rd *Ready) empty() bool {
	return len(rd.Failures) == 0 && len(rd.Coordinator) == 0 && len(rd.Messages) == 0 && len(rd.Scheduler) == 0
}

// Failure is a failure of an attempt, for the exception history.
type Failure struct {
	Attempt exec.Attempt
	// Name is the exception's class name; "" names it by Domain.
	Name   string
	Reason string
	// Task is the failed subtask, nil for a failure of no one subtask.
	Task        *exec.TaskKey
	TaskManager string
	Domain      rpc.FailureDomain
}

// MessageKind is what a Message asks of a TaskManager.
type MessageKind uint8

const (
	// Cancel every task of the attempt.
	Cancel MessageKind = iota + 1
	// Resume the attempt's sources halted at a checkpoint's barrier.
	Resume
	// Complete: the checkpoint completed (sinks commit).
	Complete
	// Trigger the checkpoint at the listed source subtasks.
	Trigger
)

func (k MessageKind) String() string {
	switch k {
	case Cancel:
		return "cancel"
	case Resume:
		return "resume"
	case Complete:
		return "complete"
	case Trigger:
		return "trigger"
	}
	return "message?"
}

// Message is one message to a TaskManager.
type Message struct {
	To         string // the registration
	Kind       MessageKind
	Attempt    exec.Attempt
	Checkpoint checkpoint.ID // Complete, Trigger
	// Tasks, Savepoint, Final and Halt describe a Trigger: the source
	// subtasks to inject the barrier at, whether the checkpoint is a
	// savepoint or the final one, and whether the sources halt after it.
	Tasks     []exec.TaskKey
	Savepoint bool
	Final     bool
	Halt      bool
}
