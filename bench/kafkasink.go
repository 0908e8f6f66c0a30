package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/internal/kafkaread"
	"github.com/tide-stream/tide/kafka"
	"github.com/tide-stream/tide/stream"
)

// kafkaSinkOptions are the flags of `bench kafkasink`.
type kafkaSinkOptions struct {
	records     int
	parallelism int
	interval    time.Duration
	runs        int
}

func (o *kafkaSinkOptions) bind(fs *flag.FlagSet) {
	fs.IntVar(&o.records, "sink-records", 2_000_000, "records per run, over all sink subtasks")
	fs.IntVar(&o.parallelism, "sink-parallelism", 2, "sink subtasks (writers), one goroutine each")
	fs.DurationVar(&o.interval, "sink-checkpoint-interval", time.Second, "time between checkpoints (PreCommit, then Commit) of each writer")
	fs.IntVar(&o.runs, "sink-runs", 3, "runs of each guarantee, alternating")
}

func (o *kafkaSinkOptions) validate() error {
	var errs []error
	if o.records < 1000 {
		errs = append(errs, errors.New("--sink-records must be at least 1000"))
	}
	if o.parallelism < 1 {
		errs = append(errs, errors.New("--sink-parallelism must be at least 1"))
	}
	if o.interval < 10*time.Millisecond {
		errs = append(errs, errors.New("--sink-checkpoint-interval must be at least 10ms"))
	}
	if o.runs < 1 {
		errs = append(errs, errors.New("--sink-runs must be at least 1"))
	}
	return errors.Join(errs...)
}

// benchSinkContext is the SinkContext of a writer driven by the benchmark.
type benchSinkContext struct{ subtask, parallelism int }

func (c benchSinkContext) JobID() string              { return "bench-kafkasink" }
func (c benchSinkContext) Subtask() int               { return c.subtask }
func (c benchSinkContext) Parallelism() int           { return c.parallelism }
func (c benchSinkContext) Attempt() uint64            { return 1 }
func (c benchSinkContext) RestoredCheckpoint() uint64 { return 0 }

// runKafkaSink measures the Kafka sink's throughput at each guarantee, side
// by side in one process: a 3-broker kfake cluster; per run a new
// 6-partition topic and --sink-parallelism writers (the sink subtasks'
// SinkWriters, driven as the runtime drives them: Write for every record,
// PreCommit then Commit every --sink-checkpoint-interval, a last one at the
// end). A run's time ends when its last records are committed; its records
// are then read back read_committed and must all be there, once.
func runKafkaSink(ctx context.Context, o kafkaSinkOptions, rep *Report, stderr io.Writer) error {
	c, err := kfake.NewCluster(kfake.NumBrokers(3))
	if err != nil {
		return fmt.Errorf("kafkasink: starting kfake: %w", err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return fmt.Errorf("kafkasink: %w", err)
	}
	defer cl.Close()
	rates := map[kafka.Guarantee][]float64{}
	for run := range o.runs {
		for _, g := range []kafka.Guarantee{kafka.AtLeastOnce, kafka.ExactlyOnce} {
			topic := fmt.Sprintf("sink-%d-%s", run, g)
			if _, err := kadm.NewClient(cl).CreateTopic(ctx, 6, 1, nil, topic); err != nil {
				return fmt.Errorf("kafkasink: creating %s: %w", topic, err)
			}
			elapsed, checkpoints, err := sinkRun(ctx, o, brokers, topic, g, run)
			if err != nil {
				return fmt.Errorf("kafkasink: %s run %d: %w", g, run+1, err)
			}
			var n int64
			if _, err := kafkaread.Committed(ctx, cl, topic, func(*kgo.Record) error { n++; return nil }); err != nil {
				return fmt.Errorf("kafkasink: reading %s back: %w", topic, err)
			}
			if n != int64(o.records) {
				return fmt.Errorf("kafkasink: %s run %d: %d records committed, want %d", g, run+1, n, o.records)
			}
			rate := float64(o.records) / elapsed.Seconds()
			rates[g] = append(rates[g], rate)
			fmt.Fprintf(stderr, "kafkasink: %s run %d: %d records in %v (%d checkpoints): %.0f records/s\n",
				g, run+1, o.records, elapsed.Round(time.Millisecond), checkpoints, rate)
		}
	}
	note := fmt.Sprintf("%d records of ~20 B, %d writers, checkpoint every %v, 3-broker kfake in the same process, 6 partitions",
		o.records, o.parallelism, o.interval)
	rep.add("Kafka sink throughput, at-least-once", "records/s", rates[kafka.AtLeastOnce], nil, note)
	rep.add("Kafka sink throughput, exactly-once", "records/s", rates[kafka.ExactlyOnce], nil, note)
	return nil
}

// sinkRun writes o.records records through o.parallelism writers and
// returns the time until the last is committed and the checkpoints taken.
func sinkRun(ctx context.Context, o kafkaSinkOptions, brokers []string, topic string, g kafka.Guarantee, run int) (time.Duration, int, error) {
	newWriter := kafka.Sink(kafka.SinkConfig[int64]{
		Brokers: brokers, Topic: topic, Guarantee: g, TransactionalIDPrefix: fmt.Sprintf("bench-%d", run),
		Serialize: func(v int64) ([]byte, []byte, error) {
			return strconv.AppendInt(nil, v%1024, 10), fmt.Appendf(nil, "%d,%d,%d", v%1024, v/1024, v), nil
		},
	})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	writers := make([]stream.SinkWriter[int64], o.parallelism)
	for i := range writers {
		writers[i] = newWriter()
		if err := writers[i].Open(ctx, benchSinkContext{i, o.parallelism}, nil); err != nil {
			return 0, 0, err
		}
		defer writers[i].Close()
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, o.parallelism)
	cps := make([]int, o.parallelism)
	for i, w := range writers {
		wg.Add(1)
		go func() { // owner: sinkRun, which waits for it
			defer wg.Done()
			cp := uint64(0)
			checkpoint := func() error {
				cp++
				if _, err := w.PreCommit(ctx, cp); err != nil {
					return err
				}
				return w.Commit(ctx, cp)
			}
			next := start.Add(o.interval)
			for v := int64(i); v < int64(o.records); v += int64(o.parallelism) {
				if err := w.Write(ctx, v); err != nil {
					errs[i] = err
					cancel()
					return
				}
				if v%1024 < int64(o.parallelism) && time.Now().After(next) {
					if err := checkpoint(); err != nil {
						errs[i] = err
						cancel()
						return
					}
					next = time.Now().Add(o.interval)
				}
			}
			errs[i] = checkpoint()
			cps[i] = int(cp)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, 0, err
	}
	return elapsed, cps[0], nil
}
