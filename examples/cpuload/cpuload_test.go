package cpuload_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tide-stream/tide/examples/cpuload"
	"github.com/tide-stream/tide/internal/datagen"
	"github.com/tide-stream/tide/internal/kafkabroker"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

const timeout = 60 * time.Second

// TestStatefulOperatorsHaveUIDs: the source (whose state is the partitions'
// offsets) and the sinks keep their documented ids, and the source and its
// logger are bounded to the topic's partitions while the computation is not.
func TestStatefulOperatorsHaveUIDs(t *testing.T) {
	env := stream.NewEnv(128)
	if err := cpuload.Build(env, []string{"--bootstrap-servers", "127.0.0.1:9092", "--partitions", "3"}); err != nil {
		t.Fatal(err)
	}
	g, err := env.Plan()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Kafka": "kafka-source", "Throughput Logger": "throughput-logger", "Discard": "discard"}
	for _, op := range g.Operators {
		if w, ok := want[op.Name]; ok {
			if op.UID != w {
				t.Errorf("operator %s: uid %q, want %q", op.Name, op.UID, w)
			}
			if op.Name != "Discard" && op.MaxParallelism != 3 {
				t.Errorf("operator %s: max parallelism %d, want the 3 partitions", op.Name, op.MaxParallelism)
			}
			delete(want, op.Name)
		}
		if op.Name == "Expensive Computation" && op.MaxParallelism != 0 {
			t.Errorf("the computation is bounded to %d subtasks, want every slot", op.MaxParallelism)
		}
	}
	for name := range want {
		t.Errorf("no operator %s", name)
	}
}

