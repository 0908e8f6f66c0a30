package kafka_test

import (
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/kafka"
	"github.com/tide-stream/tide/stream"
)

// TestReaderTopicPattern reads the topics a pattern matches (and not the
// others), in a bounded read; a pattern that matches nothing reads
// nothing: bounded, the reader is Done at once; unbounded, it waits.
func TestReaderTopicPattern(t *testing.T) {
	c := startCluster(t, "numbers-b", "words")
	brokers := c.ListenAddrs()
	produceTo(t, brokers, numbered(0, 0, 10)...)
	produceTo(t, brokers, numbered(5, 10, 20)...)
	produceTo(t, brokers, &kgo.Record{Topic: "numbers-b", Value: []byte("100")}, &kgo.Record{Topic: "words", Value: []byte("not a number")})

	cfg := kafka.Config[int64]{Brokers: brokers, TopicPattern: regexp.MustCompile(`^numbers`), Bounded: true, Deserialize: kafka.Int64}
	got, _ := readAll(t, cfg, nil)
	if want := append(seq(0, 20), 100); !slices.Equal(got, want) {
		t.Errorf("pattern ^numbers read %v, want %v", got, want)
	}

	cfg.TopicPattern = regexp.MustCompile(`^nothing`)
	got, _ = readAll(t, cfg, nil)
	if len(got) != 0 {
		t.Errorf("a pattern matching nothing read %v", got)
	}

	cfg.Bounded = false
	ctx := newFakeContext(t, 0, 1)
	r := openReader(t, cfg, ctx, nil)
	st, wait, err := r.Poll(ctx.ctx, fakeOutput{recs: new([]record), done: new([]string)})
	if err != nil || st != stream.Idle || wait <= 0 {
		t.Errorf("unbounded, a pattern matching nothing polls %v, %v, %v; want Idle with a wait", st, wait, err)
	}

	// A topic created later that the pattern matches is found by the next
	// discovery, from its log start.
	resp, err := admin(t, brokers).CreateTopic(t.Context(), 2, 1, nil, "nothing-yet")
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
	produceTo(t, brokers, &kgo.Record{Topic: "nothing-yet", Partition: 1, Value: []byte("1")})
	splits, final, err := discover(t, kafka.Source(cfg), false)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, sp := range splits {
		ids = append(ids, sp.ID)
	}
	if !slices.Equal(ids, []string{"nothing-yet-0", "nothing-yet-1"}) || final {
		t.Errorf("a later discovery found %v (final %v), want the new topic's partitions", ids, final)
	}
}

// TestReaderStartsAtCommittedOffsets starts from the group's committed
// offsets: a partition without one, or with one below the log start,
// starts where the reset says. A group that has committed nothing starts
// every partition at the reset.
func TestReaderStartsAtCommittedOffsets(t *testing.T) {
	c := startCluster(t)
	brokers := c.ListenAddrs()
	for p := range int32(partitions) {
		produceTo(t, brokers, numbered(p, int(p)*100, int(p)*100+20)...)
	}
	adm := admin(t, brokers)
	var offs kadm.Offsets
	offs.AddOffset(topic, 0, 5, -1)
	offs.AddOffset(topic, 1, 20, -1) // at the end
	offs.AddOffset(topic, 2, 3, -1)  // deleted below
	if err := adm.CommitAllOffsets(t.Context(), group, offs); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteRecords(topic, 2, 10); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		group string
		reset kafka.OffsetReset
		want  []int64
	}{
		{"earliest", group, kafka.Earliest, sortedUnion(seq(5, 20), seq(210, 220), seq(300, 320), seq(400, 420), seq(500, 520))},
		{"latest", group, kafka.Latest, seq(5, 20)},
		{"no offsets, earliest", "no-such-group", kafka.Earliest, sortedUnion(seq(0, 20), seq(100, 120), seq(210, 220), seq(300, 320), seq(400, 420), seq(500, 520))},
		{"no offsets, latest", "no-such-group", kafka.Latest, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := kafka.Config[int64]{Brokers: brokers, Topics: []string{topic}, Group: tc.group,
				Start: kafka.Committed(tc.reset), Bounded: true, Deserialize: kafka.Int64}
			got, _ := readAll(t, cfg, nil)
			if !slices.Equal(got, tc.want) {
				t.Errorf("read %v,\nwant %v", got, tc.want)
			}
		})
	}
}

