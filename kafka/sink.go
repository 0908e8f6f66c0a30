package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/stream"
)

// Sink returns the writer factory of a sink that writes to Kafka, for
// stream.SinkTo:
//
//	stream.SinkTo(results, "kafka", kafka.Sink(kafka.SinkConfig[string]{...}), stream.UID("kafka-sink"))
//
// An invalid cfg fails the job when its subtasks open, permanently (no
// restart mends it).
func Sink[T any](cfg SinkConfig[T]) func() stream.SinkWriter[T] {
	cfg.ensureDefaults()
	cfg.Brokers = slices.Clone(cfg.Brokers)
	cfg.ClientOpts = slices.Clone(cfg.ClientOpts)
	return func() stream.SinkWriter[T] {
		if cfg.Guarantee == ExactlyOnce {
			return &txnWriter[T]{cfg: &cfg}
		}
		return &plainWriter[T]{cfg: &cfg}
	}
}

// produceErrs keeps the first error of a producer's records. The promises
// that report into it run on the client's goroutines, hence the mutex.
type produceErrs struct {
	// txn names the transaction the records belong to in errors, "" for
	// none. Written before the first record, read-only after.
	txn string
	mu  struct {
		sync.Mutex
		err error
	}
}

// done is the promise of every record produced with p.
func (p *produceErrs) done(r *kgo.Record, err error) {
	if err == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.err != nil {
		return
	}
	in := ""
	if p.txn != "" {
		in = fmt.Sprintf(" in transaction %s", p.txn)
	}
	p.mu.err = fmt.Errorf("producing to topic %s partition %d%s: %w", r.Topic, r.Partition, in, err)
}

func (p *produceErrs) get() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.err
}

// loggerOf returns the subtask's logger when the runtime offers one.
func loggerOf(sc stream.SinkContext) *slog.Logger {
	if l, ok := sc.(interface{ Logger() *slog.Logger }); ok && l.Logger() != nil {
		return l.Logger()
	}
	return slog.Default()
}

// plainWriter is the AtLeastOnce writer: one idempotent producer per
// subtask, flushed at every checkpoint barrier. Its methods run on the
// subtask's goroutine; the client's goroutines are stopped by Close.
type plainWriter[T any] struct {
	cfg  *SinkConfig[T]
	cl   *kgo.Client
	errs produceErrs
}

func (w *plainWriter[T]) Open(_ context.Context, _ stream.SinkContext, _ [][]byte) error {
	if err := w.cfg.validate(); err != nil {
		return stream.Permanent(err)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(w.cfg.Brokers...)}, w.cfg.ClientOpts...)...)
	if err != nil {
		return stream.Permanent(fmt.Errorf("kafka: sink %s: %w", w.cfg.name(), err))
	}
	w.cl = cl
	return nil
}

func (w *plainWriter[T]) Write(ctx context.Context, v T) error {
	if err := w.errs.get(); err != nil {
		return fmt.Errorf("kafka: sink %s: %w", w.cfg.name(), err)
	}
	r, err := w.cfg.record(v)
	if err != nil {
		return stream.Permanent(fmt.Errorf("kafka: sink %s: serializing a record: %w", w.cfg.name(), err))
	}
	w.cl.Produce(ctx, r, w.errs.done)
	return nil
}

func (w *plainWriter[T]) WriteBatch(ctx context.Context, vs []T) error {
	for _, v := range vs {
		if err := w.Write(ctx, v); err != nil {
			return err
		}
	}
	return nil
}

// PreCommit waits until every record written so far is acknowledged and
// fails if any was not.
func (w *plainWriter[T]) PreCommit(ctx context.Context, checkpoint uint64) ([][]byte, error) {
	if err := w.cl.Flush(ctx); err != nil {
		return nil, fmt.Errorf("kafka: sink %s: flushing for checkpoint %d: %w", w.cfg.name(), checkpoint, err)
	}
	if err := w.errs.get(); err != nil {
		return nil, fmt.Errorf("kafka: sink %s: checkpoint %d: %w", w.cfg.name(), checkpoint, err)
	}
	return nil, nil
}

func (w *plainWriter[T]) Commit(context.Context, uint64) error { return nil }

// Close stops the client; records not yet acknowledged fail (a restore
// rewrites them).
func (w *plainWriter[T]) Close() error {
	if w.cl != nil {
		w.cl.Close()
	}
	return nil
}
