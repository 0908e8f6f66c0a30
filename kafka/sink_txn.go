package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tide-stream/tide/stream"
)

// closeAbortTimeout bounds how long Close waits for the broker to abort
// the open transaction (Close has no context of its own).
const closeAbortTimeout = 10 * time.Second

// txnWriter is the ExactlyOnce writer of one sink subtask; see "Exactly
// once" in the package doc for the protocol and why it holds. Its methods
// run on the subtask's goroutine. It owns two kinds of kgo client, whose
// goroutines it stops: admin, for the whole subtask, sends EndTxn,
// InitProducerID and ListTransactions; cur.cl, one per transaction,
// produces that transaction's records and is closed as soon as the
// transaction is prepared (kgo cannot hand a transaction to another client,
// and closing a client does not end its transaction).
type txnWriter[T any] struct {
	cfg     *SinkConfig[T]
	log     *slog.Logger
	subtask int
	attempt uint64
	admin   *kgo.Client
	// cur is the transaction receiving records, nil until the first
	// record after a barrier.
	cur *openTxn
	// last is the newest checkpoint this writer prepared at, or else the
	// restored one: the next transaction is named last+1.
	last uint64
	// pending are the prepared transactions not yet committed, in
	// checkpoint order. PreCommit returns them all.
	pending []preparedTxn
	// firstPrepared is the first checkpoint this writer prepared at, 0
	// before. A Commit of it or a later one proves that a checkpoint of
	// this attempt completed.
	firstPrepared uint64
	// swept is set once subtask 0 has aborted the open transactions of
	// older attempts after such a Commit.
	swept bool
}

// openTxn is the transaction receiving records.
type openTxn struct {
	id    string
	cl    *kgo.Client
	began time.Time
	errs  *produceErrs
}

func (w *txnWriter[T]) Open(ctx context.Context, sc stream.SinkContext, restored [][]byte) error {
	if err := w.cfg.validate(); err != nil {
		return stream.Permanent(err)
	}
	w.log = loggerOf(sc).With("sink", w.cfg.name())
	w.subtask, w.attempt, w.last = sc.Subtask(), sc.Attempt(), sc.RestoredCheckpoint()
	var err error
	w.admin, err = kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(w.cfg.Brokers...)}, w.cfg.ClientOpts...)...)
	if err != nil {
		return stream.Permanent(fmt.Errorf("kafka: sink %s: %w", w.cfg.name(), err))
	}
	// 1. Commit what the restored checkpoint prepared: its completion was
	// durable, the notice of it may have been lost.
	txns := make([]preparedTxn, 0, len(restored))
	for _, e := range restored {
		t, err := decodePreparedTxn(e)
		if err != nil {
			return stream.Permanent(fmt.Errorf("kafka: sink %s: restoring: %w", w.cfg.name(), err))
		}
		txns = append(txns, t)
	}
	slices.SortFunc(txns, func(a, b preparedTxn) int { return cmpUint(a.Checkpoint, b.Checkpoint) })
	for _, t := range txns {
		if err := w.endTxn(ctx, t); err != nil {
			return err
		}
		w.log.Info("committed a restored transaction", "transaction", t.ID, "checkpoint", t.Checkpoint)
	}
	// 2. Abort what older attempts opened after the restored checkpoint:
	// their records are replayed.
	if w.subtask == 0 {
		restoredCP := sc.RestoredCheckpoint()
		n, err := w.abortLingering(ctx, func(tn txnName) bool { return tn.attempt < w.attempt && tn.n > restoredCP })
		if err != nil {
			return err
		}
		if n > 0 {
			w.log.Info("aborted transactions that older attempts opened after the restored checkpoint", "count", n, "restored_checkpoint", restoredCP)
		}
	}
	return nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// begin opens the transaction that receives the records up to the next
// barrier.
func (w *txnWriter[T]) begin(ctx context.Context) error {
	id := txnName{attempt: w.attempt, subtask: w.subtask, n: w.last + 1}.id(w.cfg.TransactionalIDPrefix)
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(w.cfg.Brokers...),
		kgo.TransactionalID(id),
		kgo.TransactionTimeout(w.cfg.TransactionTimeout),
	}, w.cfg.ClientOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return stream.Permanent(fmt.Errorf("kafka: sink %s: %w", w.cfg.name(), err))
	}
	// Initialise the producer now rather than at the first produce, so
	// that a refusal (a timeout above the broker's maximum, an
	// authorization error) fails here with its cause.
	if _, _, err := cl.ProducerID(ctx); err != nil {
		cl.Close()
		if errors.Is(err, kerr.InvalidTransactionTimeout) {
			return stream.Permanent(fmt.Errorf("kafka: sink %s: initialising transaction %s: TransactionTimeout %v: %w (the broker allows at most its transaction.max.timeout.ms)",
				w.cfg.name(), id, w.cfg.TransactionTimeout, err))
		}
		return fmt.Errorf("kafka: sink %s: initialising transaction %s: %w", w.cfg.name(), id, err)
	}
	if err := cl.BeginTransaction(); err != nil {
		cl.Close()
		return fmt.Errorf("kafka: sink %s: beginning transaction %s: %w", w.cfg.name(), id, err)
	}
	w.cur = &openTxn{id: id, cl: cl, began: time.Now(), errs: &produceErrs{txn: id}}
	return nil
}

