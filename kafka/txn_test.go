package kafka_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/internal/metrichook"
	"github.com/tide-stream/tide/kafka"
)

// transaction produces the values from..to-1 (keyed to spread over the
// partitions) in one transaction of cl, and commits or aborts it.
func transaction(t *testing.T, cl *kgo.Client, from, to int, commit kgo.TransactionEndTry) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	var rs []*kgo.Record
	for i := from; i < to; i++ {
		rs = append(rs, &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: []byte(strconv.Itoa(i))})
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := cl.EndTransaction(ctx, commit); err != nil {
		t.Fatal(err)
	}
}

// TestBoundedReadEndsAtTransactionMarkers reads, bounded, a topic written
// by a transactional producer: a committed transaction, an aborted one and
// a committed one, so that every partition's last offset is a commit or
// abort marker, which is no record; then a transaction is left open while
// the source reads. Read_committed (the default) reads exactly the
// committed records, read_uncommitted every record, aborted and open ones
// too; both finish, with a lag of zero on every partition.
func TestBoundedReadEndsAtTransactionMarkers(t *testing.T) {
	brokers := startKafka(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.TransactionalID("tide-test-txn"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	transaction(t, cl, 0, 100, kgo.TryCommit)
	transaction(t, cl, 1000, 1050, kgo.TryAbort)
	transaction(t, cl, 100, 200, kgo.TryCommit)
	// An open transaction: its records are past every partition's last
	// stable offset.
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	var open []*kgo.Record
	for i := 2000; i < 2030; i++ {
		open = append(open, &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: []byte(strconv.Itoa(i))})
	}
	if err := cl.ProduceSync(t.Context(), open...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	defer cl.EndTransaction(context.Background(), kgo.TryAbort)

	for _, tc := range []struct {
		name            string
		readUncommitted bool
		want            []int64
	}{
		{"read_committed", false, seq(0, 200)},
		{"read_uncommitted", true, sortedUnion(seq(0, 200), seq(1000, 1050), seq(2000, 2030))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := kafka.Config[int64]{Brokers: brokers, Topics: []string{topic}, Bounded: true,
				ReadUncommitted: tc.readUncommitted, Deserialize: kafka.Int64}
			got, ctx := readAll(t, cfg, nil)
			if !slices.Equal(got, tc.want) {
				t.Errorf("read %d records, want %d: %v", len(got), len(tc.want), got)
			}
			for p := range int32(partitions) {
				if lag, ok := ctx.metrics.Value(metrichook.KafkaConsumerLag, partLabels(topic, p)...); !ok || lag != 0 {
					t.Errorf("partition %d: lag %v (reported: %v) at the end, want 0", p, lag, ok)
				}
			}
		})
	}
}
