package kafka

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/internal/kafkaread"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/stream"
)

const (
	wTimeout    = 30 * time.Second
	wTopic      = "out"
	wPartitions = 4
)

// sinkCtx is the SinkContext of a writer driven by a test.
type sinkCtx struct {
	subtask, parallelism int
	attempt, restored    uint64
}

func (c sinkCtx) JobID() string              { return "writer-test" }
func (c sinkCtx) Subtask() int               { return c.subtask }
func (c sinkCtx) Parallelism() int           { return max(c.parallelism, 1) }
func (c sinkCtx) Attempt() uint64            { return c.attempt }
func (c sinkCtx) RestoredCheckpoint() uint64 { return c.restored }

func startWriterKafka(t *testing.T, opts ...kfake.Opt) []string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(3), kfake.SeedTopics(wPartitions, wTopic)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wTimeout)
	t.Cleanup(cancel)
	return ctx
}

func intCfg(brokers []string, g Guarantee) SinkConfig[int] {
	return SinkConfig[int]{
		Brokers: brokers, Topic: wTopic, Guarantee: g, TransactionalIDPrefix: "wt",
		Serialize: func(v int) ([]byte, []byte, error) {
			return []byte(strconv.Itoa(v % 16)), []byte(strconv.Itoa(v)), nil
		},
	}
}

func newTxnWriter(t *testing.T, cfg SinkConfig[int], sc sinkCtx, restored [][]byte) (*txnWriter[int], error) {
	t.Helper()
	w := Sink(cfg)().(*txnWriter[int])
	err := w.Open(testCtx(t), sc, restored)
	return w, err
}

func writeRange(t *testing.T, w stream.SinkWriter[int], from, to int) {
	t.Helper()
	for v := from; v < to; v++ {
		if err := w.Write(testCtx(t), v); err != nil {
			t.Fatal(err)
		}
	}
}

// crash ends a writer as a killed process does: its clients stop, nothing
// is aborted.
func crash(w *txnWriter[int]) {
	if w.cur != nil {
		w.cur.cl.Close()
		w.cur = nil
	}
	w.admin.Close()
}

