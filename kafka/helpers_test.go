package kafka_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/internal/metrichook"
	"github.com/tide-stream/tide/kafka"
	"github.com/tide-stream/tide/stream"
)

// startCluster starts a three-broker kfake cluster with the six-partition
// topic and the given other topics (one partition each), stopped at the
// test's end.
func startCluster(t *testing.T, others ...string) *kfake.Cluster {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(3), kfake.SeedTopics(partitions, topic)}
	if len(others) > 0 {
		opts = append(opts, kfake.SeedTopics(1, others...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// produceTo writes recs to the topics and partitions they name.
func produceTo(t *testing.T, brokers []string, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// numbered returns records of topic's partition p with the values from,
// from+1, …, to-1 (decimal).
func numbered(p int32, from, to int) []*kgo.Record {
	var rs []*kgo.Record
	for i := from; i < to; i++ {
		rs = append(rs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(strconv.Itoa(i))})
	}
	return rs
}

// readAll opens a reader of cfg (fresh, or restored from state) as subtask
// 0 of 1 and polls it until it is Done, returning the sorted values.
func readAll(t *testing.T, cfg kafka.Config[int64], state [][]byte) ([]int64, *fakeContext) {
	t.Helper()
	ctx := newFakeContext(t, 0, 1)
	r := openReader(t, cfg, ctx, state)
	var got []record
	if st := pollUntil(t, r, ctx, fakeOutput{recs: &got, done: new([]string)}, func() bool { return false }); st != stream.Done {
		t.Fatalf("poll status %v, want Done", st)
	}
	return values(got), ctx
}

// seq returns from, from+1, …, to-1.
func seq(from, to int) []int64 {
	var out []int64
	for i := from; i < to; i++ {
		out = append(out, int64(i))
	}
	return out
}

// sortedUnion returns the sorted values of all the slices.
func sortedUnion(vs ...[]int64) []int64 {
	out := slices.Concat(vs...)
	slices.Sort(out)
	return out
}

// partLabels are the labels of partition p's series.
func partLabels(topic string, p int32) []metrichook.Label {
	return []metrichook.Label{{Name: metrichook.LabelTopic, Value: topic}, {Name: metrichook.LabelPartition, Value: strconv.Itoa(int(p))}}
}
