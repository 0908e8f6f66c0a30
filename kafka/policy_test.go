package kafka_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/internal/metrichook"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/kafka"
	"github.com/tide-stream/tide/stream"
)

// TestReaderOffsetOutOfRange restores a reader at offset 10 of a partition
// whose log retention has moved to start at 100, and one at an offset past
// the partition's end. By default the reader fails, permanently, naming
// the partition, the offset and the log's start and end; with
// ResetEarliest it reads on from the log start and counts the 90 records
// lost (bounded: only those before its stop).
func TestReaderOffsetOutOfRange(t *testing.T) {
	c := startCluster(t)
	brokers := c.ListenAddrs()
	produceTo(t, brokers, numbered(0, 0, 300)...)
	if err := c.DeleteRecords(topic, 0, 100); err != nil {
		t.Fatal(err)
	}
	cfg := kafka.Config[int64]{Brokers: brokers, Topics: []string{topic}, Deserialize: kafka.Int64}

	for _, tc := range []struct {
		name       string
		next, stop int64
		want       []string
	}{
		{"below the log start", 10, -1, []string{"topic numbers partition 0: offset 10 is out of range, below the log start", "starts at 100 and ends at 300"}},
		{"past the end", 400, -1, []string{"topic numbers partition 0: offset 400 is out of range, past the end", "starts at 100 and ends at 300"}},
	} {
		t.Run("fail/"+tc.name, func(t *testing.T) {
			ctx := newFakeContext(t, 0, 1)
			r := openReader(t, cfg, ctx, [][]byte{kafka.SplitState(topic, 0, tc.next, tc.stop)})
			var got []record
			_, err := pollErr(t, r, ctx, fakeOutput{recs: &got, done: new([]string)}, func() bool { return false })
			if err == nil || !operator.IsPermanent(err) {
				t.Fatalf("poll = %v, want a permanent error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if len(got) != 0 {
				t.Errorf("emitted %d records before failing", len(got))
			}
		})
	}

	reset := cfg
	reset.OnOffsetOutOfRange = kafka.ResetEarliest
	t.Run("reset", func(t *testing.T) {
		ctx := newFakeContext(t, 0, 1)
		r := openReader(t, reset, ctx, [][]byte{kafka.SplitState(topic, 0, 10, -1)})
		var got []record
		pollUntil(t, r, ctx, fakeOutput{recs: &got, done: new([]string)}, func() bool { return len(got) >= 200 })
		if want := seq(100, 300); !slices.Equal(values(got), want) {
			t.Errorf("read %d records %v…, want 100..299", len(got), values(got)[:min(5, len(got))])
		}
		if lost, _ := ctx.metrics.Value(metrichook.KafkaRecordsLost, partLabels(topic, 0)...); lost != 90 {
			t.Errorf("%s = %v, want 90", metrichook.KafkaRecordsLost, lost)
		}
		if log := ctx.log.String(); !strings.Contains(log, "records_lost=90") || !strings.Contains(log, "log_start=100") {
			t.Errorf("the log does not report the reset and the loss:\n%s", log)
		}
	})
	t.Run("reset bounded", func(t *testing.T) {
		// Stopping at 50, below the log start: done, 40 records lost.
		bounded := reset
		bounded.Bounded = true
		got, ctx := readAll(t, bounded, [][]byte{kafka.SplitState(topic, 0, 10, 50)})
		if len(got) != 0 {
			t.Errorf("read %v", got)
		}
		if lost, _ := ctx.metrics.Value(metrichook.KafkaRecordsLost, partLabels(topic, 0)...); lost != 40 {
			t.Errorf("%s = %v, want 40", metrichook.KafkaRecordsLost, lost)
		}
	})
}

// badRecords produces 0..99 and, between them, three records that do not
// parse, one with a header; it returns the offsets of the bad ones in
// partition 1.
func badRecords(t *testing.T, brokers []string) []int64 {
	t.Helper()
	var recs []*kgo.Record
	var bad []int64
	for i := range 100 {
		if i%40 == 10 {
			bad = append(bad, int64(len(recs)))
			recs = append(recs, &kgo.Record{Topic: topic, Partition: 1, Key: []byte("k" + strconv.Itoa(i)), Value: []byte("bad " + strconv.Itoa(i)),
				Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("test")}}})
		}
		recs = append(recs, &kgo.Record{Topic: topic, Partition: 1, Value: []byte(strconv.Itoa(i))})
	}
	produceTo(t, brokers, recs...)
	return bad
}

