package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tide-stream/tide/stream"
)

// This file lists what a source reads and where it starts and stops, with
// admin calls that need no consuming client: the JobManager's split
// enumerator (enumerator.go) calls them.

type topicPartition struct {
	topic     string
	partition int32
}

func (tp topicPartition) String() string { return fmt.Sprintf("%s-%d", tp.topic, tp.partition) }

// listPartitions returns the partitions cfg reads: the topics in the order
// given (or, for a pattern, the matching topics in name order), partitions
// in increasing number. A listed topic that does not exist is a permanent
// error; a pattern that matches nothing gives no partitions.
func listPartitions[T any](ctx context.Context, adm *kadm.Client, cfg *Config[T]) ([]topicPartition, error) {
	var topics []string
	details, err := adm.ListTopics(ctx, cfg.Topics...) // none: every topic but the internal ones
	if err != nil {
		return nil, openError(ctx, cfg, "listing topics", err)
	}
	if cfg.TopicPattern != nil {
		for t := range details {
			if cfg.TopicPattern.MatchString(t) && t != cfg.OnDeserializeError.deadLetter {
				topics = append(topics, t)
			}
		}
		slices.Sort(topics)
	} else {
		topics = cfg.Topics
	}
	var out []topicPartition
	for _, t := range topics {
		d, ok := details[t]
		switch {
		case !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition):
			return nil, stream.Permanent(fmt.Errorf("kafka: source %q: topic %q: not in the metadata (it does not exist)", cfg.Name, t))
		case d.Err != nil:
			// Leader not available, say, while the topic is being created:
			// a restart may find it ready.
			return nil, fmt.Errorf("kafka: source %q: topic %q: %w", cfg.Name, t, d.Err)
		}
		for _, n := range d.Partitions.Numbers() { // sorted
			out = append(out, topicPartition{t, n})
		}
	}
	return out, nil
}

// topicsOf returns the distinct topics of tps, sorted.
func topicsOf(tps []topicPartition) []string {
	ts := make([]string, len(tps))
	for i, tp := range tps {
		ts[i] = tp.topic
	}
	slices.Sort(ts)
	return slices.Compact(ts)
}

// listOffsets lists one offset of each partition of tps with list (one of
// kadm's List*Offsets) and returns them by partition.
func listOffsets[T any](ctx context.Context, cfg *Config[T], what string, tps []topicPartition,
	list func(context.Context, ...string) (kadm.ListedOffsets, error)) (map[topicPartition]int64, error) {
	listed, err := list(ctx, topicsOf(tps)...)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, openError(ctx, cfg, "listing "+what+" offsets", err)
	}
	out := make(map[topicPartition]int64, len(tps))
	for _, tp := range tps {
		o, ok := listed.Lookup(tp.topic, tp.partition)
		if !ok {
			return nil, fmt.Errorf("kafka: source %q: no %s offset listed for %s", cfg.Name, what, tp)
		}
		out[tp] = o.Offset
	}
	return out, nil
}

// listStarts lists the log start offsets of tps.
func listStarts[T any](ctx context.Context, adm *kadm.Client, cfg *Config[T], tps []topicPartition) (map[topicPartition]int64, error) {
	return listOffsets(ctx, cfg, "start", tps, adm.ListStartOffsets)
}

// listEnds lists the end offsets of tps that a consumer of cfg's isolation
// level can read up to: the last stable offsets (read_committed) or the
// high watermarks.
func listEnds[T any](ctx context.Context, adm *kadm.Client, cfg *Config[T], tps []topicPartition) (map[topicPartition]int64, error) {
	if cfg.readCommitted() {
		return listOffsets(ctx, cfg, "last stable", tps, adm.ListCommittedOffsets)
	}
	return listOffsets(ctx, cfg, "end", tps, adm.ListEndOffsets)
}

// resolveStarts returns the offset each partition of tps starts at on a
// fresh start, as cfg.Start says.
func resolveStarts[T any](ctx context.Context, adm *kadm.Client, cfg *Config[T], tps []topicPartition) (map[topicPartition]int64, error) {
	if len(tps) == 0 {
		return map[topicPartition]int64{}, nil
	}
	switch s := cfg.Start.(type) {
	case OffsetReset:
		if s == Latest {
			return listEnds(ctx, adm, cfg, tps)
		}
		return listStarts(ctx, adm, cfg, tps)
	case committedStart:
		return resolveCommitted(ctx, adm, cfg, tps, s.reset)
	case timestampStart:
		ms := s.t.UnixMilli()
		at, err := listOffsets(ctx, cfg, "timestamp", tps, func(ctx context.Context, topics ...string) (kadm.ListedOffsets, error) {
			return adm.ListOffsetsAfterMilli(ctx, ms, topics...)
		})
		if err != nil || !cfg.readCommitted() {
			return at, err
		}
		// The listing is read_uncommitted: an offset past the last stable
		// one may be in a transaction still open, which a read_committed
		// start must not jump over.
		ends, err := listEnds(ctx, adm, cfg, tps)
		if err != nil {
			return nil, err
		}
		for tp, o := range at {
			at[tp] = min(o, ends[tp])
		}
		return at, nil
	}
	return nil, stream.Permanent(fmt.Errorf("kafka: source %q: unknown start offset %v", cfg.Name, cfg.Start))
}

// resolveCommitted returns the group's committed offsets of tps, and for a
// partition with none, or with one outside its log, the offset reset says.
func resolveCommitted[T any](ctx context.Context, adm *kadm.Client, cfg *Config[T], tps []topicPartition, reset OffsetReset) (map[topicPartition]int64, error) {
	committed, err := adm.FetchOffsets(ctx, cfg.Group)
	if err == nil {
		err = committed.Error()
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		// A group that never committed: every partition starts at reset.
		committed, err = nil, nil
	}
	if err != nil {
		return nil, openError(ctx, cfg, fmt.Sprintf("fetching the committed offsets of group %q", cfg.Group), err)
	}
	starts, err := listStarts(ctx, adm, cfg, tps)
	if err != nil {
		return nil, err
	}
	ends, err := listEnds(ctx, adm, cfg, tps)
	if err != nil {
		return nil, err
	}
	out := make(map[topicPartition]int64, len(tps))
	for _, tp := range tps {
		c, ok := committed.Lookup(tp.topic, tp.partition)
		switch {
		case ok && c.At >= starts[tp] && c.At <= ends[tp]:
			out[tp] = c.At
		case reset == Latest:
			out[tp] = ends[tp]
		default:
			out[tp] = starts[tp]
		}
	}
	return out, nil
}

// openError wraps err, an admin call's failure while discovering or
// opening, saying what the call was doing and, when the deadline
// (OpenTimeout) passed, that no broker answered in time. It can be
// retried: the brokers may be back by then.
func openError[T any](ctx context.Context, cfg *Config[T], doing string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("kafka: source %q: %s: no answer from the brokers %v within %v (OpenTimeout): %w",
			cfg.Name, doing, cfg.Brokers, cfg.OpenTimeout, err)
	}
	return fmt.Errorf("kafka: source %q: %s (brokers %v): %w", cfg.Name, doing, cfg.Brokers, err)
}
