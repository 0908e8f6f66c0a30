// Package kafka reads Kafka topics into a Tide job with franz-go.
//
//	src := stream.FromSource(env, kafka.Source(kafka.Config[int64]{
//		Brokers:     []string{"localhost:9092"},
//		Topics:      []string{"numbers"},
//		Group:       "my-job",
//		Start:       kafka.Earliest,
//		Deserialize: kafka.Int64,
//	}))
//
// # Topics
//
// Config.Topics names the topics to read; one that does not exist fails
// the job, permanently. Config.TopicPattern instead reads every topic
// whose name the regular expression matches, internal topics and the
// dead-letter topic excepted. A pattern that matches no topic is not an
// error, as in Flink: the source reads nothing until a matching topic
// appears (bounded, it finishes at once). Partition discovery finds the
// topics a pattern matches as it finds partitions.
//
// # Partitions are splits
//
// Each partition is a split of the source. The JobManager finds them (the
// source's split enumerator): all partitions of the topics when an attempt
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
// it had then. A subtask without partitions waits for some; bounded, it
// finishes.
//
// # Starting offsets
//
// Config.Start applies to the partitions found when the job first starts;
// a restore reads from the checkpoint, and a partition found later from
// its log start. Earliest (the default) reads each partition from its log
// start, Latest from its end when the job starts. Committed(reset)
// reads from Config.Group's committed offsets, which are those of the
// job's last completed checkpoint if the job ran before with this group,
// and a partition the group has no offset for, or one no longer in the
// log, from where reset (Earliest or Latest) says: Flink's
// OffsetsInitializer.committedOffsets(OffsetResetStrategy). A group that
// never committed starts every partition at reset. StartAt(t) reads each
// partition from its first record stamped at or after t, and a partition
// with none from its end.
//
// # Bounded reads and transactions
//
// Config.Bounded stops each partition at its end offset when the job
// first starts, and the source finishes once every partition reached its
// stop. The source reads with isolation level read_committed unless
// Config.ReadUncommitted is set: it sees the records of committed
// transactions and those written outside transactions, never those of
// aborted or still open ones, which is what a job reading an exactly-once
// producer's output needs (Flink and Kafka default to read_uncommitted;
// for topics written without transactions the two are the same). A
// read_committed bounded read stops at the last stable offset: a
// transaction still open when the job starts is not read, even once it
// commits. A transaction's commit or abort marker takes an offset but is
// no record; the source moves past markers (and aborted records) as it
// reads, so a bounded partition whose last offsets are markers finishes.
//
// # Progress in the consumer group
//
// When a checkpoint completes, each subtask commits that checkpoint's
// offsets of its partitions to Config.Group, so that lag exporters and
// kafka-consumer-groups-style tools see the job's progress. The committed
// offsets are for those tools and for Committed starts only: a restore
// resumes from its checkpoint, never from the group.
//
// # Offsets out of range
//
// A partition's offset falls out of its log when retention deletes
// records the source has not read yet (the job was down, or lagged, for
// longer than the topic's retention) or when the log ends before it (the
// topic was deleted and created again, or the broker lost data). By
// default (FailOutOfRange) the job fails, permanently, with an error
// naming the topic, partition and offset and the log's start and end: a
// restart would only resume at the same offset, and skipping records
// silently is a choice for the operator to make. With
// Config.OnOffsetOutOfRange ResetEarliest the source reads on from the log
// start, logs a warning and counts the records it never read in
// tide_kafka_consumer_records_lost_total. (kgo left to itself resumes at
// the log start, or a minute before the last record read, without
// telling: the source sets its reset offset to NoResetOffset and decides
// itself.)
//
// # Deserializers
//
// Config.Deserialize turns a record's key and value into the source's
// type: String, Bytes, Int64 (decimal text) and JSON[T]() read the value
// and ignore the key. A job that needs the key writes its own function; one
// that needs the record's topic, partition, offset, timestamp or headers
// gives Config.DeserializeRecord instead, which sees the whole record.
//
// # Records the deserializer rejects
//
// Config.OnDeserializeError decides; nothing is ever dropped silently and
// no record makes the job restart for ever:
//
//   - The zero value: the job fails, permanently, with an error
//     naming the record's topic, partition and offset and the cause.
//   - Skip(): the record is dropped and counted in
//     tide_kafka_consumer_records_skipped_total (per topic and partition);
//     a warning is logged at most once a second with the latest rejected
//     record's topic, partition, offset and error and the counts since the
//     last line and in total.
//   - DeadLetter(topic): the record's key, value and headers are produced
//     to topic, which must exist, with headers added naming its source
//     topic, partition, offset and timestamp and the error
//     (HeaderSourceTopic, …), and counted in
//     tide_kafka_consumer_records_dead_lettered_total once acknowledged.
//     Each checkpoint waits (Snapshot flushes the client) until every dead
//     letter of the records it covers is acknowledged, so a completed
//     checkpoint never covers a record whose dead letter could be lost. A
//     dead letter that cannot be delivered (within 30 s) fails the subtask,
//     which restarts from the last checkpoint and reads the record again.
//     Delivery is at least once: a failure after a dead letter was written
//     but before the next checkpoint completed writes it again.
//
// # Metrics
//
// Each subtask reports through stream.SourceContext.Metrics: per topic and
// partition, tide_kafka_consumer_lag_records, the partition's end offset
// (its high watermark; read_committed, its last stable offset; bounded, at
// most its stop) less the offset of the next record the source will emit,
// updated from each fetch and as records are emitted (a partition not
// fetched yet has no lag series); tide_kafka_consumer_lag_max_records,
// the largest of the subtask's lags; and the skipped, dead-lettered and
// lost record counters above.
//
// # Failures
//
// An invalid Config, a missing topic and a missing dead-letter topic fail
// the job permanently when it opens. Brokers that cannot be reached fail a
// subtask's open within Config.OpenTimeout with an error naming them that
// the restart strategy may retry.
package kafka
