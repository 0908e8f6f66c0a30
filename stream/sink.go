package stream

import (
	"bufio"
	"context"
	"fmt"
	"os"

	"github.com/tide-stream/tide/internal/filesink"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
)

// SinkWriter writes the records of one sink subtask. The runtime calls its
// methods on the subtask's goroutine. Every call that may block on an
// external system takes ctx, which ends when the subtask is canceled, so
// that a stuck broker call returns then.
type SinkWriter[T any] interface {
	// Open runs before the first record; restored holds the sink's list state
	// assigned to this subtask on restore (e.g. transactions to commit).
	Open(ctx context.Context, sc SinkContext, restored [][]byte) error
	Write(ctx context.Context, v T) error
	// PreCommit runs at a checkpoint barrier: flush, and return the list
	// state that lets a restore finish what this checkpoint covers.
	PreCommit(ctx context.Context, checkpoint uint64) ([][]byte, error)
	// Commit runs once the checkpoint is complete: make its writes visible.
	// Completions may be coalesced: Commit(n) covers every checkpoint up
	// to n.
	Commit(ctx context.Context, checkpoint uint64) error
	Close() error
}

// SinkContext is what a sink writer sees of its subtask.
type SinkContext interface {
	// JobID is the id of the job the sink runs in.
	JobID() string
	Subtask() int
	Parallelism() int
	Attempt() uint64
	RestoredCheckpoint() uint64
}

// SinkTo writes the stream with a new writer per subtask.
func SinkTo[T any](s DataStream[T], name string, newWriter func() SinkWriter[T], opts ...Option) {
	add[T, struct{}](s.env, &plan.Operator{
		Name:  name,
		Input: s.op,
		In:    s.forward(name),
		Build: func(any) (any, operator.Hooks, error) {
			op := &sinkOp[T]{w: newWriter()}
			return op, op, nil
		},
	}, opts)
}

type sinkOp[T any] struct {
	w   SinkWriter[T]
	ctx operator.Context
}

func (s *sinkOp[T]) Open(ctx operator.Context) error {
	s.ctx = ctx
	return s.w.Open(ctx.Context(), ctx, ctx.RestoredList())
}

func (s *sinkOp[T]) Emit(v T, _ int64) {
	if err := s.w.Write(s.ctx.Context(), v); err != nil {
		s.ctx.Fail(fmt.Errorf("%s: write: %w", s.ctx.OperatorID(), err))
	}
}

func (s *sinkOp[T]) EmitBatch(vs []T, _ []int64) {
	if bw, ok := s.w.(BatchWriter[T]); ok {
		if err := bw.WriteBatch(s.ctx.Context(), vs); err != nil {
			s.ctx.Fail(fmt.Errorf("%s: write: %w", s.ctx.OperatorID(), err))
		}
		return
	}
	for _, v := range vs {
		s.Emit(v, NoTimestamp)
	}
}

// BatchWriter is a SinkWriter that also writes many records at once. The
// slice is valid only during the call.
type BatchWriter[T any] interface {
	SinkWriter[T]
	WriteBatch(ctx context.Context, vs []T) error
}

func (s *sinkOp[T]) Snapshot(cp uint64) ([][]byte, error) { return s.w.PreCommit(s.ctx.Context(), cp) }
func (s *sinkOp[T]) CheckpointComplete(ctx context.Context, cp uint64) error {
	return s.w.Commit(ctx, cp)
}
func (s *sinkOp[T]) EndInput() error { return nil }
func (s *sinkOp[T]) Close() error    { return s.w.Close() }

// Print writes every record to standard output, one line each, prefixed by
// the subtask index as Flink's print sink does ("2> value").
func Print[T any](s DataStream[T], opts ...Option) {
	SinkTo(s, "Print", func() SinkWriter[T] { return &printWriter[T]{} }, opts...)
}

type printWriter[T any] struct {
	w      *bufio.Writer
	prefix string
}

func (p *printWriter[T]) Open(_ context.Context, ctx SinkContext, _ [][]byte) error {
	p.w = bufio.NewWriter(os.Stdout)
	if ctx.Parallelism() > 1 {
		p.prefix = fmt.Sprintf("%d> ", ctx.Subtask()+1)
	}
	return nil
}

func (p *printWriter[T]) Write(_ context.Context, v T) error {
	_, err := fmt.Fprintf(p.w, "%s%v\n", p.prefix, v)
	return err
}
func (p *printWriter[T]) PreCommit(context.Context, uint64) ([][]byte, error) {
	return nil, p.w.Flush()
}
func (p *printWriter[T]) Commit(context.Context, uint64) error { return nil }
func (p *printWriter[T]) Close() error                         { return p.w.Flush() }

// Discard drops every record; for benchmarks.
func Discard[T any](s DataStream[T], opts ...Option) {
	SinkTo(s, "Discard", func() SinkWriter[T] { return discardWriter[T]{} }, opts...)
}

type discardWriter[T any] struct{}

func (discardWriter[T]) Open(context.Context, SinkContext, [][]byte) error   { return nil }
func (discardWriter[T]) Write(context.Context, T) error                      { return nil }
func (discardWriter[T]) WriteBatch(context.Context, []T) error               { return nil }
func (discardWriter[T]) PreCommit(context.Context, uint64) ([][]byte, error) { return nil, nil }
func (discardWriter[T]) Commit(context.Context, uint64) error                { return nil }
func (discardWriter[T]) Close() error                                        { return nil }

// FileSink writes one line per record, format(v), into dir with
// exactly-once semantics: a line becomes visible only when the checkpoint
// that covers it completes, and never twice.
func FileSink[T any](s DataStream[T], name, dir string, format func(dst []byte, v T) []byte, opts ...Option) {
	SinkTo(s, name, func() SinkWriter[T] { return &fileWriter[T]{dir: dir, format: format} }, opts...)
}

type fileWriter[T any] struct {
	dir    string
	format func([]byte, T) []byte
	w      *filesink.Writer
	line   []byte
}

func (f *fileWriter[T]) Open(_ context.Context, ctx SinkContext, restored [][]byte) error {
	if err := filesink.Claim(f.dir, ctx.JobID(), ctx.RestoredCheckpoint() != 0); err != nil {
		return Permanent(err)
	}
	if err := filesink.RecoverAndCommit(f.dir, restored); err != nil {
		return fmt.Errorf("file sink %s: recover: %w", f.dir, err)
	}
	w, err := filesink.NewWriter(filesink.Config{Dir: f.dir, Subtask: ctx.Subtask(), Attempt: ctx.Attempt()})
	if err != nil {
		return err
	}
	f.w = w
	return nil
}

func (f *fileWriter[T]) Write(_ context.Context, v T) error {
	f.line = f.format(f.line[:0], v)
	return f.w.Write(f.line)
}

func (f *fileWriter[T]) PreCommit(_ context.Context, cp uint64) ([][]byte, error) {
	st, err := f.w.PreCommit(cp)
	if err != nil {
		return nil, err
	}
	return [][]byte{st}, nil
}

func (f *fileWriter[T]) Commit(_ context.Context, cp uint64) error { return f.w.Commit(cp) }
func (f *fileWriter[T]) Close() error {
	if f.w == nil {
		return nil
	}
	return f.w.Abort()
}

// Permanent marks err, returned by a user function or a sink, as a failure
// that no restart can mend — a misconfiguration, say — so that the job
// fails with it (FAILED) instead of restarting under the restart strategy.
func Permanent(err error) error { return operator.Permanent(err) }
