package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/stream"
)

// The headers a dead letter carries besides the record's own.
const (
	HeaderSourceTopic     = "tide.source.topic"
	HeaderSourcePartition = "tide.source.partition"
	HeaderSourceOffset    = "tide.source.offset"
	// HeaderSourceTimestamp is the record's timestamp, in milliseconds
	// since the Unix epoch (the dead letter's own is when it was produced).
	HeaderSourceTimestamp = "tide.source.timestamp"
	HeaderError           = "tide.error"
)

// rejectLogEvery is the shortest time between two log lines about
// rejected records.
const rejectLogEvery = time.Second

// rejectLog rate-limits the log of rejected records. The subtask's
// goroutine owns it.
type rejectLog struct {
	// last is when the last line was logged.
	last time.Time
	// unlogged counts the records rejected since then, total all of them.
	unlogged, total int64
}

// rejected applies OnDeserializeError to rec, which the deserializer
// rejected with cause: an error for Fail, nil once it is skipped or handed
// to the client as a dead letter.
func (r *reader[T]) rejected(ctx context.Context, p *partition, rec *kgo.Record, cause error) error {
	policy := r.cfg.OnDeserializeError
	switch {
	case policy.skip:
		p.skipped.Add(1)
	case policy.deadLetter != "":
		if err := r.deadLetter(ctx, p, rec, cause); err != nil {
			return err
		}
	default:
		return stream.Permanent(fmt.Errorf("kafka: source %q: deserializing the record at topic %s partition %d offset %d: %w",
			r.cfg.Name, rec.Topic, rec.Partition, rec.Offset, cause))
	}
	l := &r.rejects
	l.unlogged++
	l.total++
	if now := r.sctx.Now(); l.last.IsZero() || now.Sub(l.last) >= rejectLogEvery {
		r.log.Warn("kafka: the deserializer rejected a record", "policy", policy.String(),
			"topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset, "error", cause,
			"rejected_since_last_log", l.unlogged, "rejected_total", l.total)
		l.last, l.unlogged = now, 0
	}
	return nil
}

// deadLetter hands rec to the client for the dead-letter topic: its key,
// value and headers, and headers naming where it came from and why it was
// rejected. Delivery is asynchronous; a failure is kept for the next Poll
// or Snapshot (deadLetterErr).
func (r *reader[T]) deadLetter(ctx context.Context, p *partition, rec *kgo.Record, cause error) error {
	headers := append(slices.Clip(rec.Headers),
		kgo.RecordHeader{Key: HeaderSourceTopic, Value: []byte(rec.Topic)},
		kgo.RecordHeader{Key: HeaderSourcePartition, Value: strconv.AppendInt(nil, int64(rec.Partition), 10)},
		kgo.RecordHeader{Key: HeaderSourceOffset, Value: strconv.AppendInt(nil, rec.Offset, 10)},
		kgo.RecordHeader{Key: HeaderSourceTimestamp, Value: strconv.AppendInt(nil, rec.Timestamp.UnixMilli(), 10)},
		kgo.RecordHeader{Key: HeaderError, Value: []byte(cause.Error())},
	)
	dl := &kgo.Record{Topic: r.cfg.OnDeserializeError.deadLetter, Key: rec.Key, Value: rec.Value, Headers: headers}
	where := fmt.Sprintf("topic %s partition %d offset %d", rec.Topic, rec.Partition, rec.Offset)
	// Produce blocks while the client's produce buffer is full: a slow
	// dead-letter topic slows the source instead of growing a queue.
	r.cl.Produce(ctx, dl, func(_ *kgo.Record, err error) {
		if err == nil {
			p.deadLettered.Add(1)
			return
		}
		r.dlq.Lock()
		defer r.dlq.Unlock()
		if r.dlq.err == nil {
			r.dlq.err = fmt.Errorf("kafka: source %q: producing the dead letter of the record at %s to topic %q: %w",
				r.cfg.Name, where, r.cfg.OnDeserializeError.deadLetter, err)
		}
	})
	return r.deadLetterErr()
}

// deadLetterErr returns the first dead letter's failure, if any. It can
// be retried: the restarted job reads the record again from the last
// checkpoint, which does not cover it.
func (r *reader[T]) deadLetterErr() error {
	r.dlq.Lock()
	defer r.dlq.Unlock()
	return r.dlq.err
}

// flushDeadLetters waits until the client has delivered every dead letter
// handed to it, or failed to.
func (r *reader[T]) flushDeadLetters() error {
	if r.cfg.OnDeserializeError.deadLetter == "" {
		return nil
	}
	// The client's RecordDeliveryTimeout fails a dead letter it keeps
	// retrying, but not one it keeps re-sending to a broker that answers
	// wrongly: the checkpoint does not wait for ever either.
	ctx, cancel := context.WithTimeout(r.sctx.Context(), deadLetterTimeout)
	defer cancel()
	if err := r.cl.Flush(ctx); err != nil {
		return fmt.Errorf("kafka: source %q: dead letters to topic %q not acknowledged within %v: %w",
			r.cfg.Name, r.cfg.OnDeserializeError.deadLetter, deadLetterTimeout, err)
	}
	return r.deadLetterErr()
}

// checkDeadLetterTopic fails, permanently, when the dead-letter topic does
// not exist: the first rejected record would otherwise fail the job
// later, and every restart after it.
func (r *reader[T]) checkDeadLetterTopic(ctx context.Context) error {
	dl := r.cfg.OnDeserializeError.deadLetter
	details, err := r.adm.ListTopics(ctx, dl)
	if err != nil {
		return openError(ctx, r.cfg, fmt.Sprintf("looking up the dead-letter topic %q", dl), err)
	}
	d, ok := details[dl]
	switch {
	case !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition):
		return stream.Permanent(fmt.Errorf("kafka: source %q: the dead-letter topic %q does not exist", r.cfg.Name, dl))
	case d.Err != nil:
		return fmt.Errorf("kafka: source %q: the dead-letter topic %q: %w", r.cfg.Name, dl, d.Err)
	}
	return nil
}
