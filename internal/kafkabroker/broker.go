// Package kafkabroker owns the in-memory Kafka-protocol broker of `tide kafka
// start-foreground` and of `tide run` when a job needs Kafka and no
// --bootstrap-servers is given: franz-go's kfake, one broker on loopback,
// with the topics asked for. It keeps nothing: the records live in memory
// until Close.
package kafkabroker

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Topic is a topic to create at start.
type Topic struct {
	Name       string
	Partitions int32
}

// ParseTopic parses NAME:PARTITIONS (NAME alone: one partition).
func ParseTopic(s string) (Topic, error) {
	name, parts, found := strings.Cut(s, ":")
	t := Topic{Name: name, Partitions: 1}
	if name == "" {
		return Topic{}, fmt.Errorf("kafkabroker: topic %q: want NAME:PARTITIONS", s)
	}
	if found {
		n, err := strconv.ParseInt(parts, 10, 32)
		if err != nil || n < 1 {
			return Topic{}, fmt.Errorf("kafkabroker: topic %q: partitions must be a positive integer", s)
		}
		t.Partitions = int32(n)
	}
	return t, nil
}

// Config is a broker to start.
type Config struct {
	// Port is the loopback port to listen on; 0: a free one (see Addr).
	Port int
	// Topics are created at start.
	Topics []Topic
	// Opts are extra kfake options, passed through unchanged.
	Opts []kfake.Opt
}

// Broker is a running in-memory broker. Its state is owned by kfake's
// cluster goroutine; Close stops it and waits for it.
type Broker struct {
	c *kfake.Cluster
}

// Start starts a broker on 127.0.0.1:Port with the topics created.
func Start(c Config) (*Broker, error) {
	if c.Port < 0 || c.Port > 65535 {
		return nil, fmt.Errorf("kafkabroker: port %d out of range", c.Port)
	}
	opts := []kfake.Opt{kfake.Ports(c.Port)}
	for _, t := range c.Topics {
		opts = append(opts, kfake.SeedTopics(t.Partitions, t.Name))
	}
	cl, err := kfake.NewCluster(append(opts, c.Opts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafkabroker: starting on 127.0.0.1:%d: %w", c.Port, err)
	}
	return &Broker{c: cl}, nil
}

// Addr returns the broker's host:port, for --bootstrap-servers.
func (b *Broker) Addr() string { return b.c.ListenAddrs()[0] }

// Cluster returns the kfake cluster, for tests that inject faults.
func (b *Broker) Cluster() *kfake.Cluster { return b.c }

// Close stops the broker; what it held is gone.
func (b *Broker) Close() { b.c.Close() }
