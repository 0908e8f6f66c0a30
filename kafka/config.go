package kafka

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// StartOffset says where a fresh start reads each partition from:
// Earliest, Latest, Committed(reset) or StartAt(t). A restore reads from
// the checkpoint's offsets instead, whatever StartOffset says.
type StartOffset interface {
	fmt.Stringer
	isStartOffset()
}

// OffsetReset is the start or the end of a partition's log: a StartOffset
// of its own, and what Committed falls back to for a partition the group
// has no offset for (Flink's OffsetResetStrategy).
type OffsetReset int

const (
	// Earliest is the partition's log start offset: read everything the
	// partition still holds.
	Earliest OffsetReset = iota
	// Latest is the partition's end offset when the subtask opens: read
	// only records produced after that (read_committed: the last stable
	// offset, so that a transaction still open then is read once it
	// commits).
	Latest
)

func (OffsetReset) isStartOffset() {}

func (r OffsetReset) String() string {
	switch r {
	case Earliest:
		return "earliest"
	case Latest:
		return "latest"
	}
	return fmt.Sprintf("OffsetReset(%d)", int(r))
}

// Committed starts each partition at Config.Group's committed offset, and
// a partition the group has no offset for (or one outside the partition's
// log: below its start, past its end) at reset: Flink's
// OffsetsInitializer.committedOffsets(OffsetResetStrategy). It needs a
// Group.
func Committed(reset OffsetReset) StartOffset { return committedStart{reset} }

type committedStart struct{ reset OffsetReset }

func (committedStart) isStartOffset()   {}
func (c committedStart) String() string { return "committed, else " + c.reset.String() }

// StartAt starts each partition at its first record whose timestamp is at
// or after t (Kafka's ListOffsets by timestamp), and a partition with no
// such record at its end.
func StartAt(t time.Time) StartOffset { return timestampStart{t} }

type timestampStart struct{ t time.Time }

func (timestampStart) isStartOffset() {}
func (s timestampStart) String() string {
	return "at " + s.t.UTC().Format(time.RFC3339Nano)
}

// OutOfRangePolicy says what the source does when a partition's offset is
// outside the partition's log: below its log start (retention deleted
// records the source had not read yet, typically after the job was down
// or lagging for longer than the topic's retention) or past its end (the
// topic was deleted and created again, or the broker lost data). See the
// package doc.
type OutOfRangePolicy int

const (
	// FailOutOfRange fails the job, permanently, with an error naming the
	// topic, partition and offset and the partition's log start and end:
	// an operator decides what to do about the loss.
	FailOutOfRange OutOfRangePolicy = iota
	// ResetEarliest reads on from the partition's log start, logging the
	// reset and counting the records that were lost (those below the log
	// start the source never read) in
	// tide_kafka_consumer_records_lost_total.
	ResetEarliest
)

func (p OutOfRangePolicy) String() string {
	switch p {
	case FailOutOfRange:
		return "fail"
	case ResetEarliest:
		return "reset to earliest"
	}
	return fmt.Sprintf("OutOfRangePolicy(%d)", int(p))
}

// DeserializeErrorPolicy says what the source does with a record its
// deserializer rejects. The zero value fails the job; Skip and DeadLetter
// make the others. See the package doc.
type DeserializeErrorPolicy struct {
	skip       bool
	deadLetter string
}

// Skip drops records the deserializer rejects, counting them in
// tide_kafka_consumer_records_skipped_total and logging them (at most once
// a second, with the last one's topic, partition and offset and the count).
func Skip() DeserializeErrorPolicy { return DeserializeErrorPolicy{skip: true} }

// DeadLetter produces records the deserializer rejects, unchanged, to
// topic, with headers that say where they came from and why they were
// rejected. The topic must exist. Delivery is at least once: a checkpoint
// completes only after the dead letters of the records it covers are
// acknowledged.
func DeadLetter(topic string) DeserializeErrorPolicy {
	return DeserializeErrorPolicy{deadLetter: topic}
}

func (p DeserializeErrorPolicy) String() string {
	switch {
	case p.skip:
		return "skip"
	case p.deadLetter != "":
		return fmt.Sprintf("dead-letter to %q", p.deadLetter)
	}
	return "fail"
}

