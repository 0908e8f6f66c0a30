package kafka_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/kafka"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

const (
	timeout    = 60 * time.Second
	topic      = "numbers"
	partitions = 6
	group      = "tide-test"
)

// startKafka starts a three-broker kfake cluster on free ports with the
// topic, stopped at the test's end.
func startKafka(t *testing.T) []string { return kafkaWith(t, topic, partitions) }

// kafkaWith starts a three-broker kfake cluster on free ports with one
// topic, stopped at the test's end.
func kafkaWith(t *testing.T, topic string, partitions int32) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(partitions, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// produce writes the values 0..n-1 as decimal strings, keyed by value mod
// 16 (so they spread over the partitions), and returns the end offsets.
func produce(t *testing.T, brokers []string, n int, extra ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rs := make([]*kgo.Record, 0, n+len(extra))
	for i := range n {
		rs = append(rs, &kgo.Record{Key: []byte(strconv.Itoa(i % 16)), Value: []byte(strconv.Itoa(i))})
	}
	if err := cl.ProduceSync(ctx, append(rs, extra...)...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func parseInt(_, v []byte) (int64, error) { return strconv.ParseInt(string(v), 10, 64) }

// job reads the topic, bounded, into sink. Until release is set, each
// record takes a millisecond, so that a test can disturb the job while it
// runs; then the rest goes at full speed.
func job(brokers []string, sink *tidetest.Sink[int64], release *atomic.Bool) stream.JobFunc {
	return jobOf(kafka.Config[int64]{
		Brokers: brokers, Topics: []string{topic}, Group: group,
		Start: kafka.Earliest, Bounded: true, Deserialize: parseInt,
	}, sink, release)
}

// jobOf is job with the source's config given.
func jobOf(cfg kafka.Config[int64], sink *tidetest.Sink[int64], release *atomic.Bool) stream.JobFunc {
	return func(env *stream.Env, _ []string) error {
		src := stream.FromSource(env, kafka.Source(cfg))
		sink.To(stream.Map(src, "pace", func(v int64) int64 {
			if !release.Load() {
				time.Sleep(time.Millisecond)
			}
			return v
		}), "collect")
		return nil
	}
}

// requireExactlyOnce fails unless sink holds 0..n-1, each once.
func requireExactlyOnce(t *testing.T, sink *tidetest.Sink[int64], n int) {
	t.Helper()
	got := sink.Values()
	slices.Sort(got)
	if len(got) != n {
		t.Fatalf("the sink holds %d records, want %d", len(got), n)
	}
	for i, v := range got {
		if v != int64(i) {
			t.Fatalf("the sink's sorted records differ at %d: %d (a duplicate or a loss)", i, v)
		}
	}
}

// requireCommittedAtEnd fails unless the group's committed offsets equal
// the topic's end offsets, for every partition.
func requireCommittedAtEnd(t *testing.T, brokers []string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if err := committed.Error(); err != nil {
		t.Fatal(err)
	}
	n := 0
	ends.Each(func(e kadm.ListedOffset) {
		n++
		c, ok := committed.Lookup(e.Topic, e.Partition)
		if !ok || c.At != e.Offset {
			t.Errorf("partition %d: committed %v (found %v), end offset %d", e.Partition, c.At, ok, e.Offset)
		}
	})
	if n != partitions {
		t.Errorf("%d partitions listed, want %d", n, partitions)
	}
}

func findRescale(rs []rest.Rescale, trigger rest.RescaleTrigger, from, to int) (rest.Rescale, bool) {
	for _, r := range rs {
		if r.Trigger == trigger && r.From == from && r.To == to && r.End >= 0 {
			return r, true
		}
	}
	return rest.Rescale{}, false
}

// TestSourceReadsEveryRecordOnce reads a six-partition topic three ways:
// straight through at parallelism 2, with a TaskManager killed mid-run
// (restore 2 -> 1 from the latest checkpoint), with one leaving gracefully
// (as on SIGTERM: 2 -> 1 from a checkpoint taken for it) and with one added mid-run
// (rescale 2 -> 3, partitions moved with their offsets). Each time the sink
// holds every record exactly once and the group's committed offsets are
// the end offsets.
func TestSourceReadsEveryRecordOnce(t *testing.T) {
	const n = 6000
	for _, tc := range []struct {
		name    string
		disturb func(t *testing.T, c *tidetest.Cluster)
	}{
		{"straight", func(*testing.T, *tidetest.Cluster) {}},
		{"kill-2-to-1", func(t *testing.T, c *tidetest.Cluster) {
			c.TaskManagers()[1].Kill()
			rs := c.WaitRescales(1, timeout)
			if r, ok := findRescale(rs, rest.TriggerTaskManagerLost, 2, 1); !ok || r.Checkpoint < 1 {
				t.Fatalf("no restore 2 -> 1 from a checkpoint on taskmanager-lost: %+v", rs)
			}
		}},
		{"leave-2-to-1", func(t *testing.T, c *tidetest.Cluster) {
			c.TaskManagers()[1].Leave()
			rs := c.WaitRescales(1, timeout)
			if r, ok := findRescale(rs, rest.TriggerTaskManagerLeaving, 2, 1); !ok || r.Checkpoint < 1 {
				t.Fatalf("no rescale 2 -> 1 from a checkpoint on taskmanager-leaving: %+v", rs)
			}
		}},
		{"rescale-2-to-3", func(t *testing.T, c *tidetest.Cluster) {
			c.AddTaskManager()
			rs := c.WaitRescales(1, timeout)
			if r, ok := findRescale(rs, rest.TriggerTaskManagerJoined, 2, 3); !ok || r.Checkpoint < 1 {
				t.Fatalf("no rescale 2 -> 3 from a checkpoint on taskmanager-joined: %+v", rs)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			brokers := startKafka(t)
			produce(t, brokers, n)
			sink := tidetest.NewSink[int64]()
			var release atomic.Bool
			c := tidetest.Start(t, tidetest.Config{Job: job(brokers, sink, &release),
				TaskManagers: 2, CheckpointInterval: 100 * time.Millisecond})
			c.WaitParallelism(2, timeout)
			c.WaitCheckpoints(2, timeout)
			if s := c.State(); s != tidetest.Running {
				t.Fatalf("the job is %s before the disturbance, want RUNNING", s)
			}
			tc.disturb(t, c)
			release.Store(true)
			c.WaitState(tidetest.Finished, timeout)
			requireExactlyOnce(t, sink, n)
			requireCommittedAtEnd(t, brokers)
		})
	}
}

// TestMalformedRecordFailsTheJob produces a record that does not parse: the
// job fails, permanently, with an error naming its topic, partition and
// offset.
func TestMalformedRecordFailsTheJob(t *testing.T) {
	t.Parallel()
	brokers := startKafka(t)
	produce(t, brokers, 100, &kgo.Record{Key: []byte("bad"), Value: []byte("not a number")})
	sink := tidetest.NewSink[int64]()
	var release atomic.Bool
	release.Store(true)
	c := tidetest.Start(t, tidetest.Config{Job: job(brokers, sink, &release), TaskManagers: 1})
	c.WaitState(tidetest.Failed, timeout)
	ex, err := c.Backend().Exceptions(c.JobID())
	if err != nil {
		t.Fatal(err)
	}
	if ex.RootException == nil {
		t.Fatal("the failed job has no root exception")
	}
	want := fmt.Sprintf("topic %s partition ", topic)
	if !strings.Contains(*ex.RootException, want) || !strings.Contains(*ex.RootException, "offset ") ||
		!strings.Contains(*ex.RootException, "invalid syntax") {
		t.Errorf("root exception %q does not name the record's topic, partition and offset and the cause", *ex.RootException)
	}
}

// TestSourceDeadLettersAcrossRestore reads, with a dead-letter topic, a
// topic in which every hundredth record does not parse, and kills a
// TaskManager mid-run: the sink holds every good record exactly once, and
// the dead-letter topic every bad one at least once (checkpoints wait for
// their dead letters; the restore may write some again).
func TestSourceDeadLettersAcrossRestore(t *testing.T) {
	t.Parallel()
	const (
		n   = 3000
		dlq = "numbers-dlq"
	)
	c := startCluster(t, dlq)
	brokers := c.ListenAddrs()
	var recs []*kgo.Record
	bad := map[string]bool{}
	for i := range n {
		p := int32(i % partitions)
		if i%100 == 50 {
			v := fmt.Sprintf("bad %d", i)
			bad[v] = true
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)})
		}
		recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(strconv.Itoa(i))})
	}
	produceTo(t, brokers, recs...)
	sink := tidetest.NewSink[int64]()
	var release atomic.Bool
	cfg := kafka.Config[int64]{Brokers: brokers, Topics: []string{topic}, Group: group, Bounded: true,
		Deserialize: kafka.Int64, OnDeserializeError: kafka.DeadLetter(dlq)}
	cl := tidetest.Start(t, tidetest.Config{Job: jobOf(cfg, sink, &release), TaskManagers: 2, CheckpointInterval: 100 * time.Millisecond})
	cl.WaitParallelism(2, timeout)
	cl.WaitCheckpoints(2, timeout)
	cl.TaskManagers()[1].Kill()
	cl.WaitRescales(1, timeout)
	release.Store(true)
	cl.WaitState(tidetest.Finished, timeout)
	requireExactlyOnce(t, sink, n)

	kc, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(dlq), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	seen := map[string]int{}
	for len(seen) < len(bad) {
		fs := kc.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("reading the dead letters (%d of %d so far): %v", len(seen), len(bad), err)
		}
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++ })
	}
	for v := range seen {
		if !bad[v] {
			t.Errorf("a dead letter %q of a good record", v)
		}
	}
}

