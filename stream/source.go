package stream

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
)

// PollStatus is what a source reader reports after a poll.
type PollStatus = operator.PollStatus

// Poll results.
const (
	More = operator.More
	Idle = operator.Idle
	Done = operator.Done
)

// SourceContext is what a source reader sees of its subtask.
type SourceContext interface {
	Subtask() int
	Parallelism() int
	Attempt() uint64
	Now() time.Time
	// Context ends when the subtask is canceled: Open, which may connect
	// to an external system, passes it to calls that may block.
	Context() context.Context
	// Wakeup ends the subtask's wait after a Poll that returned Idle: a
	// reader whose client fetches in the background calls it when records
	// arrive, instead of being polled. Safe from any goroutine.
	Wakeup()
	// Logger is the subtask's logger, naming the job, task and operator.
	Logger() *slog.Logger
	// Metrics is where the reader reports its metrics (a Kafka reader's
	// lag): the series are kept for the metrics layer to export, labeled
	// with the subtask and the source's name. Safe from any goroutine.
	Metrics() MetricGroup
}

// SourceOutput receives what a source reader reads. Emit stamps a record
// with the job's timestamp assigner (WithWatermarks), or with none; EmitAt
// gives the record's own timestamp (a Kafka record's, say), in
// milliseconds since the Unix epoch.
//
// A reader of several splits (a Kafka partition is one) emits each
// split's records through Split(id): each split then has a watermark
// generator of its own, and the subtask's watermark is the minimum over
// its splits that are not idle, so that one split far ahead does not make
// the others' records late. SplitDone says a split has no more records.
type SourceOutput[T any] interface {
	Collector[T]
	EmitAt(v T, ts int64)
	Split(id string) SourceOutput[T]
	SplitDone(id string)
}

// SourceReader reads the splits assigned to one source subtask.
type SourceReader[T any] interface {
	// Poll emits a bounded batch of records into out and says whether more
	// are ready at once (More), none before wait has passed (Idle), or the
	// reader has emitted all its input (Done). Barriers are injected
	// between polls, so a poll must not block for long.
	// ctx ends when the subtask is canceled: a call that may block on an
	// external system (a broker's fetch) takes it.
	Poll(ctx context.Context, out SourceOutput[T]) (status PollStatus, wait time.Duration, err error)
	// Snapshot returns the reader's state at checkpoint, as one entry per
	// split. Entries are redistributed evenly over the subtasks when the
	// job rescales.
	Snapshot(checkpoint uint64) ([][]byte, error)
	// Position is the number of records the reader's splits have emitted
	// since the job's first start.
	Position() int64
	Close() error
}

// PendingRecordsReader is implemented by a SourceReader that knows how many
// records wait for it in its system (Flink's pendingRecords: a Kafka
// reader's lag summed over its partitions). The runtime reads it after
// every poll, on the subtask's goroutine, and reports it to the JobManager,
// where an autoscaler finds it.
type PendingRecordsReader interface {
	PendingRecords() int64
}

// CheckpointListener is implemented by a SourceReader that acts when a
// checkpoint has completed: a Kafka reader commits the offsets of that
// checkpoint to its consumer group, so that tools see its progress.
// CheckpointComplete is told the newest completed checkpoint (completions
// may be coalesced); ctx ends when the subtask is canceled.
type CheckpointListener interface {
	CheckpointComplete(ctx context.Context, checkpoint uint64) error
}

// Source describes a source.
type Source[T any] struct {
	// Name appears in the job graph and the web UI.
	Name string
	// NonParallel sources run with parallelism 1.
	NonParallel bool
	// Open creates the reader of one subtask. restored holds the split
	// entries assigned to the subtask on restore, or is nil on a fresh start,
	// when the reader chooses its splits from the subtask index and
	// parallelism — unless the source has an Enumerator.
	Open func(ctx SourceContext, restored [][]byte) (SourceReader[T], error)
	// Enumerator, when set, discovers the source's splits on the
	// JobManager, as Flink's FLIP-27 split enumerator does: when an attempt
	// starts and then every DiscoveryInterval (0: only at the start). The
	// JobManager hands each split it has not handed before to the subtask
	// with the fewest, and the reader, which must implement SplitReader,
	// takes it up between polls. A split belongs to the checkpoints whose
	// barrier its reader injected after taking it up: a restore knows the
	// splits of its checkpoint from the readers' entries (SplitID), and
	// hands out again any split found since.
	Enumerator        func(ctx EnumeratorContext) (SplitEnumerator, error)
	DiscoveryInterval time.Duration
}

// Split is a split an enumerator found: its id and the entry a reader
// starts it from, in the encoding of the reader's snapshot entries.
type Split = operator.Split