func (w *txnWriter[T]) Write(ctx context.Context, v T) error {
	if w.cur == nil {
		if err := w.begin(ctx); err != nil {
			return err
		}
	} else if err := w.cur.errs.get(); err != nil {
		return w.produceErr(err)
	}
	r, err := w.cfg.record(v)
	if err != nil {
		return stream.Permanent(fmt.Errorf("kafka: sink %s: serializing a record: %w", w.cfg.name(), err))
	}
	w.cur.cl.Produce(ctx, r, w.cur.errs.done)
	return nil
}

func (w *txnWriter[T]) WriteBatch(ctx context.Context, vs []T) error {
	for _, v := range vs {
		if err := w.Write(ctx, v); err != nil {
			return err
		}
	}
	return nil
}

// produceErr adds what the transaction's age suggests to a produce error.
func (w *txnWriter[T]) produceErr(err error) error {
	if age := time.Since(w.cur.began); age >= w.cfg.TransactionTimeout {
		return fmt.Errorf("kafka: sink %s: %w; the transaction has been open %v, longer than TransactionTimeout (%v), so the broker aborted it: "+
			"raise kafka.SinkConfig.TransactionTimeout well above execution.checkpointing.interval",
			w.cfg.name(), err, age.Round(time.Millisecond), w.cfg.TransactionTimeout)
	}
	return fmt.Errorf("kafka: sink %s: %w", w.cfg.name(), err)
}

// PreCommit flushes the open transaction, if any, and returns every
// prepared transaction not yet committed.
func (w *txnWriter[T]) PreCommit(ctx context.Context, checkpoint uint64) ([][]byte, error) {
	if t := w.cur; t != nil {
		if err := t.cl.Flush(ctx); err != nil {
			return nil, fmt.Errorf("kafka: sink %s: flushing transaction %s for checkpoint %d: %w", w.cfg.name(), t.id, checkpoint, err)
		}
		if err := t.errs.get(); err != nil {
			return nil, w.produceErr(fmt.Errorf("checkpoint %d: %w", checkpoint, err))
		}
		pid, epoch, err := t.cl.ProducerID(ctx)
		if err != nil {
			return nil, fmt.Errorf("kafka: sink %s: transaction %s for checkpoint %d: %w", w.cfg.name(), t.id, checkpoint, err)
		}
		if age := time.Since(t.began); age > w.cfg.TransactionTimeout/2 {
			w.log.Warn("a transaction was open for more than half its timeout when its checkpoint barrier came: raise kafka.SinkConfig.TransactionTimeout well above the checkpoint interval",
				"transaction", t.id, "open", age.Round(time.Millisecond), "timeout", w.cfg.TransactionTimeout, "checkpoint", checkpoint)
		}
		w.pending = append(w.pending, preparedTxn{ID: t.id, ProducerID: pid, Epoch: epoch, Checkpoint: checkpoint})
		t.cl.Close() // the transaction stays open on the broker
		w.cur = nil
	}
	w.last = max(w.last, checkpoint)
	if w.firstPrepared == 0 {
		w.firstPrepared = checkpoint
	}
	out := make([][]byte, len(w.pending))
	for i, t := range w.pending {
		out[i] = t.encode()
	}
	return out, nil
}

// Commit commits every prepared transaction of a checkpoint up to
// checkpoint; subtask 0's first Commit of a checkpoint this writer
// prepared also aborts the open transactions of older attempts.
func (w *txnWriter[T]) Commit(ctx context.Context, checkpoint uint64) error {
	for len(w.pending) > 0 && w.pending[0].Checkpoint <= checkpoint {
		if err := w.endTxn(ctx, w.pending[0]); err != nil {
			return err
		}
		w.pending = w.pending[1:]
	}
	if w.subtask == 0 && !w.swept && w.firstPrepared != 0 && checkpoint >= w.firstPrepared {
		n, err := w.abortLingering(ctx, func(tn txnName) bool { return tn.attempt < w.attempt })
		if err != nil {
			// Only cleanup failed: try again at the next completion.
			w.log.Warn("could not abort the open transactions of older attempts; trying again at the next checkpoint", "error", err)
			return nil
		}
		w.swept = true
		if n > 0 {
			w.log.Info("aborted the open transactions of older attempts", "count", n, "checkpoint", checkpoint)
		}
	}
	return nil
}