// committedValues reads the topic's committed values.
func committedValues(t *testing.T, brokers []string) ([]int, kafkaread.Stats) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var vs []int
	st, err := kafkaread.Committed(testCtx(t), cl, wTopic, func(r *kgo.Record) error {
		v, err := strconv.Atoi(string(r.Value))
		vs = append(vs, v)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return vs, st
}

// requireValues fails unless the committed values are from..to-1, once each.
func requireValues(t *testing.T, brokers []string, from, to int) {
	t.Helper()
	got, st := committedValues(t, brokers)
	slices.Sort(got)
	var want []int
	for v := from; v < to; v++ {
		want = append(want, v)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("committed values: %d of them (%v...), want %d..%d once each", len(got), got[:min(len(got), 10)], from, to-1)
	}
	if st.Open != 0 {
		t.Fatalf("%d partitions have an open transaction (last stable offset below the end)", st.Open)
	}
}

func openPartitions(t *testing.T, brokers []string) int {
	t.Helper()
	_, st := committedValues(t, brokers)
	return st.Open
}

// TestSinkWriterRestoreCommitsPreparedTransaction drives writers by hand: the
// first prepares a transaction at checkpoint 1, opens another and dies
// without committing or aborting either. A fresh writer of the next attempt,
// restored from checkpoint 1, commits the prepared one and aborts the
// other (its records come again from the replay), so read_committed
// consumers see checkpoint 1's records once and are not blocked. A second
// restore from the same state finds the transaction already committed and
// goes on.
func TestSinkWriterRestoreCommitsPreparedTransaction(t *testing.T) {
	t.Parallel()
	brokers := startWriterKafka(t)
	cfg := intCfg(brokers, ExactlyOnce)

	a, err := newTxnWriter(t, cfg, sinkCtx{attempt: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeRange(t, a, 0, 100)
	state, err := a.PreCommit(testCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(state) != 1 {
		t.Fatalf("PreCommit returned %d entries, want 1", len(state))
	}
	writeRange(t, a, 100, 150) // transaction wt-1-0-2, never prepared
	if err := a.cur.cl.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	crash(a)
	if got, st := committedValues(t, brokers); len(got) != 0 || st.Open == 0 {
		t.Fatalf("before the restore: %d committed values and %d open partitions, want none and some", len(got), st.Open)
	}

	b, err := newTxnWriter(t, cfg, sinkCtx{attempt: 2, restored: 1}, state)
	if err != nil {
		t.Fatal(err)
	}
	requireValues(t, brokers, 0, 100)

	// The same state again, as a second failure before the next checkpoint
	// would restore it: already committed is fine.
	c, err := newTxnWriter(t, cfg, sinkCtx{attempt: 3, restored: 1}, state)
	if err != nil {
		t.Fatalf("restoring an already committed transaction: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	requireValues(t, brokers, 0, 100)

	// The restored writer goes on: its own transaction commits at
	// checkpoint 2.
	writeRange(t, b, 100, 150)
	state, err = b.PreCommit(testCtx(t), 2)
	if err != nil || len(state) != 1 {
		t.Fatalf("PreCommit(2): %d entries, %v; want 1", len(state), err)
	}
	if n := openPartitions(t, brokers); n == 0 {
		t.Fatal("a prepared transaction is visible before its checkpoint completed")
	}
	if err := b.Commit(testCtx(t), 2); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	requireValues(t, brokers, 0, 150)
}

// TestSinkWriterCommitCoalesced prepares three checkpoints and is told only
// of the last one's completion: all three commit, in order, and a
// checkpoint's state names every transaction still pending.
func TestSinkWriterCommitCoalesced(t *testing.T) {
	t.Parallel()
	brokers := startWriterKafka(t)
	w, err := newTxnWriter(t, intCfg(brokers, ExactlyOnce), sinkCtx{attempt: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for cp := 1; cp <= 3; cp++ {
		writeRange(t, w, (cp-1)*40, cp*40)
		state, err := w.PreCommit(testCtx(t), uint64(cp))
		if err != nil {
			t.Fatal(err)
		}
		if len(state) != cp {
			t.Fatalf("checkpoint %d's state has %d transactions, want %d", cp, len(state), cp)
		}
	}
	// A checkpoint with no records prepares nothing new.
	if state, err := w.PreCommit(testCtx(t), 4); err != nil || len(state) != 3 {
		t.Fatalf("PreCommit(4) with no records: %d entries, %v; want 3", len(state), err)
	}
	if err := w.Commit(testCtx(t), 4); err != nil {
		t.Fatal(err)
	}
	requireValues(t, brokers, 0, 120)
	if state, err := w.PreCommit(testCtx(t), 5); err != nil || len(state) != 0 {
		t.Fatalf("PreCommit(5) after the commit: %d entries, %v; want none", len(state), err)
	}
}

// TestSinkWriterExpiredTransactionFailsPermanently lets a prepared
// transaction outlive its timeout, so that the broker aborts it: the
// restore that should commit it fails permanently, naming the
// transaction, its checkpoint and the setting to raise.
func TestSinkWriterExpiredTransactionFailsPermanently(t *testing.T) {
	t.Parallel()
	brokers := startWriterKafka(t)
	cfg := intCfg(brokers, ExactlyOnce)
	cfg.TransactionTimeout = 200 * time.Millisecond
	a, err := newTxnWriter(t, cfg, sinkCtx{attempt: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeRange(t, a, 0, 10)
	state, err := a.PreCommit(testCtx(t), 7)
	if err != nil {
		t.Fatal(err)
	}
	crash(a)
	waitTxnState(t, brokers, "wt-1-0-1", "Empty") // aborted by the broker

	b, err := newTxnWriter(t, cfg, sinkCtx{attempt: 2, restored: 7}, state)
	t.Cleanup(func() { b.Close() }) // the runtime closes a writer whose Open failed
	var lost *TransactionLostError
	if !errors.As(err, &lost) || !operator.IsPermanent(err) {
		t.Fatalf("restoring an expired transaction: %v; want a permanent TransactionLostError", err)
	}
	for _, want := range []string{"wt-1-0-1", "checkpoint 7", "TransactionTimeout", "200ms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %q: %v", want, err)
		}
	}
	if got, _ := committedValues(t, brokers); len(got) != 0 {
		t.Fatalf("%d values of an aborted transaction are visible", len(got))
	}
}

// waitTxnState polls until the transactional id is in state.
func waitTxnState(t *testing.T, brokers []string, id, state string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	ctx := testCtx(t)
	for {
		ds, err := adm.DescribeTransactions(ctx, id)
		if err == nil {
			if d, ok := ds[id]; ok && d.Err == nil && d.State == state {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("transaction %s never reached state %s (last: %v, %v)", id, state, ds, err)
		case <-tick.C:
		}
	}
}

// TestSinkWriterCloseAbortsOpenTransaction closes a writer mid-checkpoint:
// its open transaction is aborted at once (readers are not blocked), its
// prepared one stays for a restore to commit.
func TestSinkWriterCloseAbortsOpenTransaction(t *testing.T) {
	t.Parallel()
	brokers := startWriterKafka(t)
	cfg := intCfg(brokers, ExactlyOnce)
	a, err := newTxnWriter(t, cfg, sinkCtx{attempt: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeRange(t, a, 0, 30)
	state, err := a.PreCommit(testCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	writeRange(t, a, 30, 60)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waitTxnState(t, brokers, "wt-1-0-2", "Empty")
	b, err := newTxnWriter(t, cfg, sinkCtx{attempt: 2, restored: 1}, state)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	requireValues(t, brokers, 0, 30)
}

// TestSinkWriterSweepsOlderAttempts leaves an open transaction of an older
// attempt that the restore does not name and that began before the restored
// checkpoint (so Open leaves it): subtask 0 aborts it once a checkpoint of
// its own attempt completes, and not before.
func TestSinkWriterSweepsOlderAttempts(t *testing.T) {
	t.Parallel()
	brokers := startWriterKafka(t)
	cfg := intCfg(brokers, ExactlyOnce)
	old, err := newTxnWriter(t, cfg, sinkCtx{subtask: 1, parallelism: 2, attempt: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeRange(t, old, 1000, 1010) // wt-4-1-1, open
	if err := old.cur.cl.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	crash(old)

	w, err := newTxnWriter(t, cfg, sinkCtx{subtask: 0, attempt: 5, restored: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if n := openPartitions(t, brokers); n == 0 {
		t.Fatal("Open aborted a transaction of an older attempt from before the restored checkpoint")
	}
	writeRange(t, w, 0, 20)
	if _, err := w.PreCommit(testCtx(t), 4); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(testCtx(t), 4); err != nil {
		t.Fatal(err)
	}
	requireValues(t, brokers, 0, 20)
}

// TestSinkAtLeastOnceWriter writes without transactions: PreCommit makes
// every record durable, and a produce error fails PreCommit naming the
// topic.
func TestSinkAtLeastOnceWriter(t *testing.T) {
	t.Parallel()
	brokers := startWriterKafka(t)
	w := Sink(intCfg(brokers, AtLeastOnce))()
	if err := w.Open(testCtx(t), sinkCtx{attempt: 1}, nil); err != nil {
		t.Fatal(err)
	}
	writeRange(t, w, 0, 500)
	if state, err := w.PreCommit(testCtx(t), 1); err != nil || state != nil {
		t.Fatalf("PreCommit: %v, %v", state, err)
	}
	requireValues(t, brokers, 0, 500)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	cfg := intCfg(brokers, AtLeastOnce)
	cfg.Topic = "missing"
	cfg.ClientOpts = []kgo.Opt{kgo.UnknownTopicRetries(0)}
	w = Sink(cfg)()
	if err := w.Open(testCtx(t), sinkCtx{attempt: 1}, nil); err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	writeRange(t, w, 0, 5)
	if _, err := w.PreCommit(testCtx(t), 1); err == nil || !strings.Contains(err.Error(), "topic missing") {
		t.Fatalf("PreCommit after producing to a missing topic: %v; want an error naming the topic", err)
	}
}

// TestSinkConfigInvalid reports every problem at once, permanently.
func TestSinkConfigInvalid(t *testing.T) {
	w := Sink(SinkConfig[int]{Guarantee: ExactlyOnce, TransactionTimeout: -time.Second})()
	err := w.Open(context.Background(), sinkCtx{}, nil)
	if !operator.IsPermanent(err) {
		t.Fatalf("Open with an invalid config: %v; want a permanent error", err)
	}
	for _, want := range []string{"no bootstrap servers", "no Serialize or Record", "TransactionalIDPrefix", "TransactionTimeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %q: %v", want, err)
		}
	}
}

func TestParseTxnName(t *testing.T) {
	for _, tc := range []struct {
		prefix, id string
		want       txnName
		ok         bool
	}{
		{"p", "p-3-1-17", txnName{3, 1, 17}, true},
		{"my-job", "my-job-3-1-17", txnName{3, 1, 17}, true},
		{"my", "my-job-3-1-17", txnName{}, false},
		{"p", "p-3-1", txnName{}, false},
		{"p", "p-3-01-1", txnName{}, false},
		{"p", "q-3-1-1", txnName{}, false},
	} {
		got, err := parseTxnName(tc.prefix, tc.id)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseTxnName(%q, %q) = %v, %v; want %v, ok %v", tc.prefix, tc.id, got, err, tc.want, tc.ok)
		}
		if tc.ok && got.id(tc.prefix) != tc.id {
			t.Errorf("%v.id(%q) = %q, want %q", got, tc.prefix, got.id(tc.prefix), tc.id)
		}
	}
	st := preparedTxn{ID: "p-1-2-3", ProducerID: 99, Epoch: 7, Checkpoint: 42}
	if got, err := decodePreparedTxn(st.encode()); err != nil || got != st {
		t.Errorf("decode(encode(%v)) = %v, %v", st, got, err)
	}
	if _, err := decodePreparedTxn([]byte{9}); err == nil {
		t.Error("decoding garbage succeeded")
	}
}

// TestSinkWriterTimeoutAboveBrokerMaximum: a TransactionTimeout the broker
// refuses fails the first transaction permanently, naming the setting.
func TestSinkWriterTimeoutAboveBrokerMaximum(t *testing.T) {
	t.Parallel()
	brokers := startWriterKafka(t)
	cfg := intCfg(brokers, ExactlyOnce)
	cfg.TransactionTimeout = time.Hour // kfake's transaction.max.timeout.ms is 15 minutes
	w, err := newTxnWriter(t, cfg, sinkCtx{attempt: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	err = w.Write(testCtx(t), 1)
	if !operator.IsPermanent(err) || !strings.Contains(err.Error(), "TransactionTimeout 1h0m0s") ||
		!strings.Contains(err.Error(), "transaction.max.timeout.ms") || !strings.Contains(err.Error(), "wt-1-0-1") {
		t.Fatalf("writing with a timeout the broker refuses: %v; want a permanent error naming the transaction and the setting", err)
	}
}