// TestReaderSkipsBadRecords skips the records Deserialize rejects: it
// reads the others, counts the skipped ones and logs them at most once a
// second, with the offset and the total.
func TestReaderSkipsBadRecords(t *testing.T) {
	brokers := startKafka(t)
	badRecords(t, brokers)
	cfg := kafka.Config[int64]{Brokers: brokers, Topics: []string{topic}, Deserialize: kafka.Int64,
		OnDeserializeError: kafka.Skip(), MaxPollRecords: 10}
	ctx := newFakeContext(t, 0, 1)
	ctx.now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // a clock that stands still
	r := openReader(t, cfg, ctx, nil)
	var got []record
	out := fakeOutput{recs: &got, done: new([]string)}
	pollUntil(t, r, ctx, out, func() bool { return len(got) >= 100 })
	if !slices.Equal(values(got), seq(0, 100)) {
		t.Errorf("read %v, want 0..99", values(got))
	}
	if n, _ := ctx.metrics.Value(metrichook.KafkaRecordsSkipped, partLabels(topic, 1)...); n != 3 {
		t.Errorf("%s = %v, want 3", metrichook.KafkaRecordsSkipped, n)
	}
	lines := func() []string {
		var ls []string
		for l := range strings.Lines(ctx.log.String()) {
			if strings.Contains(l, "rejected a record") {
				ls = append(ls, l)
			}
		}
		return ls
	}
	if ls := lines(); len(ls) != 1 || !strings.Contains(ls[0], "offset=10 ") || !strings.Contains(ls[0], "rejected_total=1") {
		t.Errorf("within a second, want one line about the first record (offset 10), got %q", ls)
	}

	// A second later, the next bad record is logged with the count since.
	ctx.now = ctx.now.Add(time.Second)
	produceTo(t, brokers, &kgo.Record{Topic: topic, Partition: 1, Value: []byte("bad")}, &kgo.Record{Topic: topic, Partition: 1, Value: []byte("100")})
	pollUntil(t, r, ctx, out, func() bool { return len(got) >= 101 })
	if ls := lines(); len(ls) != 2 || !strings.Contains(ls[1], "offset=103 ") || !strings.Contains(ls[1], "rejected_since_last_log=3") ||
		!strings.Contains(ls[1], "rejected_total=4") || !strings.Contains(ls[1], "invalid syntax") {
		t.Errorf("a second later, want a line about offset 103 with 3 since the last and 4 in total, got %q", ls)
	}
}

