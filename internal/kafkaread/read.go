// Package kafkaread reads what is committed in a Kafka topic, exactly: the
// records a read_committed consumer sees, up to each partition's last
// stable offset when the read began, and then stops. `tide verify
// --bootstrap-servers` and the Kafka sink's tests read through it.
//
// Why not a kgo consumer: a consumer cannot tell when it has reached an
// offset, because a read_committed fetch silently skips the records of
// aborted transactions and the transaction markers, and the last offsets
// before the last stable offset are often such records. Reading with Fetch
// requests and kgo.ProcessFetchPartition gives the offset to ask for next,
// which moves past them, so the read ends exactly at the target.
package kafkaread

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Stats summarise a read.
type Stats struct {
	// Partitions is the number of partitions read.
	Partitions int
	// Records is the number of committed records passed to fn.
	Records int64
	// Open is the number of partitions whose last stable offset was below
	// their high watermark when the read began: an open transaction held
	// records back.
	Open int
}

// Committed calls fn, in offset order per partition, for every committed
// record of topic between each partition's log start offset and its last
// stable offset at the start. An error of fn ends the read with it.
func Committed(ctx context.Context, cl *kgo.Client, topic string, fn func(*kgo.Record) error) (Stats, error) {
	var st Stats
	adm := kadm.NewClient(cl)
	topics, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return st, fmt.Errorf("listing topic %s: %w", topic, err)
	}
	td, ok := topics[topic]
	if !ok || td.Err != nil {
		err := td.Err
		if err == nil {
			err = errors.New("not in the metadata")
		}
		return st, fmt.Errorf("topic %s: %w", topic, err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return st, fmt.Errorf("listing the start offsets of %s: %w", topic, err)
	}
	stable, err := adm.ListCommittedOffsets(ctx, topic)
	if err == nil {
		err = stable.Error()
	}
	if err != nil {
		return st, fmt.Errorf("listing the last stable offsets of %s: %w", topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return st, fmt.Errorf("listing the end offsets of %s: %w", topic, err)
	}
	for _, p := range td.Partitions.Sorted() {
		so, ok1 := starts.Lookup(topic, p.Partition)
		lso, ok2 := stable.Lookup(topic, p.Partition)
		eo, ok3 := ends.Lookup(topic, p.Partition)
		if !ok1 || !ok2 || !ok3 {
			return st, fmt.Errorf("no offsets listed for %s-%d", topic, p.Partition)
		}
		st.Partitions++
		if lso.Offset < eo.Offset {
			st.Open++
		}
		n, err := readPartition(ctx, cl, td.ID, topic, p.Partition, p.Leader, so.Offset, lso.Offset, fn)
		st.Records += n
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// maxStalls is how many fetches in a row may return nothing before a read
// that has not reached its target gives up.
const maxStalls = 50

// readPartition reads [from, to) of one partition from its leader.
func readPartition(ctx context.Context, cl *kgo.Client, id kadm.TopicID, topic string, partition, leader int32,
	from, to int64, fn func(*kgo.Record) error) (int64, error) {
	var n int64
	stalls := 0
	for o := from; o < to; {
		req := kmsg.NewPtrFetchRequest()
		req.MaxWaitMillis = 100
		req.MinBytes = 1
		req.MaxBytes = 16 << 20
		req.IsolationLevel = 1 // read_committed
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = topic, id
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = partition, o, 4<<20
		rp.CurrentLeaderEpoch, rp.LogStartOffset = -1, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl.Broker(int(leader)))
		if err != nil {
			return n, fmt.Errorf("fetching %s-%d at offset %d: %w", topic, partition, o, err)
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return n, fmt.Errorf("fetching %s-%d at offset %d: %w", topic, partition, o, err)
		}
		var part *kmsg.FetchResponseTopicPartition
		for i := range resp.Topics {
			t := &resp.Topics[i]
			if t.Topic != topic && t.TopicID != id {
				continue
			}
			for j := range t.Partitions {
				if t.Partitions[j].Partition == partition {
					part = &t.Partitions[j]
				}
			}
		}
		if part == nil {
			return n, fmt.Errorf("fetching %s-%d at offset %d: the response has no such partition", topic, partition, o)
		}
		fp, next := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{
			Offset: o, IsolationLevel: kgo.ReadCommitted(), Topic: topic, Partition: partition,
		}, part, kgo.DefaultDecompressor(), nil)
		if fp.Err != nil {
			return n, fmt.Errorf("fetching %s-%d at offset %d: %w", topic, partition, o, fp.Err)
		}
		for _, r := range fp.Records {
			if r.Offset >= to {
				break
			}
			n++
			if err := fn(r); err != nil {
				return n, err
			}
		}
		if next <= o {
			if stalls++; stalls > maxStalls {
				return n, fmt.Errorf("reading %s-%d: stuck at offset %d below the last stable offset %d", topic, partition, o, to)
			}
			continue
		}
		stalls, o = 0, next
	}
	return n, nil
}
