// Package kafka reads Kafka topics into a Tide job, and writes a job's
// results to Kafka, with franz-go.
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
// the job permanently. Brokers that cannot be reached fail the JobManager's
// partition discovery (or, with a dead-letter topic, a subtask's open)
// within Config.OpenTimeout, with an error naming them that the restart
// strategy may retry.
//
// # The sink
//
//	stream.SinkTo(results, "KafkaSink", kafka.Sink(kafka.SinkConfig[Result]{
//		Brokers:               []string{"localhost:9092"},
//		Topic:                 "results",
//		Serialize:             func(r Result) ([]byte, []byte, error) { return key(r), value(r), nil },
//		Guarantee:             kafka.ExactlyOnce,
//		TransactionalIDPrefix: "my-job-results",
//	}), stream.UID("kafka-sink"))
//
// AtLeastOnce gives each sink subtask one idempotent producer; at every
// checkpoint barrier PreCommit flushes it and fails the checkpoint (and the
// subtask) if any record was not acknowledged, so a completed checkpoint
// never misses a record before its barrier. A restore replays what came
// after the checkpoint, so records may be written twice.
//
// ExactlyOnce writes each subtask's records between two barriers in one
// Kafka transaction, committed when the checkpoint of the second barrier
// completes: read with isolation.level=read_committed, every record is
// there exactly once, through failures, restores and rescales. Records
// become visible only when their checkpoint completes, so the latency is a
// checkpoint interval, and a job needs execution.checkpointing.interval.
//
// Errors name the topic, the partition and the transaction, and are never
// dropped: a record that failed fails the next Write or PreCommit.
//
// # Exactly once
//
// Transactions are named "<prefix>-<attempt>-<subtask>-<n>": the attempt
// and subtask that opened it, and n, one more than the newest checkpoint
// barrier the subtask had passed (or restored from) when it opened it. So
// every record of transaction n comes after barrier n-1 in its subtask's
// input, and names never repeat: a subtask opens at most one transaction
// per n, attempts are unique across JobManager restarts (the JobManager
// leases them in the job record), and the prefix is the sink's own.
//
// kgo cannot hand a transaction to another client, so the sink commits by
// hand: a transaction's state is its transactional id, producer id and
// epoch, and EndTxn with them commits it from any client, in a later
// process too. One code path, endTxn, serves the running writer and a
// restore. The writer of a subtask:
//
//  1. On open, commits every transaction in its share of the restored list
//     state, oldest checkpoint first, BEFORE writing anything. They belong
//     to checkpoints that completed (the restored one or earlier), whose
//     completion notice may have been lost with the attempt. A transaction
//     already committed counts as committed (EndTxn's retry of a completed
//     commit succeeds: on Kafka before KIP-890 the state is CompleteCommit
//     at the same epoch, on KIP-890 brokers and kfake the epoch is one
//     ahead with the last transaction a commit). One the broker aborted —
//     it outlived its timeout, or another producer fenced it — cannot be
//     committed: EndTxn answers INVALID_TXN_STATE or PRODUCER_FENCED, and
//     the writer fails permanently with a TransactionLostError naming the
//     transaction, its checkpoint and TransactionTimeout, rather than go
//     on without records of a completed checkpoint.
//  2. Opens a transaction lazily at the first record after a barrier (a
//     new client with that transactional id; initialising it fences any
//     earlier producer of the same id).
//  3. At barrier n (PreCommit), flushes the transaction, fails if any record
//     failed, records its producer id and epoch as prepared for checkpoint
//     n, closes its client (the transaction stays open on the broker) and
//     returns ALL prepared transactions not yet committed as the
//     checkpoint's list state, so that a restore from any later checkpoint
//     still commits one whose completion notice never came.
//  4. When checkpoint n completes (Commit, for this attempt only: the
//     runtime drops notices of older attempts), commits every prepared
//     transaction of a checkpoint up to n; notices may be coalesced.
//  5. On close (cancel, failure), aborts its open, unprepared transaction —
//     a restore replays its records — and leaves prepared ones for a
//     restore to commit.
//
// A record is visible only if its transaction was prepared at a checkpoint
// that completed, and every such transaction is committed, by step 4 or by
// step 1 of the next restore (the notice can be lost, the checkpoint
// cannot). A restore from checkpoint R replays every record after barrier
// R; those records' first copies are in transactions opened after barrier
// R, which no restored state names and nobody commits, since the new
// attempt's writers commit only what they prepared or restored. A rescale
// is a restore: the list state of removed subtasks is redistributed to the
// surviving ones, which commit it in step 1.
//
// # Lingering transactions
//
// A transaction that nobody commits or aborts stays open until the broker's
// transaction timeout ends it, and meanwhile holds back read_committed
// consumers of its partitions (the last stable offset cannot pass its first
// record). A killed process aborts nothing, so subtask 0 aborts what
// earlier attempts left, by initialising a producer with each one's
// transactional id (InitProducerID aborts the open transaction and fences
// the producer that had it; ListTransactions finds them by the prefix):
//
//   - when it opens, every open transaction of an older attempt with
//     n > R, the restored checkpoint (0 on a fresh start): it was opened
//     after its subtask passed barrier R or later, so it holds only records
//     after R, which are replayed, and no restored state names it;
//   - when a checkpoint that its own writer prepared completes, every
//     remaining open transaction of an older attempt. This is the file
//     sink's "Stale files" argument with transactions for files: every sink
//     subtask of the attempt acknowledged that checkpoint, so each ran step
//     1 first (a failure there fails the subtask, which then acknowledges
//     nothing), and every transaction the restored state named is
//     committed; those of earlier completed checkpoints were committed by
//     their own attempt, or named again by each later checkpoint and so
//     committed by a restore; and the current attempt's checkpoints name
//     only its own transactions, so no future restore needs an older one.
//     A zombie of an older attempt that is still writing is fenced by it.
//
// Open transactions of the current attempt are never touched (other
// subtasks are writing them), nor are a newer attempt's, should this one be
// a stale survivor. What this cannot clean: transactions of an older run of
// the job (a fresh start in a new checkpoint directory reuses attempt
// numbers) whose attempt number is not below the current one; and those a
// zombie opens after the sweep (it must have passed a barrier the
// JobManager no longer sends). Both end at their timeout. The prefix must
// belong to one sink of one job: another job's attempt numbers look the
// same.
//
// # Transaction timeout
//
// A transaction is open from its first record until its checkpoint
// completes — about two checkpoint intervals — and, if the job fails in
// between, until the restore commits it. The broker aborts one that lives
// longer than SinkConfig.TransactionTimeout (15 minutes by default, the
// usual transaction.max.timeout.ms of brokers, which refuse more), and its
// records are lost: keep the timeout well above the checkpoint interval
// plus the time a restart takes. The sink cannot see the checkpoint
// interval, so it checks what it can: a broker that refuses the timeout
// fails the first transaction permanently, naming the setting; a
// transaction open for more than half its timeout at its barrier is logged
// as a warning; a produce error of a transaction older than its timeout
// says it expired and which setting to raise; and a prepared transaction
// the broker aborted fails the job with a TransactionLostError (see step
// 1).
//
// Costs: each subtask opens a client per checkpoint that had records (so
// the broker keeps one transactional id per subtask per checkpoint until
// its transactional.id.expiration.ms, 7 days by default), and a
// transaction's records stay invisible until its checkpoint completes.
// BENCHMARKS.md compares the two guarantees' throughput.
package kafka