// TestReaderDeadLettersBadRecords produces the records Deserialize
// rejects to a dead-letter topic, unchanged (key, value, headers), with
// headers naming their topic, partition and offset and the error; they
// are acknowledged when Snapshot returns. A dead-letter topic that does
// not exist fails the open, permanently.
func TestReaderDeadLettersBadRecords(t *testing.T) {
	const dlq = "numbers-dlq"
	c := startCluster(t, dlq)
	brokers := c.ListenAddrs()
	bad := badRecords(t, brokers)
	cfg := kafka.Config[int64]{Brokers: brokers, Topics: []string{topic}, Bounded: true, Deserialize: kafka.Int64,
		OnDeserializeError: kafka.DeadLetter(dlq)}
	ctx := newFakeContext(t, 0, 1)
	r := openReader(t, cfg, ctx, nil)
	var got []record
	if st := pollUntil(t, r, ctx, fakeOutput{recs: &got, done: new([]string)}, func() bool { return false }); st != stream.Done {
		t.Fatalf("poll status %v, want Done", st)
	}
	if !slices.Equal(values(got), seq(0, 100)) {
		t.Errorf("read %v, want 0..99", values(got))
	}
	if _, err := r.Snapshot(1); err != nil {
		t.Fatal(err)
	}
	// Acknowledged when Snapshot returned.
	if n, _ := ctx.metrics.Value(metrichook.KafkaRecordsDeadLettered, partLabels(topic, 1)...); n != 3 {
		t.Errorf("%s = %v after Snapshot, want 3", metrichook.KafkaRecordsDeadLettered, n)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(dlq))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var letters []*kgo.Record
	pctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	for len(letters) < len(bad) {
		fs := cl.PollFetches(pctx)
		if err := fs.Err(); err != nil {
			t.Fatal(err)
		}
		letters = append(letters, fs.Records()...)
	}
	for i, l := range letters {
		h := map[string]string{}
		for _, kv := range l.Headers {
			h[kv.Key] = string(kv.Value)
		}
		n := 10 + 40*i
		want := map[string]string{"origin": "test", kafka.HeaderSourceTopic: topic, kafka.HeaderSourcePartition: "1",
			kafka.HeaderSourceOffset: strconv.FormatInt(bad[i], 10)}
		for k, v := range want {
			if h[k] != v {
				t.Errorf("dead letter %d: header %s = %q, want %q", i, k, h[k], v)
			}
		}
		if !strings.Contains(h[kafka.HeaderError], "invalid syntax") || h[kafka.HeaderSourceTimestamp] == "" {
			t.Errorf("dead letter %d: headers %v lack the error or the timestamp", i, h)
		}
		if string(l.Key) != "k"+strconv.Itoa(n) || string(l.Value) != "bad "+strconv.Itoa(n) {
			t.Errorf("dead letter %d: key %q value %q, want the record's", i, l.Key, l.Value)
		}
	}

	missing := cfg
	missing.OnDeserializeError = kafka.DeadLetter("no-such-topic")
	_, err = kafka.Source(missing).Open(newFakeContext(t, 0, 1), nil)
	if err == nil || !operator.IsPermanent(err) || !strings.Contains(err.Error(), `dead-letter topic "no-such-topic" does not exist`) {
		t.Errorf("Open with a missing dead-letter topic = %v, want a permanent error naming it", err)
	}

	t.Run("delivery fails", func(t *testing.T) {
		// The brokers refuse every dead letter: Snapshot and the next Poll
		// fail, naming the record, and a restart may mend it.
		c.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			req := kreq.(*kmsg.ProduceRequest)
			resp := req.ResponseKind().(*kmsg.ProduceResponse)
			for _, rt := range req.Topics {
				st := kmsg.NewProduceResponseTopic()
				st.Topic, st.TopicID = rt.Topic, rt.TopicID
				for _, rp := range rt.Partitions {
					sp := kmsg.NewProduceResponseTopicPartition()
					sp.Partition = rp.Partition
					sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
					st.Partitions = append(st.Partitions, sp)
				}
				resp.Topics = append(resp.Topics, st)
			}
			return resp, nil, true
		})
		unbounded := cfg
		unbounded.Bounded = false
		ctx := newFakeContext(t, 0, 1)
		r := openReader(t, unbounded, ctx, nil)
		var got []record
		out := fakeOutput{recs: &got, done: new([]string)}
		if st := pollUntil(t, r, ctx, out, func() bool { return len(got) >= 100 }); st != stream.More {
			t.Fatalf("poll status %v before reading the records", st)
		}
		_, err := r.Snapshot(1)
		want := `producing the dead letter of the record at topic numbers partition 1 offset 10 to topic "numbers-dlq"`
		if err == nil || operator.IsPermanent(err) || !strings.Contains(err.Error(), want) {
			t.Fatalf("Snapshot = %v, want an error saying %q that a restart may mend", err, want)
		}
		if _, _, err := r.Poll(ctx.ctx, out); err == nil {
			t.Error("Poll after a failed dead letter succeeded")
		}
	})
}
