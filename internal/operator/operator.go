// Package operator owns the contract between the operators that the public
// stream API builds and the task runtime that runs them: how a chain of
// operators is wired, the lifecycle calls every operator gets, and the
// context it sees. It has no logic of its own.
//
// Operators are push-based and typed: each one receives values through an
// Emitter of its input type and pushes results into the Emitter of the next.
// The runtime is type-erased only while it wires a chain (values of type
// any that hold Emitter[T]), never per record.
package operator

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"time"

	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/metrichook"
	"github.com/tide-stream/tide/internal/state"
)

// NoTimestamp is the timestamp of a record that has none: one read by a
// source without a timestamp assigner, or made by an operator that does
// not work in event time.
const NoTimestamp int64 = math.MinInt64

// Emitter receives the records of one stream, each with its event-time
// timestamp: milliseconds since the Unix epoch, or NoTimestamp. The
// timestamp travels beside the value, never inside it, so chained
// operators pass plain Go values and a timestamp in a register: no
// allocation, no wrapper per record. An operator that makes one output of
// an input passes the input's timestamp on.
type Emitter[T any] interface {
	Emit(v T, ts int64)
}

// BatchEmitter is an Emitter that also takes many records at once, which
// saves a dynamic call per record along a chain. ts holds the records'
// timestamps, index for index, or is nil when none has one (a job without
// event time pays nothing for them). Both slices are valid only during the
// call: a receiver that keeps records copies them.
type BatchEmitter[T any] interface {
	Emitter[T]
	EmitBatch(vs []T, ts []int64)
}

// Batcher returns e as a BatchEmitter, or nil if it takes records one by
// one. Operators resolve it once when the chain is built.
func Batcher[T any](e Emitter[T]) BatchEmitter[T] {
	b, _ := e.(BatchEmitter[T])
	return b
}

// EmitAll sends vs (with timestamps ts, or nil) to e: as one batch if b
// (e's Batcher) is not nil.
func EmitAll[T any](e Emitter[T], b BatchEmitter[T], vs []T, ts []int64) {
	if b != nil {
		b.EmitBatch(vs, ts)
		return
	}
	for i, v := range vs {
		e.Emit(v, TimestampAt(ts, i))
	}
}

// TimestampAt is the timestamp of record i of a batch whose timestamps
// are ts (nil: none).
func TimestampAt(ts []int64, i int) int64 {
	if ts == nil {
		return NoTimestamp
	}
	return ts[i]
}

// EmitterFunc adapts a function to Emitter.
type EmitterFunc[T any] func(v T, ts int64)

// Emit calls f(v, ts).
func (f EmitterFunc[T]) Emit(v T, ts int64) { f(v, ts) }

// Context is what an operator instance sees of its subtask.
type Context interface {
	JobID() string
	OperatorID() string
	Subtask() int
	Parallelism() int
	MaxParallelism() int
	Attempt() uint64
	// KeyGroups is the key-group range this subtask owns.
	KeyGroups() keygroup.Range
	// Keyed is the operator's keyed state backend; nil for operators that
	// are not keyed.
	Keyed() *state.Backend
	// RestoredList is the operator list state assigned to this subtask on
	// restore; nil on a fresh start.
	RestoredList() [][]byte
	// CheckpointID is the checkpoint the attempt restored from, 0 if none.
	RestoredCheckpoint() uint64
	// RestoredWatermark is the watermark key group kg was checkpointed
	// with in the state this attempt restored (math.MinInt64 for none): a
	// record at or before it is late for that key group.
	RestoredWatermark(kg keygroup.KeyGroup) int64
	Logger() *slog.Logger
	// Fail fails the subtask with err; operators whose Emit cannot return
	// an error report user errors through it. The runtime stops the subtask
	// after the current record.
	Fail(err error)
	// Now is the wall clock; operators read time only through it.
	Now() time.Time
	// Context ends when the subtask is canceled: calls that may block on
	// an external system take it.
	Context() context.Context
	// Wakeup ends a source's idle wait at once (its last Poll returned
	// Idle): an asynchronous client calls it when records arrive, instead
	// of being polled. Safe from any goroutine; a no-op for other operators.
	Wakeup()
	// SideOutput returns the emitter of the operator's side output tag, an
	// Emitter of the side output's type that reaches all its consumers, or
	// nil when nothing reads it (plan.Operator.SideOutputs). What an
	// operator emits there travels like its main output: with its
	// timestamp, ordered with the watermarks and barriers.
	SideOutput(tag string) any
	// Metrics is where the operator reports its metrics (a connector's
	// lag, say): a group of the subtask's registry whose series carry the
	// operator's name. Safe from any goroutine.
	Metrics() metrichook.Group
}

