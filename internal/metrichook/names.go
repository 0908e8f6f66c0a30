package metrichook

// The names of the series operators and connectors report through a
// Group, declared once so that the metrics layer, the autoscaler,
// dashboards and docs agree (DESIGN.md's metrics table). The metrics layer
// exports them under these names, with the subtask's labels added.
const (
	// KafkaConsumerLag is a Kafka source's lag on one partition, in
	// records: the partition's high watermark (read_committed: its last
	// stable offset; bounded: at most the offset the source stops at)
	// minus the offset of the next record the source will emit. Labels
	// LabelTopic and LabelPartition.
	KafkaConsumerLag = "tide_kafka_consumer_lag_records"
	// KafkaConsumerLagMax is the largest KafkaConsumerLag of a source
	// subtask's partitions (Flink's records-lag-max).
	KafkaConsumerLagMax = "tide_kafka_consumer_lag_max_records"
	// KafkaRecordsSkipped counts the records a Kafka source skipped
	// because its Deserialize rejected them (kafka.Skip). Labels
	// LabelTopic and LabelPartition.
	KafkaRecordsSkipped = "tide_kafka_consumer_records_skipped_total"
	// KafkaRecordsDeadLettered counts the records a Kafka source produced
	// to its dead-letter topic because its Deserialize rejected them
	// (kafka.DeadLetter). Labels LabelTopic and LabelPartition.
	KafkaRecordsDeadLettered = "tide_kafka_consumer_records_dead_lettered_total"
	// KafkaRecordsLost counts the records a Kafka source never read
	// because its position had fallen below the partition's log start
	// (retention deleted them) and it reset to the log start
	// (kafka.ResetEarliest). Labels LabelTopic and LabelPartition.
	KafkaRecordsLost = "tide_kafka_consumer_records_lost_total"
)

// Label names (Flink's).
const (
	LabelTopic        = "topic"
	LabelPartition    = "partition"
	LabelOperatorName = "operator_name"
)
