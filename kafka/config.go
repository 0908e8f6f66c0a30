package kafka

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// StartOffset says where a fresh start reads each partition from. A
// restore reads from the checkpoint's offsets instead.
type StartOffset int

const (
	// Earliest reads each partition from its log start offset.
	Earliest StartOffset = iota
	// Latest reads only records produced after the subtask opened.
	Latest
)

func (s StartOffset) String() string {
	switch s {
	case Earliest:
		return "earliest"
	case Latest:
		return "latest"
	}
	return fmt.Sprintf("StartOffset(%d)", int(s))
}

// Config describes a Kafka source of records of type T.
type Config[T any] struct {
	// Name is the source's name in the job graph. Default "kafka".
	Name string
	// Brokers are the bootstrap servers, host:port. Required.
	Brokers []string
	// Topics are the topics to read, at least one.
	Topics []string
	// PartitionDiscovery is how often the JobManager looks for partitions
	// added to Topics while the job runs; a partition found is read from
	// its log start. Default 30s, as in Flink; negative: only when the job
	// starts or restarts. A bounded source never looks again.
	PartitionDiscovery time.Duration
	// Group is the consumer group that completed checkpoints' offsets are
	// committed to. Default empty: nothing is committed.
	Group string
	// Start is where a fresh start reads from. Default Earliest.
	Start StartOffset
	// Bounded stops each partition at the end offset it had when the job
	// first started (the offset is kept in checkpoints, so a restore stops
	// at the same place), and the source finishes when all have reached
	// it. Default false: read for ever.
	Bounded bool
	// Deserialize turns a record's key and value into a T. Required. An
	// error fails the job (see the package doc).
	Deserialize func(key, value []byte) (T, error)
	// MaxPollRecords is the most records one poll emits. Default 500.
	MaxPollRecords int
	// IdleWait is how long a subtask waits when nothing is buffered, unless
	// the client's fetch wakes it first. Default 50ms.
	IdleWait time.Duration
	// OpenTimeout bounds the broker calls of one partition discovery on
	// the JobManager (listing partitions and offsets). Default 30s.
	OpenTimeout time.Duration
	// ClientOpts are passed to kgo.NewClient unchanged, after the source's
	// own (SeedBrokers, ConsumePartitions, the wakeup hook): TLS, SASL,
	// fetch sizes, a logger.
	ClientOpts []kgo.Opt
}

// ensureDefaults fills the zero values that have defaults.
func (c *Config[T]) ensureDefaults() {
	if c.Name == "" {
		c.Name = "kafka"
	}
	if c.MaxPollRecords == 0 {
		c.MaxPollRecords = 500
	}
	if c.IdleWait == 0 {
		c.IdleWait = 50 * time.Millisecond
	}
	if c.PartitionDiscovery == 0 {
		c.PartitionDiscovery = 30 * time.Second
	}
	if c.OpenTimeout == 0 {
		c.OpenTimeout = 30 * time.Second
	}
}

// validate reports every problem of c at once.
func (c *Config[T]) validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no bootstrap servers (Brokers)"))
	}
	if len(c.Topics) == 0 {
		errs = append(errs, errors.New("no topics"))
	}
	seen := map[string]bool{}
	for _, t := range c.Topics {
		if t == "" {
			errs = append(errs, errors.New("an empty topic name"))
		} else if seen[t] {
			errs = append(errs, fmt.Errorf("topic %q given twice", t))
		}
		seen[t] = true
	}
	if c.Start != Earliest && c.Start != Latest {
		errs = append(errs, fmt.Errorf("unknown start offset %v", c.Start))
	}
	if c.Deserialize == nil {
		errs = append(errs, errors.New("no Deserialize function"))
	}
	if c.MaxPollRecords < 0 {
		errs = append(errs, fmt.Errorf("MaxPollRecords %d is negative", c.MaxPollRecords))
	}
	if c.IdleWait < 0 || c.OpenTimeout < 0 {
		errs = append(errs, errors.New("negative IdleWait or OpenTimeout"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kafka: source %q: %w", c.Name, err)
	}
	return nil
}