// Config describes a Kafka source of records of type T.
type Config[T any] struct {
	// Name is the source's name in the job graph. Default "kafka".
	Name string
	// Brokers are the bootstrap servers, host:port. Required.
	Brokers []string
	// Topics are the topics to read. Exactly one of Topics and
	// TopicPattern is given. A topic that does not exist fails the job,
	// permanently.
	Topics []string
	// TopicPattern reads every topic whose name it matches, internal
	// topics (__consumer_offsets, …) and the dead-letter topic excepted. A
	// pattern that matches no topic is not an error, as in Flink: the
	// source reads nothing until a matching topic appears (bounded, it
	// finishes at once).
	TopicPattern *regexp.Regexp
	// PartitionDiscovery is how often the JobManager looks for partitions
	// added to the topics (and, with TopicPattern, for topics created
	// since) while the job runs; a partition found is read from its log
	// start. Default 30s, as in Flink; negative: only when the job starts
	// or restarts. A bounded source never looks again.
	PartitionDiscovery time.Duration
	// Group is the consumer group that completed checkpoints' offsets are
	// committed to, and that Committed starts from. Default empty: nothing
	// is committed.
	Group string
	// Start is where a fresh start reads from: Earliest, Latest,
	// Committed(reset) or StartAt(t). Default (nil) Earliest.
	Start StartOffset
	// Bounded stops each partition at the end offset it had when the job
	// first started (read_committed: its last stable offset; the offset is
	// kept in checkpoints, so a restore stops at the same place), and the
	// source finishes when all have reached it. Default false: read for
	// ever.
	Bounded bool
	// ReadUncommitted reads the records of transactions that are still
	// open or were aborted. Default false: the source reads with
	// isolation level read_committed, seeing only records of committed
	// transactions (and every record written outside one), which is what
	// a job reading the output of an exactly-once producer needs. Flink's
	// and Kafka's default is read_uncommitted; for topics written without
	// transactions the two read the same records.
	ReadUncommitted bool
	// Deserialize turns a record's key and value into a T: String, Bytes,
	// Int64, JSON[T]() or a function of your own. Exactly one of
	// Deserialize and DeserializeRecord is given.
	Deserialize func(key, value []byte) (T, error)
	// DeserializeRecord turns a whole record into a T, for a deserializer
	// that needs more than its key and value: its topic, partition,
	// offset, timestamp or headers. The record is valid only during the
	// call.
	DeserializeRecord func(*kgo.Record) (T, error)
	// OnDeserializeError is what becomes of a record the deserializer
	// rejects. Default: fail the job (see the package doc); Skip(),
	// DeadLetter(topic).
	OnDeserializeError DeserializeErrorPolicy
	// OnOffsetOutOfRange is what happens when a partition's offset is not
	// in its log. Default FailOutOfRange; ResetEarliest.
	OnOffsetOutOfRange OutOfRangePolicy
	// MaxPollRecords is the most records one poll emits. Default 500.
	MaxPollRecords int
	// IdleWait is how long a subtask waits when nothing is buffered, unless
	// the client's fetch wakes it first. Default 50ms.
	IdleWait time.Duration
	// OpenTimeout bounds the broker calls of one partition discovery on
	// the JobManager (listing topics, partitions and offsets) and those of
	// a subtask's open. A broker that does not answer within it fails the
	// discovery or the open with an error that can be retried: the job
	// restarts by its restart strategy. Default 30s.
	OpenTimeout time.Duration
	// ClientOpts are passed to kgo.NewClient unchanged, after the source's
	// own (SeedBrokers, ConsumePartitions, the wakeup hook, the isolation
	// level, KeepControlRecords, a reset offset of NoResetOffset): TLS,
	// SASL, fetch sizes, a logger. Do not override the source's own: set
	// ReadUncommitted and OnOffsetOutOfRange instead.
	ClientOpts []kgo.Opt
}

// ensureDefaults fills the zero values that have defaults.
func (c *Config[T]) ensureDefaults() {
	if c.Name == "" {
		c.Name = "kafka"
	}
	if c.Start == nil {
		c.Start = Earliest
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
	switch {
	case len(c.Topics) == 0 && c.TopicPattern == nil:
		errs = append(errs, errors.New("no topics (Topics or TopicPattern)"))
	case len(c.Topics) > 0 && c.TopicPattern != nil:
		errs = append(errs, errors.New("both Topics and TopicPattern: give one"))
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
	switch s := c.Start.(type) {
	case OffsetReset:
		if s != Earliest && s != Latest {
			errs = append(errs, fmt.Errorf("unknown start offset %v", s))
		}
	case committedStart:
		if s.reset != Earliest && s.reset != Latest {
			errs = append(errs, fmt.Errorf("unknown reset %v of the committed start offset", s.reset))
		}
		if c.Group == "" {
			errs = append(errs, errors.New("a committed start offset needs a Group"))
		}
	case timestampStart:
		if s.t.IsZero() {
			errs = append(errs, errors.New("StartAt the zero time"))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown start offset %v", c.Start))
	}
	if (c.Deserialize == nil) == (c.DeserializeRecord == nil) {
		errs = append(errs, errors.New("give exactly one of Deserialize and DeserializeRecord"))
	}
	if dl := c.OnDeserializeError.deadLetter; dl != "" && seen[dl] {
		errs = append(errs, fmt.Errorf("the dead-letter topic %q is also read", dl))
	}
	if c.OnOffsetOutOfRange != FailOutOfRange && c.OnOffsetOutOfRange != ResetEarliest {
		errs = append(errs, fmt.Errorf("unknown OnOffsetOutOfRange %v", c.OnOffsetOutOfRange))
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

// readCommitted says the source reads with isolation level read_committed.
func (c *Config[T]) readCommitted() bool { return !c.ReadUncommitted }
