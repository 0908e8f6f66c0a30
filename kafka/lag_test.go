package kafka_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/tide-stream/tide/internal/metrichook"
	"github.com/tide-stream/tide/kafka"
	"github.com/tide-stream/tide/stream"
)

// TestReaderLagAndCommittedOffsets reads part of a topic, a few records a
// poll: each partition's lag gauge is its end offset minus the reader's
// position in it, and the max gauge their maximum. Completing a checkpoint
// commits, per partition, the position the checkpoint recorded. Read to
// the end, every lag is zero.
func TestReaderLagAndCommittedOffsets(t *testing.T) {
	const n = 1200
	brokers := startKafka(t)
	produce(t, brokers, n)
	adm := admin(t, brokers)
	listed, err := adm.ListEndOffsets(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	ends := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })

	cfg := kafka.Config[int64]{Brokers: brokers, Topics: []string{topic}, Group: group, Deserialize: kafka.Int64, MaxPollRecords: 7}
	ctx := newFakeContext(t, 0, 1)
	r := openReader(t, cfg, ctx, nil)
	var got []record
	out := fakeOutput{recs: &got, done: new([]string)}
	lag := func(p int32) (float64, bool) {
		return ctx.metrics.Value(metrichook.KafkaConsumerLag, partLabels(topic, p)...)
	}
	allReported := func() bool {
		for p := range int32(partitions) {
			if _, ok := lag(p); !ok {
				return false
			}
		}
		return true
	}
	pollUntil(t, r, ctx, out, func() bool { return allReported() && len(got) >= 100 })
	if len(got) >= n {
		t.Fatalf("read all %d records before every partition's lag was reported", n)
	}
	// The position in each partition is how many of its records were
	// emitted: the topic was written from offset 0, without gaps.
	positions := map[int32]int64{}
	for _, rec := range got {
		p, err := strconv.Atoi(strings.TrimPrefix(rec.split, topic+"-"))
		if err != nil {
			t.Fatalf("a record of split %q", rec.split)
		}
		positions[int32(p)]++
	}
	var maxLag float64
	behind := false
	for p := range int32(partitions) {
		want := float64(ends[p] - positions[p])
		if l, _ := lag(p); l != want {
			t.Errorf("partition %d: lag %v, want end %d - position %d = %v", p, l, ends[p], positions[p], want)
		}
		maxLag = max(maxLag, want)
		behind = behind || want > 0
	}
	if !behind {
		t.Fatal("no partition is behind: the test reads too much")
	}
	if m, _ := ctx.metrics.Value(metrichook.KafkaConsumerLagMax); m != maxLag {
		t.Errorf("lag max %v, want %v", m, maxLag)
	}

	if _, err := r.Snapshot(1); err != nil {
		t.Fatal(err)
	}
	if err := r.(stream.CheckpointListener).CheckpointComplete(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	committed, err := adm.FetchOffsets(t.Context(), group)
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(partitions) {
		if c, ok := committed.Lookup(topic, p); !ok || c.At != positions[p] {
			t.Errorf("partition %d: committed %v (found %v), want the checkpoint's position %d", p, c.At, ok, positions[p])
		}
	}

	pollUntil(t, r, ctx, out, func() bool { return len(got) >= n })
	for p := range int32(partitions) {
		if l, _ := lag(p); l != 0 {
			t.Errorf("partition %d: lag %v after reading everything", p, l)
		}
	}
	if m, _ := ctx.metrics.Value(metrichook.KafkaConsumerLagMax); m != 0 {
		t.Errorf("lag max %v after reading everything", m)
	}
}
