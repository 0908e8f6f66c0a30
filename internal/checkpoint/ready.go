package checkpoint

import "github.com/tide-stream/tide/internal/exec"

// Trigger asks the shell to inject checkpoint barriers.
type Trigger struct {
	Attempt    exec.Attempt
	Checkpoint ID
	// Request is what asked for the checkpoint (KindPeriodic for periodic
	// checkpoints).
	Request Request
	// Sources are the tasks to send the trigger to.
	Sources []exec.TaskKey
}

// Completion says a checkpoint's metadata is durable: the checkpoint is
// complete.
type Completion struct {
	Checkpoint ID
	// Attempt is the attempt whose tasks took the checkpoint; it may be
	// older than the current one if the attempt ended while the metadata
	// was being written.
	Attempt exec.Attempt
	Path    string
	// Request is what asked for the checkpoint.
	Request Request
}

// Failure says a checkpoint failed or a request was rejected.
type Failure struct {
	// Checkpoint is 0 when a TriggerRequest was rejected before a
	// checkpoint was triggered for it (job not running, queue full).
	Checkpoint ID
	// Request is what asked for the checkpoint or was rejected.
	Request Request
	// Reason says why it failed.
	Reason string
}

// Ready is the work the coordinator asks of its shell. The shell performs
// it, then calls Advance with the same Ready. Each field states what must
// happen before or after it; apart from that the fields are independent.
type Ready struct {
	// Triggers must be sent to their Sources, which inject barriers. A
	// trigger whose attempt is no longer running may be dropped.
	Triggers []Trigger

	// Persist, when not nil, is the metadata of a checkpoint every task has
	// acknowledged, so every state object it names is already durable. The
	// shell writes it LAST (checkpointstore.Store.WriteMetadata), then steps
	// Persisted with the path or the error. The checkpoint is not complete,
	// and nobody may be told it is, before that step. The shell must always
	// step Persisted: no other checkpoint starts while one awaits it.
	Persist *Metadata

	// Completed checkpoints have durable metadata. AFTER handling this the
	// shell sends "checkpoint complete" to the tasks of the Completion's
	// attempt (exactly-once sinks commit), and resolves savepoint requests
	// and rescale checkpoints by Request.
	Completed []Completion

	// Failed checkpoints (timed out, declined, attempt stopped, metadata
	// not persisted) and rejected requests. The job keeps running; the
	// shell may tell tasks to drop the checkpoint's pending state and
	// resolves requests by Request.
	Failed []Failure

	// Discard lists completed checkpoints beyond NumRetained, oldest first,
	// to delete (checkpointstore.Store.Discard). Never a savepoint, never
	// the latest completed one. The shell deletes them AFTER handling
	// Completed of the same Ready: each is discarded only once a newer
	// checkpoint is durable.
	Discard []ID
}

// empty reports whether rd holds no work.
func (rd *Ready) empty() bool {
	return len(rd.Triggers) == 0 && rd.Persist == nil && len(rd.Completed) == 0 &&
		len(rd.Failed) == 0 && len(rd.Discard) == 0
}
