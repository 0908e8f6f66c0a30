// Package cpuload is the CPULoad job: the job of the seed's Reactive Mode
// demo (rmetzger/flink-reactive-mode-k8s-demo, DemoJob.java) on Tide. It
// reads a Kafka topic and burns CPU on every record, so that the load on
// the TaskManagers follows the rate of the topic, which an autoscaler then
// follows:
//
//	Kafka ─┬─> Throughput Logger                                (at most --partitions subtasks)
//	       └─> rebalance ─> Expensive Computation ─> Discard    (all slots)
//
// # The source
//
// The Kafka source (package kafka) makes each partition a split, which the
// JobManager hands to the source subtask holding the fewest. A subtask
// beyond the partition count would have none and only idle (and take a
// slot's share of nothing), so the source and its logger are bounded to
// --partitions subtasks, as the seed bounds its source to one (its topic
// has one partition). The rebalance spreads the records round-robin over
// the computation's subtasks, which take every slot.
//
// # The computation
//
// Compute is the seed's CPULoadMapper: --iterations times
// res += sin(cos(res))·2, from res = 0 for every record. At the default
// 500 iterations it costs 21–25 µs a record on this project's 2-CPU
// machines (BenchmarkCompute), about 40,000–48,000 records/s a core.
//
// # The throughput log
//
// Every source subtask counts the records it reads and, every
// --log-interval while records come, logs what the seed's ThroughputLogger
// logs: the records of the last interval and their rate, per subtask, and
// the total. At the end it logs its total. The lines go to the
// TaskManager's log (standard error).
package cpuload
