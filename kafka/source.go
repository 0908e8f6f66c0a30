package kafka

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/stream"
)

// Source returns a source that reads cfg.Topics. An invalid cfg fails the
// job when its subtasks open, permanently (no restart mends it).
func Source[T any](cfg Config[T]) stream.Source[T] {
	cfg.ensureDefaults()
	cfg.Brokers = slices.Clone(cfg.Brokers)
	cfg.Topics = slices.Clone(cfg.Topics)
	return stream.Source[T]{
		Name: cfg.Name,
		Open: func(ctx stream.SourceContext, restored [][]byte) (stream.SourceReader[T], error) {
			if err := cfg.validate(); err != nil {
				return nil, stream.Permanent(err)
			}
			return openReader(&cfg, ctx, restored)
		},
		Enumerator: func(stream.EnumeratorContext) (stream.SplitEnumerator, error) {
			return newEnumerator(&cfg)
		},
		DiscoveryInterval: max(cfg.PartitionDiscovery, 0),
	}
}

// maxPending bounds the checkpoints whose offsets a reader keeps while
// waiting for their completion: a checkpoint that failed is dropped when a
// later one completes, or when more than this many are newer.
const maxPending = 16

// reader reads the partitions of one source subtask. Its methods are
// called by the subtask's goroutine; the kgo client fetches in its own
// goroutines, owned by the client and stopped by Close.
//
// Why PollRecords without a context: Poll must not block (barriers are
// injected between polls), and kgo returns what is buffered at once when
// given no context. Rather than have a goroutine of its own block in
// PollRecords and hand records over, the reader lets kgo's fetch
// goroutines call SourceContext.Wakeup when a fetch arrives (a
// HookFetchBatchRead). The hook runs just before kgo makes the fetch
// pollable, so a poll right after a wakeup may still find nothing: such a
// poll sees the client's buffered-record count above zero and asks to be
// polled again in a millisecond (bufferingWait) rather than after IdleWait.
type reader[T any] struct {
	cfg    *Config[T]
	cl     *kgo.Client
	adm    *kadm.Client
	splits []*split
	byTP   map[topicPartition]*split
	// live counts the splits not finished; noMore says the JobManager's
	// enumerator will hand out no more (bounded).
	live   int
	noMore bool
	// pending maps a checkpoint to the offsets it recorded, until the
	// checkpoint or a later one completes.
	pending map[uint64]kadm.Offsets
}

type topicPartition struct {
	topic     string
	partition int32
}

// bufferingWait is the Idle wait of a poll that found nothing while the
// client was buffering a fetch.
const bufferingWait = time.Millisecond

// noWait is the nil context that makes kgo's PollRecords return what is
// buffered without waiting.
var noWait context.Context

// wakeHook wakes the subtask when the client has read a fetch.
type wakeHook struct{ wake func() }

func (h wakeHook) OnFetchBatchRead(kgo.BrokerMetadata, string, int32, kgo.FetchBatchMetrics) {
	h.wake()
}

func openReader[T any](cfg *Config[T], sctx stream.SourceContext, restored [][]byte) (_ *reader[T], err error) {
	r := &reader[T]{cfg: cfg, byTP: map[topicPartition]*split{}, pending: map[uint64]kadm.Offsets{}}
	// The client consumes directly (no group), starting with no partition:
	// the restored ones and those the enumerator hands out are added.
	r.cl, err = kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.WithHooks(wakeHook{wake: sctx.Wakeup}),
	}, cfg.ClientOpts...)...)
	if err != nil {
		return nil, stream.Permanent(fmt.Errorf("kafka: source %q: %w", cfg.Name, err))
	}
	r.adm = kadm.NewClient(r.cl)
	if err := r.AddSplits(restored); err != nil {
		r.cl.Close()
		return nil, stream.Permanent(fmt.Errorf("kafka: source %q: restoring: %w", cfg.Name, err))
	}
	return r, nil
}

// AddSplits starts reading the partitions of entries from their offsets.
func (r *reader[T]) AddSplits(entries [][]byte) error {
	consume := map[string]map[int32]kgo.Offset{}
	for _, e := range entries {
		s, err := decodeSplit(e)
		if err != nil {
			return err
		}
		tp := topicPartition{s.topic, s.partition}
		if r.byTP[tp] != nil {
			return fmt.Errorf("partition %s handed to this subtask twice", s.id)
		}
		r.byTP[tp] = s
		r.splits = append(r.splits, s)
		if s.finished() {
			continue
		}
		r.live++
		if consume[s.topic] == nil {
			consume[s.topic] = map[int32]kgo.Offset{}
		}
		consume[s.topic][s.partition] = kgo.NewOffset().At(s.next)
	}
	if len(consume) > 0 {
		r.cl.AddConsumePartitions(consume)
	}
	return nil
}

