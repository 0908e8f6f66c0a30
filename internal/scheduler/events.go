package scheduler

import (
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
)

// Trigger says what caused a rescale or restart; it is the "trigger" of the
// REST API's /jobs/:jobid/rescales.
type Trigger string

// The triggers. TaskManagers joining or leaving and manual requests are
// planned: with rescale-on-checkpoint they take a checkpoint first. A lost
// TaskManager or a failure restores the latest completed checkpoint.
const (
	TriggerJoined  Trigger = "taskmanager-joined"
	TriggerLeaving Trigger = "taskmanager-leaving"
	TriggerLost    Trigger = "taskmanager-lost"
	TriggerFailure Trigger = "failure"
	TriggerManual  Trigger = "manual"
	TriggerInitial Trigger = "initial"
)

// planned reports whether a rescale with this trigger may checkpoint first.
func (t Trigger) planned() bool {
	return t == TriggerJoined || t == TriggerLeaving || t == TriggerManual
}

// Event is an input to Step. The implementations are the types below.
type Event interface{ isEvent() }

// Start starts scheduling: Created → WaitingForResources.
type Start struct{}

// SlotsChanged reports the slot pool's new count of available slots (slots of
// registered TaskManagers that are not leaving).
type SlotsChanged struct {
	Available int
	Trigger   Trigger // TriggerJoined, TriggerLeaving or TriggerLost
}

// TasksRunning reports that every task of Attempt is running.
type TasksRunning struct{ Attempt exec.Attempt }

// TaskFailed reports a failure of a task of Attempt: a task error, or a lost
// TaskManager (Trigger TriggerLost).
type TaskFailed struct {
	Attempt   exec.Attempt
	Reason    string
	Retryable bool // false fails the job whatever the restart strategy
	Trigger   Trigger
}

// TasksStopped reports that every task of Attempt has stopped (canceled,
// finished, or gone with its TaskManager).
type TasksStopped struct{ Attempt exec.Attempt }

// TasksFinished reports that every task of Attempt has FINISHED: a bounded
// job is done.
type TasksFinished struct{ Attempt exec.Attempt }

// RescaleCheckpointDone is the outcome of a Ready.TriggerCheckpoint.
type RescaleCheckpointDone struct {
	Attempt    exec.Attempt
	Checkpoint checkpoint.ID // id of the completed checkpoint; ignored when Err != nil
	Err        error
}

// Cancel cancels the job. With Finish, the job is being stopped after a
// savepoint (stop-with-savepoint) and ends FINISHED rather than CANCELED,
// as in Flink.
type Cancel struct{ Finish bool }

// Displaced says the running attempt uses slots of a TaskManager that is
// leaving. The slot count may not change (another TaskManager joined as it
// left), but the attempt must move: it is a planned rescale all the same.
type Displaced struct{ Attempt exec.Attempt }

// Rescale asks for a rescale now (manual): the desired parallelism is
// re-evaluated at once, skipping the stabilization timeout and cooldown.
type Rescale struct{}

func (Start) isEvent()                 {}
func (Displaced) isEvent()             {}
func (SlotsChanged) isEvent()          {}
func (TasksRunning) isEvent()          {}
func (TaskFailed) isEvent()            {}
func (TasksStopped) isEvent()          {}
func (TasksFinished) isEvent()         {}
func (RescaleCheckpointDone) isEvent() {}
func (Cancel) isEvent()                {}
func (Rescale) isEvent()               {}

// attemptOf returns the attempt an event refers to, if any.
func attemptOf(ev Event) (exec.Attempt, bool) {
	switch e := ev.(type) {
	case TasksRunning:
		return e.Attempt, true
	case TaskFailed:
		return e.Attempt, true
	case TasksStopped:
		return e.Attempt, true
	case TasksFinished:
		return e.Attempt, true
	case RescaleCheckpointDone:
		return e.Attempt, true
	}
	return 0, false
}