// TestArgs: --help answers with the usage, a missing --bootstrap-servers
// asks for Kafka with the topic and its partitions, and bad values are
// refused by name.
func TestArgs(t *testing.T) {
	_, err := cpuload.ParseArgs([]string{"--help"})
	var ue *stream.UsageError
	if !errors.Is(err, flag.ErrHelp) || !errors.As(err, &ue) || !strings.Contains(ue.Usage(), "--iterations") {
		t.Errorf("--help: %v, want a usage that lists --iterations", err)
	}
	_, err = cpuload.ParseArgs([]string{"--topic", "in", "--partitions", "4"})
	var kr *stream.KafkaRequired
	if !errors.As(err, &kr) || kr.Flag != "--bootstrap-servers" ||
		!slices.Equal(kr.Topics, []stream.KafkaTopic{{Name: "in", Partitions: 4}}) {
		t.Errorf("no --bootstrap-servers: %#v, want KafkaRequired for topic in with 4 partitions", err)
	}
	o, err := cpuload.ParseArgs([]string{"--bootstrap-servers", "a:1, b:2", "--group-id", "g"})
	if err != nil || !slices.Equal(o.Brokers, []string{"a:1", "b:2"}) || o.Iterations != cpuload.DefaultIterations || o.Group != "g" {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	for _, bad := range [][]string{
		{"--iterations", "-1"}, {"--partitions", "0"}, {"--start", "middle"}, {"--log-interval", "0s"}, {"--topic", ""}, {"extra"},
	} {
		args := append([]string{"--bootstrap-servers", "a:1"}, bad...)
		if _, err := cpuload.ParseArgs(args); err == nil || errors.As(err, &kr) {
			t.Errorf("%q: %v, want an error", bad, err)
		} else if !strings.Contains(err.Error(), strings.TrimPrefix(bad[0], "-")) && bad[0] != "extra" {
			t.Errorf("%q: error %q does not name the argument", bad, err)
		}
	}
}

// TestCompute is the seed's arithmetic: the loop from 0, deterministic.
func TestCompute(t *testing.T) {
	if got := cpuload.Compute(0); got != 0 {
		t.Errorf("Compute(0) = %v, want 0", got)
	}
	// res1 = sin(cos(0))*2 = 2·sin(1).
	if got, want := cpuload.Compute(1), 2*0.8414709848078965; got != want {
		t.Errorf("Compute(1) = %v, want %v", got, want)
	}
	if a, b := cpuload.Compute(500), cpuload.Compute(500); a != b || a == cpuload.Compute(499) {
		t.Errorf("Compute(500) = %v then %v (Compute(499) = %v)", a, b, cpuload.Compute(499))
	}
}

// logLines collects a JSON slog handler's lines, safely from every subtask.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// records returns the logged lines that carry a total.
func (l *logLines) lines(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// produce starts a broker and has datagen write n records (the counter
// payload, 0..n-1) to a topic of the given partitions.
func produce(t *testing.T, topic string, partitions, n int) string {
	t.Helper()
	b, err := kafkabroker.Start(kafkabroker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := datagen.Run(ctx, datagen.Config{Brokers: []string{b.Addr()}, Topic: topic, Partitions: partitions,
		Shape: datagen.ShapeConfig{Name: "constant", Rate: 1e6}, Count: int64(n)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Acked != int64(n) {
		t.Fatalf("datagen: %d records acknowledged, want %d", res.Acked, n)
	}
	return b.Addr()
}

func parallelismOf(t *testing.T, c *tidetest.Cluster, name string) int {
	t.Helper()
	for _, v := range c.Job().Vertices {
		if strings.HasPrefix(v.Name, name) {
			return v.Parallelism
		}
	}
	t.Fatalf("no vertex %s in %+v", name, c.Job().Vertices)
	return 0
}

// TestJobReadsEverythingDatagenProduced runs the registered job (bounded,
// so that it finishes) on three TaskManagers against a topic of two
// partitions that datagen filled: the source runs two subtasks, the
// computation three, and the throughput loggers' totals add up to every
// record produced. (The job reads them in milliseconds, so whether a rate
// line comes is up to the timing; logger_test.go checks the lines.)
func TestJobReadsEverythingDatagenProduced(t *testing.T) {
	t.Parallel()
	const n, topic = 20_000, "cpu"
	addr := produce(t, topic, 2, n)
	var logs logLines
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	c := tidetest.Start(t, tidetest.Config{Job: cpuload.Job(log), TaskManagers: 3, CheckpointInterval: 200 * time.Millisecond,
		Args: []string{"--bootstrap-servers", addr, "--topic", topic, "--partitions", "2", "--iterations", "20",
			"--log-interval", "1ms", "--bounded"}})
	c.WaitState(tidetest.Finished, timeout)
	if p := parallelismOf(t, c, "Kafka"); p != 2 {
		t.Errorf("the source ran %d subtasks, want one per partition (2)", p)
	}
	if p := parallelismOf(t, c, "Rebalance"); p != 3 {
		t.Errorf("the computation ran %d subtasks, want one per slot (3)", p)
	}
	var total int64
	subtasks := map[float64]bool{}
	for _, m := range logs.lines(t) {
		msg, _ := m["msg"].(string)
		switch {
		case strings.Contains(msg, "in total"):
			total += int64(m["total"].(float64))
			subtasks[m["subtask"].(float64)] = true
		case strings.Contains(msg, "records/second/core"):
			if r, ok := m["records_per_second"].(float64); !ok || r <= 0 {
				t.Errorf("a throughput line without a positive rate: %v", m)
			}
		}
	}
	if total != n || len(subtasks) != 2 {
		t.Errorf("the loggers' totals add up to %d over subtasks %v, want %d over 2", total, subtasks, n)
	}
}

// TestComputationSeesEveryRecordOnce reads the job's computed stream into
// a test sink: every record datagen produced comes out of the computation
// once, with the seed's result.
func TestComputationSeesEveryRecordOnce(t *testing.T) {
	t.Parallel()
	const n, topic, iterations = 10_000, "cpu", 30
	addr := produce(t, topic, 3, n)
	sink := tidetest.NewSink[cpuload.Result]()
	job := func(env *stream.Env, _ []string) error {
		o, err := cpuload.ParseArgs([]string{"--bootstrap-servers", addr, "--topic", topic, "--partitions", "3",
			"--iterations", strconv.Itoa(iterations), "--bounded"})
		if err != nil {
			return err
		}
		sink.To(cpuload.Declare(env, o, slog.New(slog.DiscardHandler)), "collect")
		return nil
	}
	c := tidetest.Start(t, tidetest.Config{Job: job, TaskManagers: 2, CheckpointInterval: 200 * time.Millisecond})
	c.WaitState(tidetest.Finished, timeout)
	got := sink.Values()
	want := cpuload.Compute(iterations)
	seen := make([]bool, n)
	for _, r := range got {
		i, err := strconv.Atoi(r.Value)
		if err != nil || i < 0 || i >= n || seen[i] {
			t.Fatalf("record %q: not one of 0..%d, or a duplicate", r.Value, n-1)
		}
		seen[i] = true
		if r.Res != want {
			t.Fatalf("record %s: result %v, want %v", r.Value, r.Res, want)
		}
	}
	if len(got) != n {
		t.Fatalf("%d records came out of the computation, want %d", len(got), n)
	}
}

// BenchmarkCompute is the computation's cost per record at the default
// iterations (the seed measured about 24 µs on a JVM and 30 µs in Go).
func BenchmarkCompute(b *testing.B) {
	var sum float64
	for b.Loop() {
		sum += cpuload.Compute(cpuload.DefaultIterations)
	}
	if sum == 0 {
		b.Fatal("no result")
	}
}
