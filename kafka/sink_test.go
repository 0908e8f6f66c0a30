package kafka_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/internal/kafkaread"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/kafka"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

const (
	outTopic      = "results"
	outPartitions = 5
	txnPrefix     = "tide-sink-test"
)

// startSinkKafka starts a three-broker kfake cluster on free ports with the
// output topic, stopped at the test's end.
func startSinkKafka(t *testing.T) []string { return kafkaWith(t, outTopic, outPartitions) }

func serializeInt(v int64) ([]byte, []byte, error) {
	return []byte(strconv.FormatInt(v%32, 10)), []byte(strconv.FormatInt(v, 10)), nil
}

// sinkJob writes 0..n-1 through a Kafka sink. Until release is set, each
// record takes a millisecond, so that a test can disturb the job while it
// runs. The source is paced too, so that its batches are small and the
// sink writes records soon after each barrier, which a disturbance then
// finds in an open transaction.
func sinkJob(brokers []string, n int, g kafka.Guarantee, release *atomic.Bool) stream.JobFunc {
	values := make([]int64, n)
	for i := range values {
		values[i] = int64(i)
	}
	return func(env *stream.Env, _ []string) error {
		src := stream.FromSource(env, tidetest.SliceSource("numbers", values, tidetest.Splits(8), tidetest.Rate(4000)))
		paced := stream.Map(src, "pace", func(v int64) int64 {
			if !release.Load() {
				time.Sleep(time.Millisecond)
			}
			return v
		})
		stream.SinkTo(paced, "kafka", kafka.Sink(kafka.SinkConfig[int64]{
			Brokers: brokers, Topic: outTopic, Serialize: serializeInt,
			Guarantee: g, TransactionalIDPrefix: txnPrefix,
		}), stream.UID("kafka-sink"))
		return nil
	}
}

// readCommitted returns the committed values of the output topic after
// waiting until no transaction holds any partition back (the last stable
// offset is the end offset everywhere), failing the test if that does not
// happen within the timeout.
func readCommitted(t *testing.T, brokers []string) []int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var vs []int64
		st, err := kafkaread.Committed(ctx, cl, outTopic, func(r *kgo.Record) error {
			v, err := strconv.ParseInt(string(r.Value), 10, 64)
			vs = append(vs, v)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Open == 0 {
			return vs
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d partitions of %s still have an open transaction after %v: consumers are blocked", st.Open, outTopic, timeout)
		case <-tick.C:
		}
	}
}

// requireEach fails unless vs holds each of 0..n-1 exactly once, or with
// exactlyOnce false at least once.
func requireEach(t *testing.T, vs []int64, n int, exactlyOnce bool) {
	t.Helper()
	seen := make([]int, n)
	for _, v := range vs {
		if v < 0 || v >= int64(n) {
			t.Fatalf("value %d is not one the job wrote", v)
		}
		seen[v]++
	}
	dups := 0
	for v, c := range seen {
		if c == 0 {
			t.Fatalf("value %d is missing (%d values read)", v, len(vs))
		}
		if c > 1 {
			dups++
			if exactlyOnce {
				t.Fatalf("value %d is there %d times (%d values read)", v, c, len(vs))
			}
		}
	}
	t.Logf("%d values read, %d of %d written more than once", len(vs), dups, n)
}

// sinkRun is what a disturbance knows of the sink.
type sinkRun struct {
	brokers []string
	g       kafka.Guarantee
}

// sinkDisturbances run while the job runs; each checks that the rescale it
// causes happened.
var sinkDisturbances = []struct {
	name         string
	taskManagers int
	disturb      func(t *testing.T, c *tidetest.Cluster, k sinkRun)
}{
	{"straight", 2, func(*testing.T, *tidetest.Cluster, sinkRun) {}},
	{"kill-2-to-1", 2, func(t *testing.T, c *tidetest.Cluster, k sinkRun) {
		waitWritten(t, c, k)
		c.TaskManagers()[1].Kill()
		rs := c.WaitRescales(1, timeout)
		if r, ok := findRescale(rs, rest.TriggerTaskManagerLost, 2, 1); !ok || r.Checkpoint < 1 {
			t.Fatalf("no restore 2 -> 1 from a checkpoint on taskmanager-lost: %+v", rs)
		}
	}},
	{"join-2-to-3", 2, func(t *testing.T, c *tidetest.Cluster, k sinkRun) {
		c.AddTaskManager()
		rs := c.WaitRescales(1, timeout)
		if r, ok := findRescale(rs, rest.TriggerTaskManagerJoined, 2, 3); !ok || r.Checkpoint < 1 {
			t.Fatalf("no rescale 2 -> 3 from a checkpoint on taskmanager-joined: %+v", rs)
		}
	}},
	{"leave-3-to-2", 3, func(t *testing.T, c *tidetest.Cluster, k sinkRun) {
		c.TaskManagers()[2].Leave()
		rs := c.WaitRescales(1, timeout)
		if r, ok := findRescale(rs, rest.TriggerTaskManagerLeaving, 3, 2); !ok || r.Checkpoint < 1 {
			t.Fatalf("no rescale 3 -> 2 from a checkpoint on taskmanager-leaving: %+v", rs)
		}
	}},
}

