package kafka_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/metrichook"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/kafka"
	"github.com/tide-stream/tide/stream"
)

// fakeContext is a SourceContext outside a cluster; Wakeup posts on wake,
// the logger writes to log, the metrics are kept in metrics.
type fakeContext struct {
	subtask, parallelism int
	ctx                  context.Context
	wake                 chan struct{}
	metrics              *metrichook.Registry
	log                  *syncBuffer
	// now is the clock, the wall clock when zero.
	now time.Time
}

func newFakeContext(t *testing.T, subtask, parallelism int) *fakeContext {
	return &fakeContext{subtask: subtask, parallelism: parallelism, ctx: t.Context(), wake: make(chan struct{}, 1),
		metrics: metrichook.NewRegistry(), log: &syncBuffer{}}
}

// syncBuffer is a log's text, safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (c *fakeContext) Logger() *slog.Logger        { return slog.New(slog.NewTextHandler(c.log, nil)) }
func (c *fakeContext) Metrics() stream.MetricGroup { return c.metrics }

func (c *fakeContext) Subtask() int     { return c.subtask }
func (c *fakeContext) Parallelism() int { return c.parallelism }
func (c *fakeContext) Attempt() uint64  { return 0 }
func (c *fakeContext) Now() time.Time {
	if c.now.IsZero() {
		return time.Now()
	}
	return c.now
}
func (c *fakeContext) Context() context.Context { return c.ctx }
func (c *fakeContext) Wakeup() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// record is what a reader emitted: the value, its split and timestamp.
type record struct {
	v     int64
	split string
	ts    int64
}

// fakeOutput collects what a reader emits, by split.
type fakeOutput struct {
	split string
	recs  *[]record
	done  *[]string
}

func (o fakeOutput) Emit(v int64)                               { o.EmitAt(v, stream.NoTimestamp) }
func (o fakeOutput) EmitAt(v int64, ts int64)                   { *o.recs = append(*o.recs, record{v, o.split, ts}) }
func (o fakeOutput) Split(id string) stream.SourceOutput[int64] { o.split = id; return o }
func (o fakeOutput) SplitDone(id string)                        { *o.done = append(*o.done, id) }

// openReader opens subtask ctx.subtask of ctx.parallelism as a job does:
// the reader opens with its restored splits, and the JobManager's
// enumerator, asked as at an attempt's start, hands it partition i of the
// topic's when i mod parallelism is its index (the JobManager hands out
// each partition once, to the subtask with the fewest), and says whether
// more may come.
func openReader(t *testing.T, cfg kafka.Config[int64], ctx *fakeContext, restored [][]byte) stream.SourceReader[int64] {
	t.Helper()
	src := kafka.Source(cfg)
	r, err := src.Open(ctx, restored)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	splits, final, err := discover(t, src, restored == nil)
	if err != nil {
		t.Fatal(err)
	}
	var mine [][]byte
	if restored == nil {
		for i, sp := range splits {
			if i%ctx.parallelism == ctx.subtask {
				mine = append(mine, sp.Entry)
			}
		}
	}
	sr := r.(stream.SplitReader)
	if err := sr.AddSplits(mine); err != nil {
		t.Fatal(err)
	}
	if final {
		sr.NoMoreSplits()
	}
	return r
}

// discover asks the source's enumerator for its splits once.
func discover(t *testing.T, src stream.Source[int64], first bool) ([]stream.Split, bool, error) {
	t.Helper()
	enum, err := src.Enumerator(nil)
	if err != nil {
		return nil, false, err
	}
	defer func() { _ = enum.Close() }()
	return enum.Discover(t.Context(), first)
}

// pollUntil polls r, waiting on Idle as a subtask does (until the wait
// passes or the reader wakes it), until cond holds or r is Done.
func pollUntil(t *testing.T, r stream.SourceReader[int64], ctx *fakeContext, out fakeOutput, cond func() bool) stream.PollStatus {
	t.Helper()
	st, err := pollErr(t, r, ctx, out, cond)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// pollErr is pollUntil that returns a poll's error rather than fail.
func pollErr(t *testing.T, r stream.SourceReader[int64], ctx *fakeContext, out fakeOutput, cond func() bool) (stream.PollStatus, error) {
	t.Helper()
	deadline := time.After(timeout)
	for !cond() {
		st, wait, err := r.Poll(ctx.ctx, out)
		if err != nil {
			return st, err
		}
		switch st {
		case stream.Done:
			return st, nil
		case stream.Idle:
			timer := time.NewTimer(wait)
			select {
			case <-ctx.wake:
			case <-timer.C:
			case <-deadline:
				t.Fatal("timed out polling")
			}
			timer.Stop()
		}
	}
	return stream.More, nil
}

func values(rs []record) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.v
	}
	slices.Sort(out)
	return out
}

