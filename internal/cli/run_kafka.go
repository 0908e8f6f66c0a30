package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tide-stream/tide/internal/kafkabroker"
	"github.com/tide-stream/tide/stream"
)

// embedsKafka is the annotation of a command that answers a job's
// *stream.KafkaRequired with an in-memory broker of its own (tide run):
// checkJob lets such an error pass for it.
const embedsKafka = "tide/embeds-kafka"

// asKafkaRequired returns the *stream.KafkaRequired that err wraps, if any.
func asKafkaRequired(err error) (*stream.KafkaRequired, bool) {
	var kr *stream.KafkaRequired
	if errors.As(err, &kr) && kr.Flag != "" {
		return kr, true
	}
	return nil, false
}

// embeddedKafka is the broker tide run starts for a job that needs Kafka
// and was given none.
type embeddedKafka struct {
	b      *kafkabroker.Broker
	topics []kafkabroker.Topic
}

// startEmbeddedKafka starts an in-memory broker on a free loopback port
// with kr's topics, and returns it with jargs extended by kr's flag and
// the broker's address.
func startEmbeddedKafka(kr *stream.KafkaRequired, jargs []string) (*embeddedKafka, []string, error) {
	var topics []kafkabroker.Topic
	for _, t := range kr.Topics {
		p := t.Partitions
		if p == 0 {
			p = 1
		}
		if t.Name == "" || p < 0 || p > 1<<20 {
			return nil, nil, fmt.Errorf("the job asks for Kafka topic %q with %d partitions", t.Name, t.Partitions)
		}
		topics = append(topics, kafkabroker.Topic{Name: t.Name, Partitions: int32(p)})
	}
	b, err := kafkabroker.Start(kafkabroker.Config{Topics: topics})
	if err != nil {
		return nil, nil, fmt.Errorf("starting an in-memory Kafka broker for the job (%s was not given): %w", kr.Flag, err)
	}
	out := append(append(make([]string, 0, len(jargs)+2), jargs...), kr.Flag, b.Addr())
	return &embeddedKafka{b: b, topics: topics}, out, nil
}

// describe is tide run's line about the broker.
func (k *embeddedKafka) describe(flag string) string {
	ts := make([]string, len(k.topics))
	for i, t := range k.topics {
		ts[i] = fmt.Sprintf("%s (%d partitions)", t.Name, t.Partitions)
	}
	return fmt.Sprintf("in-memory Kafka broker at %s with topic %s, passed to the job as %s %s; "+
		"produce to it with `tide datagen --bootstrap-servers %s …`; it keeps nothing and stops with the cluster",
		k.b.Addr(), strings.Join(ts, ", "), flag, k.b.Addr(), k.b.Addr())
}

func (k *embeddedKafka) close() { k.b.Close() }
