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
// Each partition is a split of the source. The JobManager finds them (the
// source's split enumerator): all partitions of Topics when an attempt
// starts, and those added since every PartitionDiscovery (30s by default),
// and hands each partition it has not handed out before to the source
// subtask holding the fewest. On the job's first start a partition starts
// where Start says, resolved to an offset on the JobManager; a partition
// found later starts at its log start, since all its records came after
// the job began. A partition's state in a checkpoint is its next offset
// (and, bounded, the offset it stops at), one list entry per partition, so
// that a restore resumes every partition exactly where the checkpoint left
// it, a rescale moves whole partitions with their offsets, and the
// partitions a checkpoint does not hold are found and handed out again.
// The source assigns partitions itself (kgo's direct consuming): there is
// no consumer-group membership and no rebalance. Bounded, the partitions
// found at the first start are all there is: each stops at the end offset
// it had then.
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
