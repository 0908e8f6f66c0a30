package kafka

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Guarantee is what a Kafka sink promises about each record it is given.
type Guarantee int

const (
	// AtLeastOnce writes every record before the checkpoint that covers it
	// completes (PreCommit flushes and fails on any produce error), so no
	// record is lost; a restore rewrites the records after the checkpoint
	// it restores, so some may be written twice.
	AtLeastOnce Guarantee = iota
	// ExactlyOnce writes the records between two checkpoints in a Kafka
	// transaction that commits when the later checkpoint completes; a
	// consumer reading with isolation.level=read_committed sees every
	// record exactly once. See the package doc.
	ExactlyOnce
)

func (g Guarantee) String() string {
	switch g {
	case AtLeastOnce:
		return "at-least-once"
	case ExactlyOnce:
		return "exactly-once"
	}
	return fmt.Sprintf("Guarantee(%d)", int(g))
}

// DefaultTransactionTimeout is SinkConfig.TransactionTimeout's default:
// Kafka's default transaction.max.timeout.ms, the longest a broker accepts
// unless configured otherwise.
const DefaultTransactionTimeout = 15 * time.Minute

// SinkConfig describes a Kafka sink of records of type T.
type SinkConfig[T any] struct {
	// Brokers are the bootstrap servers, host:port. Required.
	Brokers []string
	// Topic is the topic records are written to, unless Record names
	// another. Required unless Record is set.
	Topic string
	// Serialize turns a value into a record's key and value (a nil key
	// lets the partitioner spread the records). The slices are sent
	// asynchronously: they must not be changed after Serialize returns.
	// Exactly one of Serialize and Record is required. An error fails the
	// job, permanently.
	Serialize func(v T) (key, value []byte, err error)
	// Record turns a value into a whole record, for a record-specific
	// topic, partition (with kgo.ManualPartitioner in ClientOpts), headers
	// or timestamp; an empty Record.Topic means Topic. The record is sent
	// asynchronously and must not be reused. An error fails the job,
	// permanently.
	Record func(v T) (*kgo.Record, error)
	// Guarantee is AtLeastOnce or ExactlyOnce. Default AtLeastOnce.
	Guarantee Guarantee
	// TransactionalIDPrefix starts the transactional id of every
	// transaction an ExactlyOnce sink opens,
	// "<prefix>-<attempt>-<subtask>-<checkpoint>". It must be unique to
	// this sink of this job among everything that writes to the cluster,
	// and stay the same across restarts of the job: a restart finds the
	// transactions it must commit or abort by it. Required with
	// ExactlyOnce, unused otherwise.
	TransactionalIDPrefix string
	// TransactionTimeout is the transaction timeout an ExactlyOnce sink
	// asks for. A transaction stays open from its first record until the
	// checkpoint after it completes — about two checkpoint intervals, plus
	// the time to restart the job if a failure comes in between — and the
	// broker aborts one that stays open longer, losing its records: keep
	// it well above the checkpoint interval plus the time a restart takes.
	// The broker refuses values above its transaction.max.timeout.ms.
	// Default DefaultTransactionTimeout.
	TransactionTimeout time.Duration
	// ClientOpts are passed to kgo.NewClient unchanged, after the sink's
	// own (SeedBrokers, and for ExactlyOnce TransactionalID and
	// TransactionTimeout): TLS, SASL, batching, compression, a
	// partitioner, a logger.
	ClientOpts []kgo.Opt
}

// ensureDefaults fills the zero values that have defaults.
func (c *SinkConfig[T]) ensureDefaults() {
	if c.TransactionTimeout == 0 {
		c.TransactionTimeout = DefaultTransactionTimeout
	}
}

// validate reports every problem of c at once.
func (c *SinkConfig[T]) validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no bootstrap servers (Brokers)"))
	}
	switch {
	case c.Serialize == nil && c.Record == nil:
		errs = append(errs, errors.New("no Serialize or Record function"))
	case c.Serialize != nil && c.Record != nil:
		errs = append(errs, errors.New("both Serialize and Record are set: choose one"))
	case c.Serialize != nil && c.Topic == "":
		errs = append(errs, errors.New("no Topic"))
	}
	switch c.Guarantee {
	case AtLeastOnce:
	case ExactlyOnce:
		if c.TransactionalIDPrefix == "" {
			errs = append(errs, errors.New("ExactlyOnce needs a TransactionalIDPrefix"))
		}
		if c.TransactionTimeout < time.Millisecond {
			errs = append(errs, fmt.Errorf("TransactionTimeout %v is below a millisecond", c.TransactionTimeout))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown guarantee %v", c.Guarantee))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kafka: sink %s: %w", c.name(), err)
	}
	return nil
}

// name names the sink in errors: its topic, or its prefix.
func (c *SinkConfig[T]) name() string {
	var parts []string
	if c.Topic != "" {
		parts = append(parts, fmt.Sprintf("to topic %q", c.Topic))
	}
	if c.Guarantee == ExactlyOnce && c.TransactionalIDPrefix != "" {
		parts = append(parts, fmt.Sprintf("with transactional id prefix %q", c.TransactionalIDPrefix))
	}
	if len(parts) == 0 {
		return "(no topic)"
	}
	return strings.Join(parts, " ")
}

// record builds the Kafka record of v.
func (c *SinkConfig[T]) record(v T) (*kgo.Record, error) {
	if c.Record != nil {
		r, err := c.Record(v)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, errors.New("Record returned no record")
		}
		if r.Topic == "" {
			if c.Topic == "" {
				return nil, errors.New("Record returned a record without a topic and the sink has no Topic")
			}
			r.Topic = c.Topic
		}
		return r, nil
	}
	k, val, err := c.Serialize(v)
	if err != nil {
		return nil, err
	}
	return &kgo.Record{Topic: c.Topic, Key: k, Value: val}, nil
}
