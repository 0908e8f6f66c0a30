package datagen

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// cluster starts a three-broker kfake cluster for one test.
func cluster(t *testing.T, opts ...kfake.Opt) []string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(3)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// readAll reads n records of topic from the start, failing the test if
// they do not arrive within a generous deadline, and then checks that no
// more are there.
func readAll(t *testing.T, brokers []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d records of %s, want %d", len(out), topic, n)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetching %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	// Nothing beyond n: the end offsets sum to n.
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != int64(n) || len(out) != n {
		t.Fatalf("topic %s holds %d records (read %d), want exactly %d", topic, total, len(out), n)
	}
	return out
}

func TestRunCountVerifyPayload(t *testing.T) {
	brokers := cluster(t)
	const n, keys, parts = 20_000, 16, 4
	var progress bytes.Buffer
	res, err := Run(context.Background(), Config{
		Brokers: brokers, Topic: "numbers", Partitions: parts,
		Shape:   ShapeConfig{Name: "constant", Rate: 1e6},
		Payload: Verify{Keys: keys}, Count: n, Window: 1000, Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Acked != n {
		t.Errorf("acked %d, want %d", res.Acked, n)
	}
	if !strings.Contains(progress.String(), "created topic numbers with 4 partitions") ||
		!strings.Contains(progress.String(), "done: 20000 records acknowledged") {
		t.Errorf("progress output lacks the topic creation or the final count:\n%s", &progress)
	}
	recs := readAll(t, brokers, "numbers", n)
	seen := make([]bool, n)
	partOf := map[string]int32{}
	last := map[string]int64{}
	used := map[int32]bool{}
	for _, r := range recs {
		i, err := strconv.ParseInt(string(r.Value), 10, 64)
		if err != nil || i < 0 || i >= n || seen[i] {
			t.Fatalf("value %q: not a new integer in [0, %d)", r.Value, n)
		}
		seen[i] = true
		if want := strconv.FormatInt(i%keys, 10); string(r.Key) != want {
			t.Fatalf("value %d has key %q, want %q", i, r.Key, want)
		}
		k := string(r.Key)
		if p, ok := partOf[k]; ok && p != r.Partition {
			t.Fatalf("key %s in partitions %d and %d", k, p, r.Partition)
		}
		partOf[k] = r.Partition
		used[r.Partition] = true
		// Records are read in offset order within a partition: per key, values rise by K.
		if l, ok := last[k]; ok && i != l+keys {
			t.Fatalf("key %s: value %d after %d, want %d", k, i, l, l+keys)
		} else if !ok && i != i%keys {
			t.Fatalf("key %s starts at %d, want %d", k, i, i%keys)
		}
		last[k] = i
	}
	if len(used) < 2 {
		t.Errorf("the %d keys landed in %d partition(s) of %d", keys, len(used), parts)
	}
}

func TestRunCounterPayloadExistingTopic(t *testing.T) {
	brokers := cluster(t, kfake.SeedTopics(2, "topic"))
	var progress bytes.Buffer
	res, err := Run(context.Background(), Config{
		Brokers: brokers, Topic: "topic", Partitions: 5,
		Shape: ShapeConfig{Name: "constant", Rate: 1e6}, Count: 1000, Progress: &progress,
	})
	if err != nil || res.Acked != 1000 {
		t.Fatalf("Run: %d acked, %v; want 1000, nil", res.Acked, err)
	}
	if !strings.Contains(progress.String(), "topic topic exists with 2 partitions") {
		t.Errorf("progress output does not say the topic exists:\n%s", &progress)
	}
	seen := map[string]bool{}
	for _, r := range readAll(t, brokers, "topic", 1000) {
		if !bytes.Equal(r.Key, r.Value) || seen[string(r.Value)] {
			t.Fatalf("record key %q value %q: want key = value, each once", r.Key, r.Value)
		}
		seen[string(r.Value)] = true
	}
	for i := range 1000 {
		if !seen[strconv.Itoa(i)] {
			t.Fatalf("counter %d missing", i)
		}
	}
}

// TestRunRate checks the rate from the records' timestamps, with bounds
// generous enough for a loaded machine under -race; BENCHMARKS.md has the
// accuracy measured on a quiet one.
func TestRunRate(t *testing.T) {
	brokers := cluster(t)
	const rate = 2000
	res, err := Run(context.Background(), Config{
		Brokers: brokers, Topic: "paced", Partitions: 3,
		Shape: ShapeConfig{Name: "constant", Rate: rate}, Duration: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Acked < 2*rate*8/10 || res.Acked > 2*rate*11/10 {
		t.Fatalf("acked %d in 2 s at %d/s", res.Acked, rate)
	}
	recs := readAll(t, brokers, "paced", int(res.Acked))
	first, last := recs[0].Timestamp, recs[0].Timestamp
	for _, r := range recs {
		if r.Timestamp.Before(first) {
			first = r.Timestamp
		}
		if r.Timestamp.After(last) {
			last = r.Timestamp
		}
	}
	got := float64(len(recs)-1) / last.Sub(first).Seconds()
	if got < rate*0.8 || got > rate*1.2 {
		t.Errorf("rate from the record timestamps %.0f/s, want %d/s ± 20%%", got, rate)
	}
}

// lockedBuffer is a progress writer that a test reads while Run writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRunBurstsStopsOnCancel(t *testing.T) {
	brokers := cluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	var progress lockedBuffer
	var res Result
	var err error
	done := make(chan struct{})
	go func() { // owner: this test, which waits on done
		defer close(done)
		res, err = Run(ctx, Config{Brokers: brokers, Topic: "bursts", Progress: &progress,
			Shape: ShapeConfig{Name: "bursts", Speedup: 60}, ProgressEvery: 50 * time.Millisecond})
	}()
	// At speedup 60 a burst is 501/60 ≈ 8 records, then 250 ms of pause:
	// wait for a progress line that shows a second burst acknowledged.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for maxAcked(progress.String()) < 16 {
		select {
		case <-done:
			t.Fatalf("Run ended early: %v\n%s", err, progress.String())
		case <-tick.C:
		}
	}
	cancel()
	<-done
	if err != nil {
		t.Fatalf("a cancelled run is not an error, got %v", err)
	}
	if res.Acked < 16 {
		t.Fatalf("acked %d, want at least two bursts of 8", res.Acked)
	}
	recs := readAll(t, brokers, "bursts", int(res.Acked))
	for i, r := range recs { // one partition: in order
		if string(r.Value) != strconv.Itoa(i) {
			t.Fatalf("record %d has value %q", i, r.Value)
		}
	}
}

// maxAcked returns the largest acked=N of the progress lines.
func maxAcked(progress string) int {
	most := 0
	for _, m := range regexp.MustCompile(`acked=(\d+)`).FindAllStringSubmatch(progress, -1) {
		n, _ := strconv.Atoi(m[1])
		most = max(most, n)
	}
	return most
}

func TestConfigValidate(t *testing.T) {
	c := Config{Partitions: -1, Count: -1, Window: 1, Shape: ShapeConfig{Name: "cosine", Min: 5, Max: 1}}
	err := c.Validate()
	for _, want := range []string{"--bootstrap-servers is required", "--topic is required", "--partitions -1",
		"--count -1", "--min <= --max"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to say %q", err, want)
		}
	}
	for _, sc := range []ShapeConfig{{Name: "constant"}, {Name: "wave"}, {Name: "bursts", Speedup: -1}} {
		if sc.Validate() == nil {
			t.Errorf("%+v: Validate() = nil, want an error", sc)
		}
	}
}
