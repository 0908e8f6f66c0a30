package tidetest

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/tide-stream/tide/stream"
)

// Sink collects a stream's records in memory with exactly-once semantics,
// as the file sink does on disk: a record becomes visible in Values only
// when the checkpoint that covers it completes, and never twice, across
// restarts, rescales and restores. It works because every component of a
// test cluster runs in the test's process and shares the Sink.
//
// Every sink subtask deployment (a writer) buffers its records; at a
// checkpoint barrier the buffer becomes a pending transaction named by
// (writer, checkpoint) and the writer's list state names its pending
// transactions; on completion, or on a restore from a checkpoint that names
// them, the transactions are committed, once.
//
// A Sink may be shared by several clusters of one test (a job stopped with a
// savepoint and restored in a new cluster): writer ids are unique per Sink.
type Sink[T any] struct {
	mu struct {
		sync.Mutex
		// nextWriter numbers writers.
		nextWriter uint64
		// pending holds the records of transactions not yet committed.
		pending map[txn][]T
		// committed records which transactions were committed.
		committed map[txn]bool
		// out is the committed records, in commit order.
		out []T
	}
}

// txn names one pending transaction.
type txn struct {
	writer     uint64
	checkpoint uint64
}

// NewSink returns an empty Sink.
func NewSink[T any]() *Sink[T] {
	s := &Sink[T]{}
	s.mu.pending = map[txn][]T{}
	s.mu.committed = map[txn]bool{}
	return s
}

// To adds the sink to the job: ds's records are collected into s.
func (s *Sink[T]) To(ds stream.DataStream[T], name string, opts ...stream.Option) {
	stream.SinkTo(ds, name, func() stream.SinkWriter[T] { return &sinkWriter[T]{s: s} }, opts...)
}

// Values returns a copy of the committed records, in commit order. Records
// of one subtask between two checkpoints keep their order.
func (s *Sink[T]) Values() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.mu.out)
}

// Len returns the number of committed records.
func (s *Sink[T]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.out)
}

func (s *Sink[T]) newWriter() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.nextWriter++
	return s.mu.nextWriter
}

func (s *Sink[T]) stage(t txn, vs []T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.pending[t] = vs
}

// commit makes t's records visible unless it already did. A transaction
// that was never staged in this Sink is an error: the restored state comes
// from another Sink.
func (s *Sink[T]) commit(t txn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.committed[t] {
		return nil
	}
	vs, ok := s.mu.pending[t]
	if !ok {
		return fmt.Errorf("tidetest: sink transaction (writer %d, checkpoint %d) is unknown to this Sink", t.writer, t.checkpoint)
	}
	s.mu.out = append(s.mu.out, vs...)
	s.mu.committed[t] = true
	delete(s.mu.pending, t)
	return nil
}

// sinkWriter is one sink subtask's writer; it belongs to the subtask's
// goroutine.
type sinkWriter[T any] struct {
	s       *Sink[T]
	id      uint64
	buf     []T
	pending []txn
}

func (w *sinkWriter[T]) Open(_ context.Context, _ stream.SinkContext, restored [][]byte) error {
	for _, e := range restored {
		for len(e) > 0 {
			if len(e) < 16 {
				return fmt.Errorf("tidetest: sink state: %d trailing bytes, want 16 per transaction", len(e))
			}
			t := txn{writer: binary.BigEndian.Uint64(e), checkpoint: binary.BigEndian.Uint64(e[8:])}
			if err := w.s.commit(t); err != nil {
				return fmt.Errorf("recover: %w", err)
			}
			e = e[16:]
		}
	}
	w.id = w.s.newWriter()
	return nil
}

func (w *sinkWriter[T]) Write(_ context.Context, v T) error {
	w.buf = append(w.buf, v)
	return nil
}

// PreCommit stages the records since the last barrier as the transaction of
// checkpoint cp and returns every pending transaction: all of them belong
// to checkpoint cp.
func (w *sinkWriter[T]) PreCommit(_ context.Context, cp uint64) ([][]byte, error) {
	t := txn{writer: w.id, checkpoint: cp}
	w.s.stage(t, w.buf)
	w.buf = nil
	w.pending = append(w.pending, t)
	var e []byte
	for _, p := range w.pending {
		e = binary.BigEndian.AppendUint64(e, p.writer)
		e = binary.BigEndian.AppendUint64(e, p.checkpoint)
	}
	return [][]byte{e}, nil
}

// Commit commits the pending transactions of checkpoints up to cp.
func (w *sinkWriter[T]) Commit(_ context.Context, cp uint64) error {
	keep := w.pending[:0]
	for _, t := range w.pending {
		if t.checkpoint > cp {
			keep = append(keep, t)
			continue
		}
		if err := w.s.commit(t); err != nil {
			return err
		}
	}
	w.pending = keep
	return nil
}

// Close drops the records not covered by a checkpoint; pending
// transactions stay staged, since a restore may still commit them.
func (w *sinkWriter[T]) Close() error {
	w.buf = nil
	return nil
}