// waitWritten waits until the sink has written records after the last
// checkpoint: exactly once, until it has an open transaction; at least
// once, until the topic has grown by a few records.
func waitWritten(t *testing.T, c *tidetest.Cluster, k sinkRun) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	written := func() int64 {
		ends, err := adm.ListEndOffsets(ctx, outTopic)
		if err != nil {
			return -1
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		return n
	}
	if k.g != kafka.ExactlyOnce {
		from := written()
		c.WaitFor("records written after the checkpoint", timeout, func() bool { return written() > from+20 })
		return
	}
	c.WaitFor("an open transaction of the sink", timeout, func() bool {
		ls, err := adm.ListTransactions(ctx, nil, []string{"Ongoing"})
		if err != nil {
			return false
		}
		for _, l := range ls {
			if strings.HasPrefix(l.TxnID, txnPrefix+"-") {
				return true
			}
		}
		return false
	})
}

// runSinkJob runs sinkJob on a test cluster through a disturbance and
// returns the committed values once the job has finished.
func runSinkJob(t *testing.T, brokers []string, n, tms int, g kafka.Guarantee, disturb func(*testing.T, *tidetest.Cluster, sinkRun)) []int64 {
	t.Helper()
	var release atomic.Bool
	c := tidetest.Start(t, tidetest.Config{Job: sinkJob(brokers, n, g, &release),
		TaskManagers: tms, CheckpointInterval: 100 * time.Millisecond})
	c.WaitParallelism(tms, timeout)
	c.WaitCheckpoints(2, timeout)
	if s := c.State(); s != tidetest.Running {
		t.Fatalf("the job is %s before the disturbance, want RUNNING", s)
	}
	disturb(t, c, sinkRun{brokers, g})
	release.Store(true)
	c.WaitState(tidetest.Finished, timeout)
	return readCommitted(t, brokers)
}

// TestSinkExactlyOnce writes through the exactly-once sink straight, through
// a TaskManager killed mid-run, a TaskManager joining and one leaving: a
// read_committed reader finds every value exactly once, and no transaction
// is left open.
func TestSinkExactlyOnce(t *testing.T) {
	const n = 4000
	for _, tc := range sinkDisturbances {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			brokers := startSinkKafka(t)
			vs := runSinkJob(t, brokers, n, tc.taskManagers, kafka.ExactlyOnce, tc.disturb)
			requireEach(t, vs, n, true)
		})
	}
}

// TestSinkAtLeastOnce loses nothing through a TaskManager killed mid-run.
func TestSinkAtLeastOnce(t *testing.T) {
	t.Parallel()
	const n = 4000
	brokers := startSinkKafka(t)
	vs := runSinkJob(t, brokers, n, 2, kafka.AtLeastOnce, sinkDisturbances[1].disturb)
	requireEach(t, vs, n, false)
}

// TestSinkAbortsLingeringTransaction leaves an open transaction in the sink's
// name from an older attempt (a process killed before it could abort):
// without an abort it would hold back read_committed readers of its
// partitions for its whole timeout. The job's first attempt aborts it when
// it opens, so its records never appear and the job's do, once.
func TestSinkAbortsLingeringTransaction(t *testing.T) {
	t.Parallel()
	const n = 4000
	brokers := startSinkKafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	zombie, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.TransactionalID(txnPrefix+"-0-1-3"),
		kgo.DefaultProduceTopic(outTopic), kgo.TransactionTimeout(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer zombie.Close()
	if err := zombie.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	var rs []*kgo.Record
	for i := range 50 {
		rs = append(rs, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte(strconv.Itoa(n + i))})
	}
	if err := zombie.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	vs := runSinkJob(t, brokers, n, 2, kafka.ExactlyOnce, func(*testing.T, *tidetest.Cluster, sinkRun) {})
	requireEach(t, vs, n, true)
	// The zombie is fenced: it can neither add records nor commit.
	if err := zombie.ProduceSync(ctx, &kgo.Record{Value: []byte("late")}).FirstErr(); err == nil {
		if err := zombie.EndTransaction(ctx, kgo.TryCommit); err == nil {
			t.Fatal("the fenced zombie committed its transaction")
		}
	}
}

// TestSinkKcatReadsExactlyOnce reads what the exactly-once sink wrote through
// a TaskManager kill with kcat (librdkafka, a client nobody here wrote) at
// isolation.level=read_committed: every value exactly once. ./scripts/test
// sets TIDE_REQUIRE_KCAT=1, so the suite never skips it.
func TestSinkKcatReadsExactlyOnce(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv("TIDE_REQUIRE_KCAT") == "1" {
			t.Fatal("kcat is required: apt-get install kcat")
		}
		t.Skip("kcat not installed (./scripts/test installs it)")
	}
	t.Parallel()
	const n = 3000
	brokers := startSinkKafka(t)
	// readCommitted (inside) waits until no transaction is open.
	runSinkJob(t, brokers, n, 2, kafka.ExactlyOnce, sinkDisturbances[1].disturb)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, kcat, "-C", "-b", strings.Join(brokers, ","), "-t", outTopic,
		"-X", "isolation.level=read_committed", "-o", "beginning", "-e", "-q", "-f", "%s\n").Output()
	if err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}
	var vs []int64
	for l := range strings.Lines(string(out)) {
		v, err := strconv.ParseInt(strings.TrimSpace(l), 10, 64)
		if err != nil {
			t.Fatalf("kcat line %q: %v", l, err)
		}
		vs = append(vs, v)
	}
	requireEach(t, vs, n, true)
}