// TestReaderAssignsSnapshotsAndResumes opens subtask 0 of 3 on a fresh
// start: it reads partitions 0 and 3. A snapshot taken part way, restored
// into a new reader, resumes exactly where it was: the two readers' records
// after and before the snapshot add up to the partitions' records, each
// once. Completing the checkpoint commits the snapshot's offsets.
func TestReaderAssignsSnapshotsAndResumes(t *testing.T) {
	brokers := startKafka(t)
	produce(t, brokers, 1200)
	cfg := kafka.Config[int64]{Brokers: brokers, Topics: []string{topic}, Group: group, Bounded: true,
		Deserialize: parseInt, MaxPollRecords: 10}

	ctx := newFakeContext(t, 0, 3)
	var all, before []record
	var done []string
	out := fakeOutput{recs: &all, done: &done}
	r := openReader(t, cfg, ctx, nil)
	if st := pollUntil(t, r, ctx, out, func() bool { return len(all) >= 30 }); st == stream.Done {
		t.Fatal("the reader finished within 30 records")
	}
	before = slices.Clone(all)
	state, err := r.Snapshot(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(state) != 2 {
		t.Fatalf("snapshot of %d entries, want 2 (partitions 0 and 3)", len(state))
	}
	if st := pollUntil(t, r, ctx, out, func() bool { return false }); st != stream.Done {
		t.Fatalf("poll status %v, want Done", st)
	}
	slices.Sort(done)
	if want := []string{topic + "-0", topic + "-3"}; !slices.Equal(done, want) {
		t.Errorf("splits done %v, want %v", done, want)
	}
	for _, rec := range all {
		if rec.split != topic+"-0" && rec.split != topic+"-3" {
			t.Fatalf("a record of split %s, not of subtask 0's partitions", rec.split)
		}
		if rec.ts <= 0 {
			t.Fatalf("a record without the record's timestamp: %+v", rec)
		}
	}
	if got := r.Position(); got != int64(len(all)) {
		t.Errorf("Position %d, want %d", got, len(all))
	}

	// Committing checkpoint 1 publishes the offsets of the snapshot.
	if err := r.(stream.CheckpointListener).CheckpointComplete(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	adm := admin(t, brokers)
	committed, err := adm.FetchOffsets(t.Context(), group)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	committed.Each(func(o kadm.OffsetResponse) { sum += o.At })
	if sum != int64(len(before)) {
		t.Errorf("committed offsets add up to %d, want the %d records emitted before the snapshot", sum, len(before))
	}

	// A reader restored from the snapshot reads the rest, each record once.
	var after []record
	ctx2 := newFakeContext(t, 1, 2) // the subtask index does not matter on restore
	r2 := openReader(t, cfg, ctx2, state)
	if st := pollUntil(t, r2, ctx2, fakeOutput{recs: &after, done: new([]string)}, func() bool { return false }); st != stream.Done {
		t.Fatalf("restored poll status %v, want Done", st)
	}
	if got, want := values(append(before, after...)), values(all); !slices.Equal(got, want) {
		t.Errorf("before the snapshot and after the restore: %d records, want the %d of partitions 0 and 3 once each", len(got), len(want))
	}
	if got := r2.Position(); got != int64(len(all)) {
		t.Errorf("restored Position %d, want %d", got, len(all))
	}
}

// TestReaderLatestReadsOnlyNewRecords opens an unbounded reader at the
// latest offsets and produces more: it reads just those, woken by the
// client's fetch.
func TestReaderLatestReadsOnlyNewRecords(t *testing.T) {
	brokers := startKafka(t)
	produce(t, brokers, 100)
	cfg := kafka.Config[int64]{Brokers: brokers, Topics: []string{topic}, Start: kafka.Latest,
		Deserialize: parseInt, IdleWait: time.Minute}
	ctx := newFakeContext(t, 0, 1)
	var got []record
	r := openReader(t, cfg, ctx, nil)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var want []int64
	for i := 1000; i < 1050; i++ {
		want = append(want, int64(i))
		if err := cl.ProduceSync(t.Context(), &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte(strconv.Itoa(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// IdleWait is a minute: only the fetch hook's wakeups get this done in time.
	pollUntil(t, r, ctx, fakeOutput{recs: &got, done: new([]string)}, func() bool { return len(got) >= len(want) })
	if !slices.Equal(values(got), want) {
		t.Errorf("read %v, want %v", values(got), want)
	}
}

func admin(t *testing.T, brokers []string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// TestMissingTopicFailsPermanently discovers the partitions of a topic
// that does not exist: a permanent error that names it, no restart loop.
func TestMissingTopicFailsPermanently(t *testing.T) {
	brokers := startKafka(t)
	cfg := kafka.Config[int64]{Brokers: brokers, Topics: []string{topic, "missing"}, Deserialize: parseInt}
	_, _, err := discover(t, kafka.Source(cfg), true)
	if err == nil || !strings.Contains(err.Error(), `topic "missing"`) || !operator.IsPermanent(err) {
		t.Fatalf("Discover = %v, want a permanent error naming topic \"missing\"", err)
	}
}