// Hooks are the lifecycle calls of one operator instance. The runtime calls
// them on the subtask's goroutine, never concurrently with Emit.
type Hooks interface {
	// Open runs before the first record.
	Open(ctx Context) error
	// Snapshot returns the operator's list state at a checkpoint barrier.
	// Keyed state is snapshotted by the runtime from the keyed backend.
	Snapshot(checkpoint uint64) ([][]byte, error)
	// CheckpointComplete runs once a checkpoint's metadata is durable;
	// ctx ends when the subtask is canceled.
	CheckpointComplete(ctx context.Context, checkpoint uint64) error
	// EndInput runs once every input has ended, before the end is passed on.
	EndInput() error
	// Close releases resources; it runs on success, failure and cancel.
	Close() error
}

// NopHooks implements Hooks with no-ops, for embedding.
type NopHooks struct{}

func (NopHooks) Open(Context) error                               { return nil }
func (NopHooks) Snapshot(uint64) ([][]byte, error)                { return nil, nil }
func (NopHooks) CheckpointComplete(context.Context, uint64) error { return nil }
func (NopHooks) EndInput() error                                  { return nil }
func (NopHooks) Close() error                                     { return nil }

// Timed is implemented by operators with timers. The runtime asks for the
// earliest one after every record batch and fires those due on the
// subtask's goroutine, between records, so timers see consistent state and
// their output is ordered with the records' in checkpoints.
type Timed interface {
	// NextTimer returns the earliest pending timer.
	NextTimer() (time.Time, bool)
	// FireTimers fires every timer due at now.
	FireTimers(now time.Time) error
}

// EventTimed is implemented by operators that act on event time: event-time
// timers, windows. The runtime calls OnWatermark on the subtask's
// goroutine, head of the chain first, each time the subtask's watermark
// advances: every record before the watermark has been emitted into the
// chain, and whatever OnWatermark emits reaches the next operator before
// the watermark does.
type EventTimed interface {
	OnWatermark(wm int64) error
}

// WatermarkSource is implemented by a source head that generates
// watermarks. The runtime asks it every watermark interval (processing
// time), after a poll.
type WatermarkSource interface {
	// GeneratesWatermarks reports whether the source has a watermark
	// strategy: a source without one is not asked (and not woken) for
	// watermarks.
	GeneratesWatermarks() bool
	// Watermark returns the source's watermark and whether it is idle (has
	// emitted nothing for its idleness timeout) as of now. An idle source
	// does not hold back the watermark downstream.
	Watermark(now time.Time) (wm int64, idle bool)
}

// PollStatus is what a source reports after a Poll.
type PollStatus int

const (
	// More: call Poll again at once.
	More PollStatus = iota
	// Idle: nothing to emit before the returned wait has passed.
	Idle
	// Done: the source has emitted all its input.
	Done
)

// Source is the head of a source chain. Poll emits a bounded batch into out
// (the runtime checks for barriers and cancellation between polls).
type Source interface {
	Hooks
	// ctx ends when the subtask is canceled: a poll blocked on a broker
	// call returns then.
	Poll(ctx context.Context) (status PollStatus, wait time.Duration, err error)
	// Position is the number of records this subtask's splits have emitted
	// in total, including before the restore (for reprocessed_records).
	Position() int64
}

// PendingSource is a Source that knows how many records wait for it in its
// system (Flink's pendingRecords), -1 when it does not. Called on the
// subtask's goroutine after a poll.
type PendingSource interface {
	Source
	PendingRecords() int64
}

// SplitSource is a Source whose splits are discovered on the JobManager
// by a SplitEnumerator and handed to its subtasks while they run.
type SplitSource interface {
	Source
	// AddSplits gives the subtask more splits, as entries in the encoding of
	// its snapshots; noMore says no split will ever follow.
	AddSplits(entries [][]byte, noMore bool) error
}

// Split is one unit of a source's input that a SplitEnumerator found: a
// Kafka partition, say. Entry is the state a reader starts it from, in the
// encoding of the reader's snapshot entries.
type Split struct {
	ID    string
	Entry []byte
}

// SplitEnumerator discovers a source's splits on the JobManager. Discover
// is called by one goroutine at a time and may block on an external system
// (it takes ctx); SplitID may be called concurrently with it, so it only
// decodes.
type SplitEnumerator interface {
	// Discover lists the source's splits now. first says that none has been
	// assigned yet (a fresh start), so their entries start where the
	// source's configuration says, while a split found later starts at its
	// beginning. final says no split will ever follow these.
	Discover(ctx context.Context, first bool) (splits []Split, final bool, err error)
	// SplitID returns the id of a split from an entry a reader snapshotted.
	SplitID(entry []byte) (string, error)
	Close() error
}

// EnumeratorContext is what a SplitEnumerator sees of the job.
type EnumeratorContext interface {
	JobID() string
	// Context ends when the JobManager stops.
	Context() context.Context
	Logger() *slog.Logger
}

// permanent marks a failure that restarting cannot mend.
type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

// Permanent marks err as a failure that no restart can mend — a
// misconfiguration, an output that belongs to another job — so that the
// job fails with it instead of restarting for ever.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanent{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked
// Permanent.
func IsPermanent(err error) bool {
	var p *permanent
	return errors.As(err, &p)
}
