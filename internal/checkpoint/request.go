package checkpoint

import (
	"fmt"

	"github.com/tide-stream/tide/internal/exec"
)

// Kind is what a checkpoint is taken for. It travels with the request
// through Trigger, Completion and Failure, so that the shell tells a
// rescale's checkpoint from a savepoint by type, not by parsing ids.
type Kind uint8

// The kinds of checkpoint.
const (
	// KindPeriodic: execution.checkpointing.interval.
	KindPeriodic Kind = iota
	// KindManual: asked for by hand, with no further meaning.
	KindManual
	// KindSavepoint: a savepoint requested through the REST API.
	KindSavepoint
	// KindStopWithSavepoint: the savepoint a stop-with-savepoint stops the
	// job at; its sources halt after the barrier.
	KindStopWithSavepoint
	// KindRescale: taken before a planned rescale, which restores it; its
	// sources halt after the barrier.
	KindRescale
	// KindFinal: the last checkpoint of a bounded job; its sources end their
	// outputs after the barrier.
	KindFinal
)

func (k Kind) String() string {
	switch k {
	case KindPeriodic:
		return "periodic"
	case KindManual:
		return "manual"
	case KindSavepoint:
		return "savepoint"
	case KindStopWithSavepoint:
		return "stop-with-savepoint"
	case KindRescale:
		return "rescale"
	case KindFinal:
		return "final"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Savepoint says the checkpoint is a savepoint: kept until deleted by
// hand, never discarded by retention.
func (k Kind) Savepoint() bool { return k == KindSavepoint || k == KindStopWithSavepoint }

// Halts says the sources emit nothing after the barrier, until the job
// stops or they are resumed.
func (k Kind) Halts() bool { return k == KindRescale || k == KindStopWithSavepoint }

// Request identifies what asked for a checkpoint.
type Request struct {
	Kind Kind
	// ID is the REST API's savepoint request id, for savepoints.
	ID string
	// Attempt is the attempt a rescale's or a final checkpoint is for.
	Attempt exec.Attempt
}

func (r Request) String() string {
	switch {
	case r.ID != "":
		return fmt.Sprintf("%s %q", r.Kind, r.ID)
	case r.Attempt != 0:
		return fmt.Sprintf("%s of attempt %d", r.Kind, r.Attempt)
	}
	return r.Kind.String()
}
