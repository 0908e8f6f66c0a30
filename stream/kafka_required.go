package stream

import (
	"fmt"
	"strings"
)

// KafkaRequired is the error a job's build function returns when its
// arguments lack the Kafka bootstrap servers the job reads from or writes
// to. `tide run` answers it: it starts an in-memory Kafka-protocol broker
// on a free loopback port, creates Topics there, and builds the job again
// with "Flag ADDRESS" added to its arguments. Everywhere else (`tide
// standalone-job`, a JobManager) it is the error it says: the flag is
// required.
//
//	if o.Brokers == "" {
//		return &stream.KafkaRequired{Flag: "--bootstrap-servers",
//			Topics: []stream.KafkaTopic{{Name: o.Topic, Partitions: o.Partitions}}}
//	}
type KafkaRequired struct {
	// Flag is the job argument that names the bootstrap servers, with its
	// dashes, e.g. "--bootstrap-servers". It must take its value as the
	// next argument.
	Flag string
	// Topics are the topics the job needs, created on a started broker.
	Topics []KafkaTopic
}

// KafkaTopic is a topic a job needs.
type KafkaTopic struct {
	Name string
	// Partitions is the partition count it is created with; 0 means 1.
	Partitions int
}

// Error says that the flag is required.
func (e *KafkaRequired) Error() string {
	names := make([]string, len(e.Topics))
	for i, t := range e.Topics {
		names[i] = t.Name
	}
	return fmt.Sprintf("%s is required: the Kafka bootstrap servers of topic(s) %s "+
		"(`tide run` starts an in-memory broker when it is not given)", e.Flag, strings.Join(names, ", "))
}