// SplitEnumerator discovers a source's splits on the JobManager (see
// Source.Enumerator). Discover's first says no split has been handed out
// yet, so that splits start where the source's configuration says (the
// latest offsets, say) while one found later starts at its beginning; its
// final says that no split will ever follow (a bounded source), after
// which readers are told NoMoreSplits.
type SplitEnumerator = operator.SplitEnumerator

// EnumeratorContext is what a SplitEnumerator sees of the job.
type EnumeratorContext = operator.EnumeratorContext

// SplitReader is a SourceReader of a source with an Enumerator. AddSplits
// gives it splits found on the JobManager, NoMoreSplits says none will
// follow: a reader whose splits are all done then returns Done. Both are
// called between polls, on the subtask's goroutine.
type SplitReader interface {
	AddSplits(entries [][]byte) error
	NoMoreSplits()
}

// FromSource adds a source to the job.
func FromSource[T any](e *Env, src Source[T], opts ...Option) DataStream[T] {
	op := &plan.Operator{
		Name:  src.Name,
		Input: -1,
		Build: func(out any) (any, operator.Hooks, error) {
			so := &sourceOp[T]{src: src}
			so.out.out = out.(operator.Emitter[T])
			if b := operator.Batcher(so.out.out); b != nil {
				so.out.batch, so.out.buf, so.out.ts = b, make([]T, 0, sourceBatchSize), make([]int64, 0, sourceBatchSize)
			}
			return so, so, nil
		},
	}
	if src.Open == nil {
		e.fail("stream: source %q has no Open function", src.Name)
	}
	if src.NonParallel {
		op.Parallelism = 1
	}
	if src.Enumerator != nil {
		op.Enumerator = src.Enumerator
		op.DiscoveryInterval = src.DiscoveryInterval
	}
	ws, err := watermarksOf[T](src.Name, opts)
	if err != nil {
		e.report(fmt.Errorf("stream: %w", err))
	}
	build := op.Build
	op.Build = func(out any) (any, operator.Hooks, error) {
		emitter, hooks, err := build(out)
		if so, ok := emitter.(*sourceOp[T]); ok && ws != nil {
			so.strategy = ws
			so.out.assign = ws.Timestamp
		}
		return emitter, hooks, err
	}
	return add[T, T](e, op, opts)
}

type sourceOp[T any] struct {
	src      Source[T]
	out      sourceOutput[T]
	reader   SourceReader[T]
	strategy *WatermarkStrategy[T]
	ctx      operator.Context
}

// sourceOutput is the SourceOutput of a reader: it stamps records and, for
// a chain that takes batches, collects what a reader emits in one poll
// into batches.
type sourceOutput[T any] struct {
	out operator.Emitter[T]
	// assign is the job's timestamp assigner, nil for none.
	assign func(T) int64
	batch  operator.BatchEmitter[T]
	buf    []T
	ts     []int64
	// stamped says a record of the batch has a timestamp.
	stamped bool
	// et is the subtask's event time, nil without a watermark strategy;
	// root is the clock of the records emitted without a split.
	et     *eventTime
	root   *splitClock
	splits map[string]*splitOutput[T]
	// fail fails the subtask (a record without a timestamp).
	fail func(error)
	name string
}

// splitOutput is the SourceOutput of one split.
type splitOutput[T any] struct {
	o     *sourceOutput[T]
	clock *splitClock
}

func (s *splitOutput[T]) Emit(v T) {
	ts := NoTimestamp
	if s.o.assign != nil {
		ts = s.o.assign(v)
	}
	s.o.emit(v, ts, s.clock)
}
func (s *splitOutput[T]) EmitAt(v T, ts int64)            { s.o.emit(v, ts, s.clock) }
func (s *splitOutput[T]) Split(id string) SourceOutput[T] { return s.o.Split(id) }
func (s *splitOutput[T]) SplitDone(id string)             { s.o.SplitDone(id) }

func (o *sourceOutput[T]) Split(id string) SourceOutput[T] {
	if s, ok := o.splits[id]; ok {
		return s
	}
	s := &splitOutput[T]{o: o}
	if o.et != nil {
		s.clock = o.et.clock(id)
		if s.clock.done {
			// A split taken up again after SplitDone (reassigned): a
			// fresh clock, which holds the watermark back again.
			delete(o.et.splits, id)
			s.clock = o.et.clock(id)
		}
	}
	if o.splits == nil {
		o.splits = map[string]*splitOutput[T]{}
	}
	o.splits[id] = s
	return s
}

func (o *sourceOutput[T]) SplitDone(id string) {
	if o.et != nil {
		o.et.done(id)
	}
	delete(o.splits, id)
}

const sourceBatchSize = 256

func (o *sourceOutput[T]) Emit(v T) {
	if o.assign != nil || o.batch == nil || o.stamped || o.et != nil {
		ts := NoTimestamp
		if o.assign != nil {
			ts = o.assign(v)
		}
		o.EmitAt(v, ts)
		return
	}
	// The common case of a job without event time, kept short.
	o.buf = append(o.buf, v)
	if len(o.buf) == sourceBatchSize {
		o.flush()
	}
}

