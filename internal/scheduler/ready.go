package scheduler

import (
	"time"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
)

// Ready is the work the shell must do, in field order: publish Transition
// first, then trigger the checkpoint, stop tasks BEFORE deploying, and
// publish the rescale records last. Fields that are nil mean nothing to do.
type Ready struct {
	// Transition is the state change this batch of work belongs to. Publish
	// it (job status, REST) before doing the rest.
	Transition *Transition
	// TriggerCheckpoint asks the checkpoint coordinator for a checkpoint of
	// the running attempt before a planned rescale stops it. Its outcome
	// comes back as RescaleCheckpointDone.
	TriggerCheckpoint *CheckpointRequest
	// Stop asks to cancel every task of this attempt. Its completion comes
	// back as TasksStopped. Stopping an attempt that already stopped must be
	// harmless.
	Stop *exec.Attempt
	// Deploy asks to deploy every task of a new attempt. It always comes in
	// a later Ready than the Stop of the previous attempt, after that
	// attempt's TasksStopped.
	Deploy *Deployment
	// RescaleStarted and RescaleEnded publish a rescale record (REST
	// /jobs/:jobid/rescales). A started record is updated in place: the
	// RescaleEnded record with the same ID replaces it.
	RescaleStarted *RescaleRecord
	RescaleEnded   *RescaleRecord
}

// empty reports whether rd holds no work.
func (rd *Ready) empty() bool {
	return rd.Transition == nil && rd.TriggerCheckpoint == nil && rd.Stop == nil &&
		rd.Deploy == nil && rd.RescaleStarted == nil && rd.RescaleEnded == nil
}

// Transition is a change of the scheduler's state.
type Transition struct {
	From, To State
	Reason   string
}

// CheckpointRequest asks for a checkpoint of Attempt.
type CheckpointRequest struct {
	Attempt exec.Attempt
	Reason  string
}

// Deployment is one attempt of the job's tasks.
type Deployment struct {
	// Attempt is the attempt number; it increases by one per deployment.
	Attempt exec.Attempt
	// Parallelism is the parallelism of each vertex, by vertex id.
	Parallelism map[exec.VertexID]int
	// Slots is the number of slots to assign: the largest parallelism.
	Slots int
	// RestoreFrom is the id of the checkpoint to restore; 0 restores the
	// latest completed checkpoint, or none if there is none.
	RestoreFrom checkpoint.ID
}

// RescaleRecord describes one rescale or restart.
type RescaleRecord struct {
	// ID numbers the records of a job from 1.
	ID      int
	Trigger Trigger
	// From and To are slot counts (the largest vertex parallelism) before
	// and after. To is final once the deployment is made.
	From, To int
	// Checkpoint is the checkpoint restored, 0 for the latest completed.
	Checkpoint checkpoint.ID
	// RescaleCheckpointFailed is set when a planned rescale wanted its own
	// checkpoint but had to fall back to the latest completed one (the
	// checkpoint failed, or a failure overtook it).
	RescaleCheckpointFailed bool
	// Start is when the rescale was decided; End, when the new attempt's
	// tasks were all running (zero while open). End-Start is the pause.
	Start, End time.Time
}
