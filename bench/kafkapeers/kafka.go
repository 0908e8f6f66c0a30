package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/internal/datagen"
)

// topic is the one topic every run reads.
const topic = "peers"

// kafka is the in-process kfake cluster (one broker) holding the topic.
type kafka struct {
	c       *kfake.Cluster
	brokers []string
}

func startKafka(partitions int) (*kafka, error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(partitions), topic))
	if err != nil {
		return nil, fmt.Errorf("starting kfake: %w", err)
	}
	return &kafka{c: c, brokers: c.ListenAddrs()}, nil
}

// fill produces n records, value i and key i mod keys in decimal (tide
// datagen's verify payload), flat out, partitioned as goka's emitter does
// (gokaPartitioner), and returns how long it took.
func (k *kafka) fill(ctx context.Context, n int64, keys int) (time.Duration, error) {
	res, err := datagen.Run(ctx, datagen.Config{Brokers: k.brokers, Topic: topic,
		Shape: datagen.ShapeConfig{Name: "constant", Rate: 1e9}, Count: n, Payload: datagen.Verify{Keys: int64(keys)},
		Opts: []kgo.Opt{kgo.RecordPartitioner(gokaPartitioner{})}})
	if err != nil {
		return 0, fmt.Errorf("filling %s: %w", topic, err)
	}
	if res.Acked != n {
		return 0, fmt.Errorf("filling %s: %d of %d records acknowledged", topic, res.Acked, n)
	}
	return res.Elapsed, nil
}

func (k *kafka) close() { k.c.Close() }

// gokaPartitioner puts a record in the partition goka's processor looks
// its key up in (goka's DefaultHasher and Processor.hash): FNV-1a of the
// key as an int32, made positive by negation, mod the partitions. A topic
// partitioned otherwise (kgo's default is Kafka's murmur2) is still
// counted right by goka, but its Get looks in the wrong partition.
type gokaPartitioner struct{}

func (gokaPartitioner) ForTopic(string) kgo.TopicPartitioner { return gokaPartitioner{} }
func (gokaPartitioner) RequiresConsistency(*kgo.Record) bool { return true }
func (gokaPartitioner) Partition(r *kgo.Record, n int) int {
	h := fnv.New32a()
	h.Write(r.Key)
	v := int32(h.Sum32())
	if v < 0 {
		v = -v
	}
	return int(v % int32(n))
}

// meter counts a run's records and notes when the first and the n-th
// arrived. Any goroutine may call add.
type meter struct {
	n     int64
	count atomic.Int64
	mu    sync.Mutex // guards first and last
	first time.Time
	last  time.Time
	done  chan struct{} // closed when the count reaches n
}

func newMeter(n int64) *meter { return &meter{n: n, done: make(chan struct{})} }

// add counts k records that just arrived.
func (m *meter) add(k int) {
	if k == 0 {
		return
	}
	c := m.count.Add(int64(k))
	if c == int64(k) || c >= m.n {
		now := time.Now()
		m.mu.Lock()
		if c == int64(k) {
			m.first = now
		}
		if c >= m.n && m.last.IsZero() {
			m.last = now
			close(m.done)
		}
		m.mu.Unlock()
	}
}

// result is the meter's reading for a run that started at start and was
// ready to read at ready (zero, or later than the first record: at the
// first record); it fails unless exactly n records were counted.
func (m *meter) result(start, ready time.Time) (result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.count.Load(); c != m.n || m.last.IsZero() {
		return result{}, fmt.Errorf("counted %d records, want %d", c, m.n)
	}
	if ready.IsZero() || m.first.Before(ready) {
		ready = m.first
	}
	return result{records: m.n, start: start, ready: ready, last: m.last}, nil
}