func (o *sourceOutput[T]) EmitAt(v T, ts int64) { o.emit(v, ts, nil) }

// emit passes a record on; under event time its timestamp feeds the clock
// of its split (nil: the records emitted without one).
func (o *sourceOutput[T]) emit(v T, ts int64, clock *splitClock) {
	if o.et != nil {
		if ts == NoTimestamp {
			o.fail(noTimestampError(o.name))
			return
		}
		if clock == nil {
			if o.root == nil {
				o.root = o.et.clock("")
			}
			clock = o.root
		}
		o.et.onEvent(clock, ts)
	}
	if o.batch == nil {
		o.out.Emit(v, ts)
		return
	}
	// Timestamps are kept from the first record that has one on, the
	// earlier ones of the batch filled in then: a job without event time
	// pays a comparison a record.
	if ts != NoTimestamp && !o.stamped {
		o.stamped = true
		for range o.buf {
			o.ts = append(o.ts, NoTimestamp)
		}
	}
	o.buf = append(o.buf, v)
	if o.stamped {
		o.ts = append(o.ts, ts)
	}
	if len(o.buf) == sourceBatchSize {
		o.flush()
	}
}

func (o *sourceOutput[T]) flush() {
	if len(o.buf) == 0 {
		return
	}
	if o.stamped {
		o.batch.EmitBatch(o.buf, o.ts)
	} else {
		o.batch.EmitBatch(o.buf, nil)
	}
	o.buf, o.ts, o.stamped = o.buf[:0], o.ts[:0], false
}

func (s *sourceOp[T]) Open(ctx operator.Context) error {
	s.ctx = ctx
	s.out.fail, s.out.name = ctx.Fail, ctx.OperatorID()
	if s.strategy != nil {
		s.out.et = newEventTime(s.strategy.Generator, s.strategy.IdleTimeout, ctx.Now())
	}
	r, err := s.src.Open(ctx, ctx.RestoredList())
	if err != nil {
		return fmt.Errorf("open source %s: %w", s.src.Name, err)
	}
	s.reader = r
	return nil
}

func (s *sourceOp[T]) Poll(ctx context.Context) (operator.PollStatus, time.Duration, error) {
	// Everything a poll emitted is passed on before the poll returns: a
	// barrier injected after it must follow those records.
	st, wait, err := s.reader.Poll(ctx, &s.out)
	s.out.flush()
	if s.out.et != nil {
		s.out.et.polled(s.ctx.Now())
	}
	return st, wait, err
}

// GeneratesWatermarks implements operator.WatermarkSource.
func (s *sourceOp[T]) GeneratesWatermarks() bool { return s.strategy != nil }

// Watermark implements operator.WatermarkSource.
func (s *sourceOp[T]) Watermark(now time.Time) (int64, bool) {
	if s.out.et == nil {
		return NoTimestamp, false
	}
	wm, idle, err := s.out.et.watermark(now)
	if err != nil {
		s.ctx.Fail(operator.Permanent(fmt.Errorf("%s: %w", s.ctx.OperatorID(), err)))
		return NoTimestamp, false
	}
	return wm, idle
}

// PendingRecords implements operator.PendingSource: -1 when the reader
// does not know.
func (s *sourceOp[T]) PendingRecords() int64 {
	if p, ok := s.reader.(PendingRecordsReader); ok {
		return p.PendingRecords()
	}
	return -1
}

func (s *sourceOp[T]) Position() int64 {
	if s.reader == nil {
		return 0
	}
	return s.reader.Position()
}

func (s *sourceOp[T]) Snapshot(cp uint64) ([][]byte, error) { return s.reader.Snapshot(cp) }

// AddSplits implements operator.SplitSource.
func (s *sourceOp[T]) AddSplits(entries [][]byte, noMore bool) error {
	sr, ok := s.reader.(SplitReader)
	if !ok {
		return operator.Permanent(fmt.Errorf("source %s has an Enumerator but its reader (%T) does not implement stream.SplitReader", s.src.Name, s.reader))
	}
	if len(entries) > 0 {
		if err := sr.AddSplits(entries); err != nil {
			return fmt.Errorf("source %s: adding %d splits: %w", s.src.Name, len(entries), err)
		}
	}
	if noMore {
		sr.NoMoreSplits()
	}
	return nil
}

func (s *sourceOp[T]) CheckpointComplete(ctx context.Context, cp uint64) error {
	if l, ok := s.reader.(CheckpointListener); ok && s.reader != nil {
		return l.CheckpointComplete(ctx, cp)
	}
	return nil
}
func (s *sourceOp[T]) EndInput() error { return nil }
func (s *sourceOp[T]) Close() error {
	if s.reader == nil {
		return nil
	}
	return s.reader.Close()
}
