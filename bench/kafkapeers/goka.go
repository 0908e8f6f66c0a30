package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"
)

// gokaSystem counts the records per key in goka: a processor of a fresh
// group per run, with the topic as input and a group table (int64 counts)
// that every update writes to (its changelog topic), goka's default sarama
// settings except that it reads the input from the oldest offset, and
// in-memory local storage (goka's fastest; its default is LevelDB on
// disk). The counts are checked at the end with the processor's Get. Its
// "reading" time starts at its first record, so its group join and
// partition setup are left out of it.
func gokaSystem() system {
	return system{name: "goka", run: func(ctx context.Context, k *kafka, o options, rep int, logs io.Writer) (result, error) {
		cfg := goka.DefaultConfig()
		cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
		goka.ReplaceGlobalConfig(cfg)
		tmc := goka.NewTopicManagerConfig()
		tmc.Table.Replication, tmc.Stream.Replication = 1, 1
		m := newMeter(o.records)
		group := goka.Group(fmt.Sprintf("peers-goka-%d-%d", rep, time.Now().UnixNano()))
		g := goka.DefineGroup(group,
			goka.Input(goka.Stream(topic), new(codec.String), func(gctx goka.Context, _ any) {
				var n int64
				if v := gctx.Value(); v != nil {
					n = v.(int64)
				}
				gctx.SetValue(n + 1)
				m.add(1)
			}),
			goka.Persist(new(codec.Int64)),
		)
		start := time.Now()
		p, err := goka.NewProcessor(k.brokers, g,
			goka.WithTopicManagerBuilder(goka.TopicManagerBuilderWithTopicManagerConfig(tmc)),
			goka.WithStorageBuilder(storage.MemoryBuilder()),
			goka.WithLogger(log.New(logs, "goka: ", log.LstdFlags)))
		if err != nil {
			return result{}, fmt.Errorf("goka processor: %w", err)
		}
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- p.Run(rctx) }() // owner: this run, which cancels rctx and receives the result
		timeout := time.NewTimer(o.timeout)
		defer timeout.Stop()
		select {
		case <-m.done:
		case err := <-done:
			return result{}, fmt.Errorf("goka processor stopped after %d records: %w", m.count.Load(), err)
		case <-timeout.C:
			cancel()
			<-done
			return result{}, fmt.Errorf("goka: %d of %d records within %v", m.count.Load(), o.records, o.timeout)
		}
		// Its reading starts with its first record: goka's WaitForReady
		// can return before the group has assigned any partition.
		r, rerr := m.result(start, time.Time{})
		var getErr error
		cerr := checkCounts(o.records, o.keys, func(key string) int64 {
			v, err := p.Get(key)
			if err != nil {
				getErr = errors.Join(getErr, err)
			}
			n, _ := v.(int64)
			return n
		}, o.keys)
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			return result{}, fmt.Errorf("goka processor: %w", err)
		}
		if err := errors.Join(rerr, getErr, cerr); err != nil {
			return result{}, err
		}
		return r, nil
	}}
}
