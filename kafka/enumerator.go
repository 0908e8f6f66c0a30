package kafka

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/stream"
)

// enumerator finds the source's partitions on the JobManager: all of them
// when an attempt starts, and those added since every PartitionDiscovery.
// The JobManager hands each partition it has not handed out before to a
// subtask.
//
// A partition's start offset is resolved here, to a number, so that a
// checkpoint taken before its reader fetched anything still names where it
// starts: on the first discovery of a fresh start, where Config.Start says;
// a partition found later starts at its log start offset (its records were
// all produced after the job started reading the topic), as in Flink.
// Bounded, the first discovery also fixes each partition's stop offset,
// and says it is final: a bounded source reads the partitions it found
// first, and no more.
type enumerator[T any] struct {
	cfg *Config[T]

	// mu guards cl: Discover makes it, Close closes it.
	mu sync.Mutex
	cl *kgo.Client
}

func newEnumerator[T any](cfg *Config[T]) (*enumerator[T], error) {
	if err := cfg.validate(); err != nil {
		return nil, stream.Permanent(err)
	}
	return &enumerator[T]{cfg: cfg}, nil
}

func (e *enumerator[T]) admin() (*kadm.Client, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cl == nil {
		// kadm answers from the client's cached metadata when it is younger
		// than MetadataMinAge (default 5s): a discovery must see partitions
		// added since the last one.
		minAge := min(5*time.Second, max(e.cfg.PartitionDiscovery/2, 10*time.Millisecond))
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.cfg.Brokers...), kgo.MetadataMinAge(minAge)}, e.cfg.ClientOpts...)...)
		if err != nil {
			return nil, stream.Permanent(fmt.Errorf("kafka: source %q: %w", e.cfg.Name, err))
		}
		e.cl = cl
	}
	return kadm.NewClient(e.cl), nil
}

// Discover lists the partitions of the source's topics, each as a split
// with its start (and, bounded, stop) offset.
func (e *enumerator[T]) Discover(ctx context.Context, first bool) ([]stream.Split, bool, error) {
	if e.cfg.Bounded && !first {
		return nil, true, nil
	}
	adm, err := e.admin()
	if err != nil {
		return nil, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.OpenTimeout)
	defer cancel()
	splits, err := discover(ctx, e.cfg, adm, first)
	if err != nil {
		return nil, false, err
	}
	out := make([]stream.Split, len(splits))
	for i, s := range splits {
		out[i] = stream.Split{ID: s.id, Entry: s.encode()}
	}
	return out, e.cfg.Bounded, nil
}

// SplitID names the partition of a reader's entry.
func (e *enumerator[T]) SplitID(entry []byte) (string, error) {
	s, err := decodeSplit(entry)
	if err != nil {
		return "", err
	}
	return s.id, nil
}

func (e *enumerator[T]) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cl != nil {
		e.cl.Close()
		e.cl = nil
	}
	return nil
}

// discover lists the partitions cfg reads (listPartitions' order), as
// splits starting where cfg.Start says (first) or at the log start, and,
// bounded, stopping at the end offsets listed now.
func discover[T any](ctx context.Context, cfg *Config[T], adm *kadm.Client, first bool) ([]*split, error) {
	tps, err := listPartitions(ctx, adm, cfg)
	if err != nil || len(tps) == 0 {
		return nil, err
	}
	var starts map[topicPartition]int64
	if first {
		starts, err = resolveStarts(ctx, adm, cfg, tps)
	} else {
		starts, err = listStarts(ctx, adm, cfg, tps)
	}
	if err != nil {
		return nil, err
	}
	var stops map[topicPartition]int64
	if cfg.Bounded {
		if stops, err = listEnds(ctx, adm, cfg, tps); err != nil {
			return nil, err
		}
	}
	out := make([]*split, 0, len(tps))
	for _, tp := range tps {
		stop := int64(noStop)
		if cfg.Bounded {
			stop = stops[tp]
		}
		out = append(out, newSplit(tp.topic, tp.partition, starts[tp], stop, 0))
	}
	return out, nil
}
