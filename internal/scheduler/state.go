package scheduler

import "strconv"

// State is the scheduler's state.
type State int

// The states. Finished, Failed and Canceled are terminal.
const (
	Created State = iota
	WaitingForResources
	Executing
	Restarting
	Canceling
	Finished
	Failed
	Canceled
)

var stateNames = [...]string{
	Created:             "Created",
	WaitingForResources: "WaitingForResources",
	Executing:           "Executing",
	Restarting:          "Restarting",
	Canceling:           "Canceling",
	Finished:            "Finished",
	Failed:              "Failed",
	Canceled:            "Canceled",
}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Terminal reports whether s is a final state.
func (s State) Terminal() bool { return s == Finished || s == Failed || s == Canceled }

// JobStatus is the job status the REST API reports in this state (Flink's
// JobStatus names).
func (s State) JobStatus() string {
	switch s {
	case Created, WaitingForResources:
		return "CREATED"
	case Executing:
		return "RUNNING"
	case Restarting:
		return "RESTARTING"
	case Canceling:
		return "CANCELLING"
	case Finished:
		return "FINISHED"
	case Failed:
		return "FAILED"
	case Canceled:
		return "CANCELED"
	}
	return "UNKNOWN"
}
