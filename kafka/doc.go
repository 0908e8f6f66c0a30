// Package kafka reads Kafka topics into a Tide job with franz-go.
//
//	src := stream.FromSource(env, kafka.Source(kafka.Config[int64]{
//		Brokers:     []string{"localhost:9092"},
//		Topics:      []string{"numbers"},
//		Group:       "my-job",
//		Start:       kafka.Earliest,
//		Deserialize: func(_, v []byte) (int64, error) { return strconv.ParseInt(string(v), 10, 64) },
//	}))
//
// # Partitions are splits
//
// Each partition is a split of the source. On a fresh start, subtask i of p
// reads the partitions whose index (topics in the order given, partitions
// in increasing number) is i mod p, from the offset Start names, resolved to
// a number when the subtask opens. A partition's state in a checkpoint is
// its next offset (and, bounded, the offset it stops at), one list entry
// per partition, so that a restore resumes every partition exactly where
// the checkpoint left it and a rescale moves whole partitions with their
// offsets. The source assigns partitions itself (kgo's ConsumePartitions):
// there is no consumer-group membership and no rebalance.
//
// # Progress in the consumer group
//
// When a checkpoint completes, each subtask commits that checkpoint's
// offsets of its partitions to Config.Group, so that lag exporters and
// kafka-consumer-groups-style tools see the job's progress. The committed
// offsets are for those tools only: the source always resumes from its
// checkpoint, never from the group.
//
// # Failures
//
// A record that Deserialize rejects fails the job, permanently, with an
// error naming its topic, partition and offset, as do a missing topic and
// an invalid Config.
package kafka