// TestReaderStartsAtTimestamp starts each partition at its first record
// stamped at or after a time, and a partition with none at its end.
func TestReaderStartsAtTimestamp(t *testing.T) {
	brokers := startKafka(t)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []*kgo.Record
	for p := range int32(partitions) {
		for i, r := range numbered(p, int(p)*100, int(p)*100+20) {
			// Partition 5's records are all before the start.
			ts := base.Add(time.Duration(i) * time.Second)
			if p == 5 {
				ts = base
			}
			r.Timestamp = ts
			recs = append(recs, r)
		}
	}
	produceTo(t, brokers, recs...)
	cfg := kafka.Config[int64]{Brokers: brokers, Topics: []string{topic}, Start: kafka.StartAt(base.Add(15 * time.Second)),
		Bounded: true, Deserialize: kafka.Int64}
	got, _ := readAll(t, cfg, nil)
	var want []int64
	for p := range 5 {
		want = append(want, seq(p*100+15, p*100+20)...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("read %v,\nwant %v", got, want)
	}
}

// TestUnreachableBrokerFailsInTime discovers the partitions of a source
// whose bootstrap server refuses connections, and of one whose server
// accepts them and never answers: the JobManager's discovery fails within
// OpenTimeout, with an error that names the brokers and that a restart may
// mend.
func TestUnreachableBrokerFailsInTime(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepting sync.WaitGroup
	accepting.Go(func() {
		// Holds every connection open, unanswered, until the listener closes.
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	})
	t.Cleanup(func() { silent.Close(); accepting.Wait() })
	for _, tc := range []struct{ name, broker, want string }{
		{"refused", "127.0.0.1:1", "127.0.0.1:1"},
		{"silent", silent.Addr().String(), "OpenTimeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := kafka.Config[int64]{Brokers: []string{tc.broker}, Topics: []string{topic}, Deserialize: kafka.Int64,
				OpenTimeout: 500 * time.Millisecond}
			start := time.Now()
			_, _, err := discover(t, kafka.Source(cfg), true)
			took := time.Since(start)
			if err == nil {
				t.Fatal("Discover succeeded with no broker")
			}
			if operator.IsPermanent(err) {
				t.Errorf("Discover = %v: permanent, want an error a restart may mend", err)
			}
			if !strings.Contains(err.Error(), tc.broker) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Discover = %v, want it to name the broker and say %q", err, tc.want)
			}
			if took > 5*time.Second {
				t.Errorf("Discover took %v with an OpenTimeout of 500ms", took)
			}
		})
	}
}

// TestReaderDeserializeRecordSeesTheRecord reads with DeserializeRecord,
// which sees the record's topic, partition, offset, key and headers.
func TestReaderDeserializeRecordSeesTheRecord(t *testing.T) {
	brokers := startKafka(t)
	produceTo(t, brokers, &kgo.Record{Topic: topic, Partition: 3, Key: []byte("k"), Value: []byte("v"),
		Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("7")}}})
	var seen []string
	cfg := kafka.Config[int64]{Brokers: brokers, Topics: []string{topic}, Bounded: true,
		DeserializeRecord: func(r *kgo.Record) (int64, error) {
			seen = append(seen, r.Topic, string(r.Key), string(r.Value), r.Headers[0].Key, string(r.Headers[0].Value))
			return int64(r.Partition)*1000 + r.Offset, nil
		}}
	got, _ := readAll(t, cfg, nil)
	if !slices.Equal(got, []int64{3000}) || !slices.Equal(seen, []string{topic, "k", "v", "h", "7"}) {
		t.Errorf("read %v, saw %v", got, seen)
	}
}
