package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	tidekafka "github.com/tide-stream/tide/kafka"
	"github.com/tide-stream/tide/stream"
)

// tideSourceSystem is Tide's Kafka source, bounded (it finishes at the end
// offsets it found at the start), into a sink that counts the records in
// batches as they come: the source → discard job, on one in-process
// TaskManager with --parallelism slots. Its deserializer touches each
// record's value, as the franz-go loop does.
func tideSourceSystem() system {
	return system{name: "tide-source", run: func(ctx context.Context, k *kafka, o options, _ int, logs io.Writer) (result, error) {
		m := newMeter(o.records)
		job := func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidekafka.Source(tidekafka.Config[int]{
				Brokers: k.brokers, Topics: []string{topic}, Bounded: true, MaxPollRecords: o.maxPoll, IdleWait: o.idleWait,
				Deserialize: func(_, v []byte) (int, error) { return len(v), nil },
			}))
			stream.SinkTo(src, "Count", func() stream.SinkWriter[int] { return &countWriter[int]{m: m} })
			return nil
		}
		start := time.Now()
		ready, err := runTide(ctx, "tide-source", job, o, 0, logs)
		if err != nil {
			return result{}, err
		}
		return m.result(start, ready)
	}}
}

// tideKeyedSystem counts the records per key: Tide's Kafka source (the
// record key as a string) → KeyBy(key) → a keyed function that keeps the
// count in ValueState and emits (key, count) after every record → a sink
// that counts the outputs and keeps each key's last count, checked at the
// end. Checkpoints every --checkpoint-interval.
func tideKeyedSystem() system {
	return system{name: "tide-keyed", run: func(ctx context.Context, k *kafka, o options, _ int, logs io.Writer) (result, error) {
		m := newMeter(o.records)
		final := &finalCounts{counts: map[string]int64{}}
		job := func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidekafka.Source(tidekafka.Config[string]{
				Brokers: k.brokers, Topics: []string{topic}, Bounded: true, MaxPollRecords: o.maxPoll, IdleWait: o.idleWait,
				Deserialize: func(key, _ []byte) (string, error) { return string(key), nil },
			}), stream.UID("source"))
			counts := stream.Process(stream.KeyBy(src, func(key string) string { return key }), "Count",
				func() stream.ProcessFunction[string, string, keyCount] { return &countFn{} }, stream.UID("count"))
			stream.SinkTo(counts, "Tally", func() stream.SinkWriter[keyCount] { return &tallyWriter{m: m, final: final} })
			return nil
		}
		start := time.Now()
		ready, err := runTide(ctx, "tide-keyed", job, o, o.checkpoint, logs)
		if err != nil {
			return result{}, err
		}
		if err := final.check(o.records, o.keys); err != nil {
			return result{}, err
		}
		return m.result(start, ready)
	}}
}

// runTide runs job on one TaskManager of o.parallelism slots until it
// finishes, and returns when it was first RUNNING.
func runTide(ctx context.Context, name string, job stream.JobFunc, o options, interval time.Duration, logs io.Writer) (time.Time, error) {
	c, err := startTide(name, job, nil, 1, o.parallelism, interval, logs)
	if err != nil {
		return time.Time{}, err
	}
	defer c.stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	return c.wait(ctx)
}

// countWriter counts what it is given and drops it.
type countWriter[T any] struct{ m *meter }

func (w *countWriter[T]) Open(context.Context, stream.SinkContext, [][]byte) error { return nil }
func (w *countWriter[T]) Write(context.Context, T) error                           { w.m.add(1); return nil }
func (w *countWriter[T]) WriteBatch(_ context.Context, vs []T) error {
	w.m.add(len(vs))
	return nil
}
func (w *countWriter[T]) PreCommit(context.Context, uint64) ([][]byte, error) { return nil, nil }
func (w *countWriter[T]) Commit(context.Context, uint64) error                { return nil }
func (w *countWriter[T]) Close() error                                        { return nil }

// keyCount is a key's count after a record.
type keyCount struct {
	Key   string
	Count int64
}

// countFn counts the records of each key in ValueState.
type countFn struct {
	n *stream.ValueState[string, int64]
}

func (f *countFn) Open(rt *stream.KeyedRuntime[string]) error {
	var err error
	f.n, err = stream.Value[int64](rt, "count")
	return err
}

func (f *countFn) Process(key string, _ string, out stream.Collector[keyCount]) error {
	n := f.n.Value() + 1
	f.n.Update(n)
	out.Emit(keyCount{Key: key, Count: n})
	return nil
}

// tallyWriter counts the outputs and keeps each key's last count; Close
// hands them to final.
type tallyWriter struct {
	m     *meter
	final *finalCounts
	last  map[string]int64
}

func (w *tallyWriter) Open(context.Context, stream.SinkContext, [][]byte) error {
	w.last = map[string]int64{}
	return nil
}

func (w *tallyWriter) Write(_ context.Context, v keyCount) error {
	w.last[v.Key] = v.Count
	w.m.add(1)
	return nil
}

func (w *tallyWriter) WriteBatch(_ context.Context, vs []keyCount) error {
	for _, v := range vs {
		w.last[v.Key] = v.Count
	}
	w.m.add(len(vs))
	return nil
}

func (w *tallyWriter) PreCommit(context.Context, uint64) ([][]byte, error) { return nil, nil }
func (w *tallyWriter) Commit(context.Context, uint64) error                { return nil }
func (w *tallyWriter) Close() error {
	w.final.merge(w.last)
	return nil
}

// finalCounts gathers the keys' last counts of every sink subtask.
type finalCounts struct {
	mu     sync.Mutex // guards counts
	counts map[string]int64
}

func (f *finalCounts) merge(m map[string]int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, n := range m {
		f.counts[k] = max(f.counts[k], n)
	}
}

// check fails unless key k (of keys) counted the records i < n with
// i mod keys = k.
func (f *finalCounts) check(n int64, keys int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return checkCounts(n, keys, func(key string) int64 { return f.counts[key] }, len(f.counts))
}

// checkCounts fails unless get(key) is key's count of the records i < n,
// key i mod keys, for every key, and there are no other keys.
func checkCounts(n int64, keys int, get func(key string) int64, found int) error {
	if found != keys {
		return fmt.Errorf("%d keys counted, want %d", found, keys)
	}
	for k := range keys {
		want := n / int64(keys)
		if int64(k) < n%int64(keys) {
			want++
		}
		if got := get(strconv.Itoa(k)); got != want {
			return fmt.Errorf("key %d counted %d records, want %d", k, got, want)
		}
	}
	return nil
}
