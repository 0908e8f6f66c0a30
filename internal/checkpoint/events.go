package checkpoint

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tide-stream/tide/internal/exec"
)

// exec.TaskKey names one subtask of the job graph.

// OperatorSnapshot is what one subtask reports for one of its (chained)
// operators when it acknowledges a checkpoint. The state objects it names
// are already durable.
type OperatorSnapshot struct {
	OperatorID string
	// Subtask is the subtask index; it must equal the acknowledging task's.
	Subtask int
	// Keyed is the subtask's keyed state object, nil if it has none.
	Keyed *KeyedHandle
	// List is the subtask's operator list state.
	List [][]byte
	// SourcePosition is the number of records the subtask's source emitted
	// before the barrier; 0 if it is not a source.
	SourcePosition int64
}

// Event is an input to Coordinator.Step. The implementations are the
// structs of this file; the interface is sealed.
type Event interface {
	isEvent()
}

// AttemptStarted says the tasks of a new attempt of the job are running.
// Checkpoints of older attempts that still wait for acknowledgements are
// aborted.
type AttemptStarted struct {
	Attempt exec.Attempt
	// Sources are the tasks to which triggers go.
	Sources []exec.TaskKey
	// Tasks are all the tasks that must acknowledge a checkpoint; Sources
	// is a subset.
	Tasks []exec.TaskKey
}

// AttemptStopped says the tasks of an attempt are stopping or gone; its
// checkpoints that still wait for acknowledgements fail ("attempt stopped").
type AttemptStopped struct {
	Attempt exec.Attempt
}

// TriggerRequest asks for a checkpoint now: manual, a savepoint, the
// checkpoint taken before a planned rescale, or the final checkpoint of a
// bounded job. If a checkpoint is in flight the request is queued; at most
// one request is queued, and a further request while one is queued fails at
// once (Ready.Failed with ID 0).
type TriggerRequest struct {
	// Request is carried through to the Trigger and the Completion or
	// Failure that resolves it.
	Request Request
}

// Ack acknowledges a checkpoint from one task, with the snapshots of its
// operators. Acks of older attempts, of unknown or aborted checkpoints,
// from unknown tasks and duplicates are logged and ignored.
type Ack struct {
	Attempt    exec.Attempt
	Checkpoint ID
	Task       exec.TaskKey
	Snapshots  []OperatorSnapshot
}

// Decline says a task could not take the checkpoint; the checkpoint fails
// and the job keeps running.
type Decline struct {
	Attempt    exec.Attempt
	Checkpoint ID
	Task       exec.TaskKey
	Reason     string
}

// Persisted reports the outcome of writing Ready.Persist: on success the
// metadata is durable at Path; with Err the checkpoint fails.
type Persisted struct {
	Checkpoint ID
	Path       string
	Err        error
}

// Restored says the job was restored from the checkpoint or savepoint at
// Path. Checkpoint ids continue after it.
type Restored struct {
	Metadata *Metadata
	Path     string
}

func (AttemptStarted) isEvent() {}
func (AttemptStopped) isEvent() {}
func (TriggerRequest) isEvent() {}
func (Ack) isEvent()            {}
func (Decline) isEvent()        {}
func (Persisted) isEvent()      {}
func (Restored) isEvent()       {}

// Config configures a Coordinator. The zero value of a field with a
// default means the default.
type Config struct {
	// Interval between periodic checkpoints, counted from the latest
	// trigger of any kind; 0 turns them off
	// (execution.checkpointing.interval). A periodic checkpoint due while
	// another is in flight is queued.
	Interval time.Duration
	// Timeout after which a checkpoint still waiting for acknowledgements
	// fails (execution.checkpointing.timeout). Default 10 minutes.
	Timeout time.Duration
	// NumRetained is how many completed checkpoints are kept; older ones
	// are discarded (state.checkpoints.num-retained). Savepoints do not
	// count and are never discarded. Default 3.
	NumRetained int
	// JobID names the job in the metadata. Required.
	JobID string
	// MaxParallelism is the job's number of key groups. Required.
	MaxParallelism int
	// Retained are completed checkpoints (not savepoints) of the job that a
	// recovered JobManager found, kept as if it had taken them: retention
	// (NumRetained) discards them in turn.
	Retained []Retained
	// FirstID is the id of the first checkpoint, 1 when zero. A
	// JobManager that finds checkpoint directories of earlier runs of the
	// job starts above them, so that no directory is used twice.
	FirstID ID
	// Logger receives the coordinator's log; nil discards it.
	Logger *slog.Logger
}

// Retained is a completed checkpoint the coordinator keeps until newer ones
// subsume it.
type Retained struct {
	ID   ID
	Path string
}

// Defaults of Config.
const (
	DefaultTimeout     = 10 * time.Minute
	DefaultNumRetained = 3
)

// EnsureDefaults fills the zero fields that have defaults.
func (c *Config) EnsureDefaults() {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.NumRetained == 0 {
		c.NumRetained = DefaultNumRetained
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports every problem of c (after EnsureDefaults) at once.
func (c *Config) Validate() error {
	var errs []error
	if c.Interval < 0 {
		errs = append(errs, fmt.Errorf("checkpoint interval %v is negative", c.Interval))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("checkpoint timeout %v is not positive", c.Timeout))
	}
	if c.NumRetained < 1 {
		errs = append(errs, fmt.Errorf("checkpoints to retain %d is less than 1", c.NumRetained))
	}
	if c.JobID == "" {
		errs = append(errs, errors.New("empty job id"))
	}
	if c.MaxParallelism < 1 || c.MaxParallelism > 1<<15 {
		errs = append(errs, fmt.Errorf("max parallelism %d out of range [1, 32768]", c.MaxParallelism))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("checkpoint config: %w", errors.Join(errs...))
}
