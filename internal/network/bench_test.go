package network

import (
	"context"
	"sync"
	"testing"
)

const benchMessageSize = 32 << 10

// benchThroughput sends b.N messages of 32 KiB over one channel with 4
// credits while a consumer goroutine receives and releases them.
func benchThroughput(b *testing.B, remote bool) {
	ctx := context.Background()
	cons := newManager(b, func(c *Config) { c.CreditsPerChannel = 4 })
	prod := cons
	if remote {
		prod = newManager(b)
	}
	id := chanID(1, 0)
	g, err := cons.OpenInput([]ChannelID{id})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	o, err := prod.OpenOutput(ctx, id, cons.Addr())
	if err != nil {
		b.Fatal(err)
	}
	// Payloads are handed over, so each Send needs its own; preallocate a
	// ring larger than the credits so the producer does not measure make.
	// Reusing a slot after 64 messages is safe here because the consumer
	// only reads the payload's length.
	var ring [64][]byte
	for i := range ring {
		ring[i] = make([]byte, benchMessageSize)
	}
	var wg sync.WaitGroup
	var got int
	wg.Go(func() {
		for {
			msg, err := g.Next(ctx)
			if err != nil {
				return
			}
			got += len(msg.Payload)
			g.Release(msg.Channel)
		}
	})
	b.SetBytes(benchMessageSize)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := o.Send(ctx, 1, ring[i%len(ring)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := o.Close(); err != nil {
		b.Fatal(err)
	}
	wg.Wait()
	b.StopTimer()
	if got != b.N*benchMessageSize {
		b.Fatalf("received %d bytes, want %d", got, b.N*benchMessageSize)
	}
}

func BenchmarkRemoteThroughput(b *testing.B) { benchThroughput(b, true) }

func BenchmarkLocalThroughput(b *testing.B) { benchThroughput(b, false) }
