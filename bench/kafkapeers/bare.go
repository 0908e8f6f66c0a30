package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// bareSystem is a plain franz-go consumer: one client reading every
// partition from the start (direct assignment, no group), polling fetches
// and touching each record's value, as the Tide job's deserializer does.
func bareSystem() system {
	return system{name: "franz-go", run: func(ctx context.Context, k *kafka, o options, _ int, _ io.Writer) (result, error) {
		m := newMeter(o.records)
		start := time.Now()
		cl, err := kgo.NewClient(kgo.SeedBrokers(k.brokers...), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			return result{}, err
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(ctx, o.timeout)
		defer cancel()
		var bytes int
		for m.count.Load() < o.records {
			fs := cl.PollFetches(ctx)
			if err := fs.Err0(); err != nil {
				return result{}, fmt.Errorf("polling after %d records: %w", m.count.Load(), err)
			}
			n := 0
			fs.EachRecord(func(r *kgo.Record) {
				bytes += len(r.Value)
				n++
			})
			m.add(n)
		}
		if bytes == 0 {
			return result{}, fmt.Errorf("the records have empty values")
		}
		return m.result(start, start)
	}}
}