// endTxn commits t by its producer id and epoch. A transaction already
// committed counts as committed; one the broker aborted (or whose producer
// was fenced) fails permanently, naming it.
func (w *txnWriter[T]) endTxn(ctx context.Context, t preparedTxn) error {
	req := kmsg.NewPtrEndTxnRequest()
	req.TransactionalID = t.ID
	req.ProducerID = t.ProducerID
	req.ProducerEpoch = t.Epoch
	req.Commit = true
	resp, err := req.RequestWith(ctx, w.admin)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kerr.InvalidTxnState), errors.Is(err, kerr.ProducerFenced), errors.Is(err, kerr.InvalidProducerEpoch),
		errors.Is(err, kerr.InvalidProducerIDMapping), errors.Is(err, kerr.TransactionalIDNotFound):
		return stream.Permanent(&TransactionLostError{Sink: w.cfg.name(), Txn: t.ID, ProducerID: t.ProducerID, Epoch: t.Epoch,
			Checkpoint: t.Checkpoint, Timeout: w.cfg.TransactionTimeout, Err: err})
	}
	return fmt.Errorf("kafka: sink %s: committing transaction %s: %w", w.cfg.name(), t, err)
}

// TransactionLostError reports a prepared transaction that can no longer be
// committed: the broker aborted it (most likely it outlived its timeout),
// or another producer fenced its producer id. Its records, which belong to
// a completed checkpoint, are not in the topic; the job fails with this
// error rather than go on without them.
type TransactionLostError struct {
	Sink       string
	Txn        string
	ProducerID int64
	Epoch      int16
	Checkpoint uint64
	Timeout    time.Duration
	Err        error
}

func (e *TransactionLostError) Error() string {
	return fmt.Sprintf("kafka: sink %s: transaction %s (producer id %d, epoch %d) of completed checkpoint %d cannot be committed: %v. "+
		"The broker aborted it or fenced its producer, so its records are lost: most likely it stayed open longer than its timeout "+
		"(kafka.SinkConfig.TransactionTimeout, %v; from its first record to the completion of checkpoint %d, including any restart in between). "+
		"Raise TransactionTimeout (and the brokers' transaction.max.timeout.ms) well above the checkpoint interval plus the time a restart takes",
		e.Sink, e.Txn, e.ProducerID, e.Epoch, e.Checkpoint, e.Err, e.Timeout, e.Checkpoint)
}

func (e *TransactionLostError) Unwrap() error { return e.Err }

// abortLingering aborts the open transactions of this sink (by prefix)
// whose names match, by initialising a producer with each one's
// transactional id: the broker aborts the open transaction and fences the
// producer that had it. It returns how many it aborted.
func (w *txnWriter[T]) abortLingering(ctx context.Context, match func(txnName) bool) (int, error) {
	listed, err := kadm.NewClient(w.admin).ListTransactions(ctx, nil, []string{"Ongoing"})
	if err != nil {
		return 0, fmt.Errorf("kafka: sink %s: listing open transactions: %w", w.cfg.name(), err)
	}
	n := 0
	for _, l := range listed.Sorted() {
		tn, err := parseTxnName(w.cfg.TransactionalIDPrefix, l.TxnID)
		if err != nil || l.State != "Ongoing" || !match(tn) {
			continue
		}
		req := kmsg.NewPtrInitProducerIDRequest()
		id := l.TxnID
		req.TransactionalID = &id
		req.TransactionTimeoutMillis = int32(w.cfg.TransactionTimeout.Milliseconds())
		resp, err := req.RequestWith(ctx, w.admin)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		if err != nil {
			return n, fmt.Errorf("kafka: sink %s: aborting lingering transaction %s: %w", w.cfg.name(), id, err)
		}
		w.log.Info("aborted a lingering transaction", "transaction", id)
		n++
	}
	return n, nil
}

// Close aborts the open transaction, whose records a restore replays (a
// prepared one stays for a restore to commit), and stops the clients.
func (w *txnWriter[T]) Close() error {
	var err error
	if t := w.cur; t != nil {
		ctx, cancel := context.WithTimeout(context.Background(), closeAbortTimeout)
		if aerr := t.cl.AbortBufferedRecords(ctx); aerr != nil {
			err = fmt.Errorf("kafka: sink %s: aborting transaction %s: %w", w.cfg.name(), t.id, aerr)
		} else if aerr := t.cl.EndTransaction(ctx, kgo.TryAbort); aerr != nil {
			err = fmt.Errorf("kafka: sink %s: aborting transaction %s: %w", w.cfg.name(), t.id, aerr)
		}
		cancel()
		t.cl.Close()
		w.cur = nil
	}
	if w.admin != nil {
		w.admin.Close()
	}
	return err
}
