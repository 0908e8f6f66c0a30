package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/internal/metrichook"
	"github.com/tide-stream/tide/stream"
)

// Source returns a source that reads cfg.Topics or cfg.TopicPattern. An
// invalid cfg fails the job when its subtasks open, permanently (no restart
// mends it).
func Source[T any](cfg Config[T]) stream.Source[T] {
	cfg.ensureDefaults()
	cfg.Brokers = slices.Clone(cfg.Brokers)
	cfg.Topics = slices.Clone(cfg.Topics)
	cfg.ClientOpts = slices.Clone(cfg.ClientOpts)
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
// called by the subtask's goroutine; the kgo client fetches (and produces
// dead letters) in its own goroutines, owned by the client and stopped by
// Close.
//
// Why PollRecords without a context: Poll must not block (barriers are
// injected between polls), and kgo returns what is buffered at once when
// given no context. Rather than have a goroutine of its own block in
// PollRecords and hand records over, the reader lets kgo's fetch
// goroutines call SourceContext.Wakeup when a fetch arrives (a
// HookFetchBatchRead). The hook runs before kgo makes the fetch pollable,
// while it is still being decoded, so a poll right after a wakeup may find
// nothing, and no later wakeup comes for that fetch. So the hook also
// counts fetches: a poll that finds nothing after a fetch was counted
// asks to be polled again in a millisecond (bufferingWait), up to
// maxBufferingPolls times, rather than after IdleWait. (Waking on the hook
// alone left the reader idle for IdleWait after such fetches: at 0.44 of a
// bare franz-go loop in bench/kafkapeers at parallelism 1.)
//
// Why the client keeps control records (KeepControlRecords): a
// transaction's commit or abort marker takes an offset but is no record
// to emit, and kgo drops a fetch that holds nothing else. A bounded
// partition whose last offsets are markers would then never see an offset
// at or past stop-1 and never finish. Kept, a marker moves the split's
// next offset past it like a record, so bounded reads end and the lag
// reaches zero. Read_committed bounds stop at the last stable offset, below
// which every aborted record is followed by its abort marker: the offset
// stop-1 is always a record or a marker the reader sees.
type reader[T any] struct {
	cfg    *Config[T]
	sctx   stream.SourceContext
	log    *slog.Logger
	cl     *kgo.Client
	adm    *kadm.Client
	decode func(*kgo.Record) (T, error)
	splits []*split
	byTP   map[topicPartition]*partition
	// live counts the splits not finished; noMore says the JobManager's
	// enumerator will hand out no more (bounded).
	live   int
	noMore bool
	// pending maps a checkpoint to the offsets it recorded, until the
	// checkpoint or a later one completes.
	pending map[uint64]kadm.Offsets
	// lagMax is the largest lag of the partitions, lagSum their sum.
	lagMax stream.Gauge
	lagSum int64
	// fetched counts the fetches the client read (the hook's count);
	// seenFetched is its value at the last poll that found nothing, and
	// bufferingPolls the short polls left before waiting IdleWait.
	fetched        atomic.Int64
	seenFetched    int64
	bufferingPolls int
	// rejects is the log of records the deserializer rejected (badrecord.go).
	rejects rejectLog
	// dlq is the first dead letter that could not be produced, set by the
	// client's goroutines.
	dlq struct {
		sync.Mutex
		err error
	}
}

// partition is a split and what the reader knows of its partition.
type partition struct {
	*split
	// end is the end offset the latest fetch reported (the high watermark;
	// read_committed, the last stable offset), -1 before the first.
	end int64
	// lag is created with the first fetch: before, the lag is not known.
	lag                         stream.Gauge
	skipped, deadLettered, lost stream.Counter
}

// bufferingWait is the Idle wait of a poll that found nothing while the
// client was buffering a fetch.
const bufferingWait = time.Millisecond

// deadLetterTimeout bounds a dead letter's delivery: a dead-letter topic
// that cannot be written fails the subtask rather than stall it.
const deadLetterTimeout = 30 * time.Second

// noWait is the nil context that makes kgo's PollRecords return what is
// buffered without waiting.
var noWait context.Context

// wakeHook counts a fetch the client has read and wakes the subtask.
type wakeHook struct {
	wake    func()
	fetched *atomic.Int64
}

func (h wakeHook) OnFetchBatchRead(kgo.BrokerMetadata, string, int32, kgo.FetchBatchMetrics) {
	h.fetched.Add(1)
	h.wake()
}

// maxBufferingPolls bounds the short polls after a fetch was read: 20 ms
// for kgo to make it pollable.
const maxBufferingPolls = 20

func openReader[T any](cfg *Config[T], sctx stream.SourceContext, restored [][]byte) (_ *reader[T], err error) {
	r := &reader[T]{cfg: cfg, sctx: sctx, log: sctx.Logger().With("source", cfg.Name),
		byTP: map[topicPartition]*partition{}, pending: map[uint64]kadm.Offsets{}}
	r.decode = cfg.DeserializeRecord
	if r.decode == nil {
		r.decode = func(rec *kgo.Record) (T, error) { return cfg.Deserialize(rec.Key, rec.Value) }
	}
	r.lagMax = sctx.Metrics().Gauge(metrichook.KafkaConsumerLagMax)
	// The client consumes directly (no group), starting with no partition:
	// the restored ones and those the enumerator hands out are added.
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.WithHooks(wakeHook{wake: sctx.Wakeup, fetched: &r.fetched}),
		kgo.KeepControlRecords(),
		// An offset outside the log is an error the reader handles by
		// OnOffsetOutOfRange, never a silent reset (kgo's default resumes
		// at the log start, or a minute before the last record read).
		kgo.ConsumeResetOffset(kgo.NoResetOffset()),
	}
	if cfg.readCommitted() {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	if cfg.OnDeserializeError.deadLetter != "" {
		opts = append(opts, kgo.RecordDeliveryTimeout(deadLetterTimeout))
	}
	r.cl, err = kgo.NewClient(append(opts, cfg.ClientOpts...)...)
	if err != nil {
		return nil, stream.Permanent(fmt.Errorf("kafka: source %q: %w", cfg.Name, err))
	}
	r.adm = kadm.NewClient(r.cl)
	if cfg.OnDeserializeError.deadLetter != "" {
		ctx, cancel := context.WithTimeout(sctx.Context(), cfg.OpenTimeout)
		defer cancel()
		if err := r.checkDeadLetterTopic(ctx); err != nil {
			r.cl.Close()
			return nil, err
		}
	}
	if err := r.AddSplits(restored); err != nil {
		r.cl.Close()
		return nil, stream.Permanent(fmt.Errorf("kafka: source %q: restoring: %w", cfg.Name, err))
	}
	return r, nil
}

// AddSplits starts reading the partitions of entries from their offsets.
func (r *reader[T]) AddSplits(entries [][]byte) error {
	metrics := r.sctx.Metrics()
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
		labels := []stream.Label{{Name: metrichook.LabelTopic, Value: s.topic}, {Name: metrichook.LabelPartition, Value: strconv.Itoa(int(s.partition))}}
		r.byTP[tp] = &partition{split: s, end: -1,
			skipped:      metrics.Counter(metrichook.KafkaRecordsSkipped, labels...),
			deadLettered: metrics.Counter(metrichook.KafkaRecordsDeadLettered, labels...),
			lost:         metrics.Counter(metrichook.KafkaRecordsLost, labels...),
		}
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
func (r *reader[T]) Poll(ctx context.Context, out stream.SourceOutput[T]) (stream.PollStatus, time.Duration, error) {
	if err := r.deadLetterErr(); err != nil {
		return 0, 0, err
	}
	if r.live == 0 {
		if r.noMore {
			return stream.Done, 0, nil
		}
		return stream.Idle, r.cfg.IdleWait, nil
	}
	fs := r.cl.PollRecords(noWait, r.cfg.MaxPollRecords)
	var ferr error
	fs.EachError(func(t string, p int32, err error) {
		if ferr != nil {
			return
		}
		if errors.Is(err, kerr.OffsetOutOfRange) {
			ferr = r.outOfRange(ctx, out, topicPartition{t, p})
			return
		}
		ferr = fmt.Errorf("kafka: source %q: fetching %s-%d: %w", r.cfg.Name, t, p, err)
	})
	if ferr != nil {
		return 0, 0, ferr
	}
	n := 0
	var done map[string][]int32
	for _, ft := range fs {
		for _, t := range ft.Topics {
			for _, fp := range t.Partitions {
				p := r.byTP[topicPartition{t.Topic, fp.Partition}]
				if p == nil || p.finished() || fp.Err != nil {
					continue
				}
				if fp.HighWatermark >= 0 {
					p.end = fp.HighWatermark
					if r.cfg.readCommitted() {
						p.end = fp.LastStableOffset
					}
				}
				emitted, err := r.emit(ctx, p, fp.Records, out)
				n += emitted
				if err != nil {
					return 0, 0, err
				}
				r.updateLag(p)
				if p.finished() {
					out.SplitDone(p.id)
					r.live--
					if done == nil {
						done = map[string][]int32{}
					}
					done[p.topic] = append(done[p.topic], p.partition)
				}
			}
		}
	}
	if done != nil {
		r.cl.RemoveConsumePartitions(done)
	}
	r.updateLagMax()
	switch {
	case r.live == 0 && r.noMore:
		return stream.Done, 0, nil
	case r.live == 0:
		return stream.Idle, r.cfg.IdleWait, nil
	case n > 0:
		return stream.More, 0, nil
	}
	if f := r.fetched.Load(); f != r.seenFetched {
		// A fetch was read since the last empty poll: it may not be
		// pollable yet, and its wakeup was spent.
		r.seenFetched, r.bufferingPolls = f, maxBufferingPolls
	}
	if r.bufferingPolls > 0 || r.cl.BufferedFetchRecords() > 0 {
		r.bufferingPolls = max(r.bufferingPolls-1, 0)
		return stream.Idle, bufferingWait, nil
	}
	return stream.Idle, r.cfg.IdleWait, nil
}

// emit passes the records of one partition's fetch on, up to the split's
// stop, and returns how many it emitted. Control records (transaction
// markers) and records the deserializer rejects advance the split's next
// offset without an emit.
func (r *reader[T]) emit(ctx context.Context, p *partition, recs []*kgo.Record, out stream.SourceOutput[T]) (int, error) {
	var so stream.SourceOutput[T]
	n := 0
	for _, rec := range recs {
		if rec.Offset < p.next {
			continue
		}
		if p.stop != noStop && rec.Offset >= p.stop {
			// Offsets need not be dense (compaction, aborted records):
			// the first past the stop ends the split.
			p.next = p.stop
			break
		}
		if rec.Attrs.IsControl() {
			p.next = rec.Offset + 1
			continue
		}
		v, err := r.decode(rec)
		if err != nil {
			if err := r.rejected(ctx, p, rec, err); err != nil {
				return n, err
			}
			p.next = rec.Offset + 1
			continue
		}
		if so == nil {
			so = out.Split(p.id)
		}
		so.EmitAt(v, rec.Timestamp.UnixMilli())
		p.next, p.emitted = rec.Offset+1, p.emitted+1
		n++
	}
	return n, nil
}

// updateLag sets p's lag gauge: the end offset of its latest fetch (at
// most its stop) minus its next offset.
func (r *reader[T]) updateLag(p *partition) {
	if p.end < 0 {
		return
	}
	end := p.end
	if p.stop != noStop {
		end = min(end, p.stop)
	}
	if p.lag == nil {
		p.lag = r.sctx.Metrics().Gauge(metrichook.KafkaConsumerLag,
			stream.Label{Name: metrichook.LabelTopic, Value: p.topic},
			stream.Label{Name: metrichook.LabelPartition, Value: strconv.Itoa(int(p.partition))})
	}
	p.lag.Set(float64(max(0, end-p.next)))
}

// updateLagMax sets the lag-max gauge from the partitions whose lag is
// known.
func (r *reader[T]) updateLagMax() {
	var m, sum int64
	for _, p := range r.byTP {
		if p.end < 0 {
			continue
		}
		end := p.end
		if p.stop != noStop {
			end = min(end, p.stop)
		}
		lag := max(end-p.next, 0)
		m, sum = max(m, lag), sum+lag
	}
	r.lagMax.Set(float64(m))
	r.lagSum = sum
}

// PendingRecords is the subtask's lag summed over its partitions, as of
// the last poll (stream.PendingRecordsReader).
func (r *reader[T]) PendingRecords() int64 { return r.lagSum }

// Snapshot returns one entry per partition and keeps the offsets for
// CheckpointComplete. Dead letters produced so far are acknowledged before
// it returns: a checkpoint never covers a rejected record whose dead
// letter could still be lost.
func (r *reader[T]) Snapshot(checkpoint uint64) ([][]byte, error) {
	if err := r.flushDeadLetters(); err != nil {
		return nil, err
	}
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