// NoMoreSplits says the enumerator hands out no more partitions: the reader
// is done once its own are.
func (r *reader[T]) NoMoreSplits() { r.noMore = true }

// Poll emits what the client has buffered, up to MaxPollRecords records.
func (r *reader[T]) Poll(_ context.Context, out stream.SourceOutput[T]) (stream.PollStatus, time.Duration, error) {
	if r.live == 0 {
		if r.noMore {
			return stream.Done, 0, nil
		}
		return stream.Idle, r.cfg.IdleWait, nil
	}
	fs := r.cl.PollRecords(noWait, r.cfg.MaxPollRecords)
	var ferr error
	fs.EachError(func(t string, p int32, err error) {
		if ferr == nil {
			ferr = fmt.Errorf("kafka: source %q: fetching %s-%d: %w", r.cfg.Name, t, p, err)
		}
	})
	if ferr != nil {
		return 0, 0, ferr
	}
	n := 0
	var done map[string][]int32
	for _, ft := range fs {
		for _, t := range ft.Topics {
			for _, fp := range t.Partitions {
				s := r.byTP[topicPartition{t.Topic, fp.Partition}]
				if s == nil || s.finished() || len(fp.Records) == 0 {
					continue
				}
				so := out.Split(s.id)
				for _, rec := range fp.Records {
					if rec.Offset < s.next {
						continue
					}
					if s.stop != noStop && rec.Offset >= s.stop {
						break
					}
					v, err := r.cfg.Deserialize(rec.Key, rec.Value)
					if err != nil {
						return 0, 0, stream.Permanent(fmt.Errorf("kafka: source %q: deserializing the record at topic %s partition %d offset %d: %w",
							r.cfg.Name, rec.Topic, rec.Partition, rec.Offset, err))
					}
					so.EmitAt(v, rec.Timestamp.UnixMilli())
					s.next, s.emitted = rec.Offset+1, s.emitted+1
					n++
				}
				if s.finished() {
					out.SplitDone(s.id)
					r.live--
					if done == nil {
						done = map[string][]int32{}
					}
					done[s.topic] = append(done[s.topic], s.partition)
				}
			}
		}
	}
	if done != nil {
		r.cl.RemoveConsumePartitions(done)
	}
	switch {
	case r.live == 0 && r.noMore:
		return stream.Done, 0, nil
	case r.live == 0:
		return stream.Idle, r.cfg.IdleWait, nil
	case n > 0:
		return stream.More, 0, nil
	case r.cl.BufferedFetchRecords() > 0:
		// A fetch is being buffered (its hook has run, it is not pollable
		// yet): its wakeup may have been spent on this poll.
		return stream.Idle, bufferingWait, nil
	}
	return stream.Idle, r.cfg.IdleWait, nil
}

// Snapshot returns one entry per partition and keeps the offsets for
// CheckpointComplete.
func (r *reader[T]) Snapshot(checkpoint uint64) ([][]byte, error) {
	out := make([][]byte, len(r.splits))
	var offs kadm.Offsets
	for i, s := range r.splits {
		out[i] = s.encode()
		offs.AddOffset(s.topic, s.partition, s.next, -1)
	}
	if r.cfg.Group != "" && len(r.splits) > 0 {
		r.pending[checkpoint] = offs
		if len(r.pending) > maxPending {
			delete(r.pending, slices.Min(mapKeys(r.pending)))
		}
	}
	return out, nil
}

func mapKeys[K comparable, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// CheckpointComplete commits the offsets of the newest checkpoint up to
// checkpoint that this reader snapshotted to the consumer group, and
// forgets that checkpoint and older ones.
func (r *reader[T]) CheckpointComplete(ctx context.Context, checkpoint uint64) error {
	var newest uint64
	for cp := range r.pending {
		if cp <= checkpoint && cp > newest {
			newest = cp
		}
	}
	if newest == 0 {
		return nil
	}
	offs := r.pending[newest]
	for cp := range r.pending {
		if cp <= newest {
			delete(r.pending, cp)
		}
	}
	resp, err := r.adm.CommitOffsets(ctx, r.cfg.Group, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("kafka: source %q: committing checkpoint %d's offsets to group %q: %w", r.cfg.Name, newest, r.cfg.Group, err)
	}
	return nil
}

// Position is the number of records emitted since the job's first start.
func (r *reader[T]) Position() int64 {
	var n int64
	for _, s := range r.splits {
		n += s.emitted
	}
	return n
}

// Close stops the client and waits for its goroutines.
func (r *reader[T]) Close() error {
	r.cl.Close()
	return nil
}