// TestPartitionAddedWhileRunning adds two partitions to the topic while an
// unbounded job reads it: the JobManager's partition discovery finds them
// and they are read from their start. A TaskManager then joins, and the
// partitions move with their offsets: every record exactly once.
func TestPartitionAddedWhileRunning(t *testing.T) {
	t.Parallel()
	const n, m = 3000, 400
	brokers := startKafka(t)
	produce(t, brokers, n)
	sink := tidetest.NewSink[int64]()
	c := tidetest.Start(t, tidetest.Config{
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, kafka.Source(kafka.Config[int64]{
				Brokers: brokers, Topics: []string{topic}, Group: group, Deserialize: parseInt,
				PartitionDiscovery: 100 * time.Millisecond,
			}))
			sink.To(src, "collect")
			return nil
		},
		TaskManagers: 2, CheckpointInterval: 100 * time.Millisecond,
	})
	c.WaitFor("the first records", timeout, func() bool { return sink.Len() == n })

	adm := admin(t, brokers)
	resp, err := adm.CreatePartitions(t.Context(), 2, topic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produceTo := func(from, to int) {
		var rs []*kgo.Record
		for i := from; i < to; i++ {
			rs = append(rs, &kgo.Record{Partition: int32(partitions + i%2), Value: []byte(strconv.Itoa(i))})
		}
		if err := cl.ProduceSync(t.Context(), rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produceTo(n, n+m/2)
	c.WaitFor("the records of the new partitions", timeout, func() bool { return sink.Len() == n+m/2 })
	c.AddTaskManager()
	c.WaitParallelism(3, timeout)
	produceTo(n+m/2, n+m)
	c.WaitFor("every record", timeout, func() bool { return sink.Len() >= n+m })
	c.WaitCheckpoints(c.Checkpoints().Counts.Completed+2, timeout)
	requireExactlyOnce(t, sink, n+m)
}

// TestSourceLagOnTheTaskManager reads a topic, slowly at first, in a job
// on one TaskManager: the TaskManager's metrics show each partition's lag
// and the largest, labeled with the subtask and the source, above zero
// while the job is behind, and zero once it has read everything.
func TestSourceLagOnTheTaskManager(t *testing.T) {
	t.Parallel()
	const n = 3000
	brokers := startKafka(t)
	produce(t, brokers, n)
	sink := tidetest.NewSink[int64]()
	var release atomic.Bool
	// A poll emits at most 50 of a partition's hundreds of records: the lag of a
	// partition is above zero when it is first reported.
	cfg := kafka.Config[int64]{Brokers: brokers, Topics: []string{topic}, Name: "numbers-in", Deserialize: kafka.Int64, MaxPollRecords: 50}
	c := tidetest.Start(t, tidetest.Config{Job: jobOf(cfg, sink, &release), TaskManagers: 1, CheckpointInterval: 100 * time.Millisecond})
	tm := c.TaskManagers()[0]
	lags := func() (sum float64, all bool) {
		all = true
		for p := range partitions {
			v, ok := tm.Metric("tide_kafka_consumer_lag_records", map[string]string{
				"topic": topic, "partition": strconv.Itoa(p), "operator_name": "numbers-in", "subtask_index": "0", "tm_id": tm.ID()})
			sum += v
			all = all && ok
		}
		return sum, all
	}
	c.WaitFor("every partition's lag, above zero", timeout, func() bool {
		sum, all := lags()
		return all && sum > 0
	})
	if m, ok := tm.Metric("tide_kafka_consumer_lag_max_records", map[string]string{"operator_name": "numbers-in"}); !ok || m <= 0 {
		t.Errorf("lag max %v (exported: %v) while behind, want above zero", m, ok)
	}
	// The JobManager learns the lag too, as the source vertex's
	// pendingRecords (Flink's name, which an autoscaler reads).
	pending := func() (int64, bool) {
		for _, v := range c.Job().Vertices {
			ms, err := c.Backend().VertexMetrics(c.JobID(), v.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if m.ID == "pendingRecords" {
					n, _ := strconv.ParseInt(m.Value, 10, 64)
					return n, true
				}
			}
		}
		return 0, false
	}
	c.WaitFor("the source vertex's pendingRecords on the JobManager, above zero", timeout, func() bool {
		n, ok := pending()
		return ok && n > 0
	})
	release.Store(true)
	c.WaitFor("every record, and a lag of zero", timeout, func() bool {
		sum, all := lags()
		return sink.Len() == n && all && sum == 0
	})
	if m, _ := tm.Metric("tide_kafka_consumer_lag_max_records", map[string]string{"operator_name": "numbers-in"}); m != 0 {
		t.Errorf("lag max %v after reading everything", m)
	}
	c.WaitFor("pendingRecords of zero on the JobManager", timeout, func() bool {
		n, ok := pending()
		return ok && n == 0
	})
}
