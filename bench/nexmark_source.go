package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/tide-stream/tide/bench/nexmark"
	"github.com/tide-stream/tide/stream"
)

// nexmarkSource generates the Nexmark stream of cfg at parallelism p, as
// nexmark-flink's source does: subtask i runs generator i of cfg.Split(p)
// at max speed and stamps each event with its dateTime, so the stream is
// the one the reference reads (nexmarkEvents) whatever the timing.
func nexmarkSource(cfg nexmark.Config, p int) stream.Source[nexmark.Event] {
	return stream.Source[nexmark.Event]{
		Name: "Nexmark",
		Open: func(ctx stream.SourceContext, restored [][]byte) (stream.SourceReader[nexmark.Event], error) {
			if ctx.Parallelism() != p {
				return nil, fmt.Errorf("nexmark source: runs at parallelism %d, the stream was split for %d", ctx.Parallelism(), p)
			}
			parts, err := cfg.Split(p)
			if err != nil {
				return nil, err
			}
			g, err := nexmark.NewGenerator(parts[ctx.Subtask()])
			if err != nil {
				return nil, err
			}
			if len(restored) == 1 && len(restored[0]) == 8 {
				g.Restore(int64(binary.BigEndian.Uint64(restored[0])))
			} else if len(restored) > 0 {
				return nil, fmt.Errorf("nexmark source: %d restored entries, want 1 of 8 bytes", len(restored))
			}
			return &nexmarkReader{g: g}, nil
		},
	}
}

// nexmarkWatermarks is the nexmark SQL's WATERMARK FOR `dateTime` AS
// `dateTime` - INTERVAL '4' SECOND; the source gives the timestamps.
func nexmarkWatermarks() stream.Option {
	return stream.WithWatermarks(stream.BoundedOutOfOrderness[nexmark.Event](time.Duration(nexmark.WatermarkDelay)*time.Millisecond, nil))
}

// pollEvents is how many events one poll emits at most.
const pollEvents = 1024

type nexmarkReader struct {
	g  *nexmark.Generator
	ev nexmark.Event
}

func (r *nexmarkReader) Poll(_ context.Context, out stream.SourceOutput[nexmark.Event]) (stream.PollStatus, time.Duration, error) {
	for range pollEvents {
		if !r.g.Next(&r.ev) {
			return stream.Done, 0, nil
		}
		out.EmitAt(r.ev, r.ev.DateTime())
	}
	return stream.More, 0, nil
}

func (r *nexmarkReader) Snapshot(uint64) ([][]byte, error) {
	return [][]byte{binary.BigEndian.AppendUint64(nil, uint64(r.g.Count()))}, nil
}

func (r *nexmarkReader) Position() int64 { return r.g.Count() }
func (r *nexmarkReader) Close() error    { return nil }

// nexmarkEvents reads the stream nexmarkSource(cfg, p) generates, for the
// references: the generators one after the other (the references do not
// depend on order).
func nexmarkEvents(cfg nexmark.Config, p int) (func(yield func(*nexmark.Event) bool), error) {
	parts, err := cfg.Split(p)
	if err != nil {
		return nil, err
	}
	gens := make([]*nexmark.Generator, len(parts))
	for i, part := range parts {
		if gens[i], err = nexmark.NewGenerator(part); err != nil {
			return nil, err
		}
	}
	return func(yield func(*nexmark.Event) bool) {
		for _, g := range gens {
			for e := range g.Events() {
				if !yield(e) {
					return
				}
			}
		}
	}, nil
}

// fingerprint sums a hash of each row of a result: equal multisets of rows
// give equal fingerprints whatever their order, and a result of millions
// of rows is checked without keeping it.
type fingerprint struct {
	Rows int64
	Sum  uint64
}

func (f *fingerprint) add(h uint64) { f.Rows, f.Sum = f.Rows+1, f.Sum+h }

// mix folds v into the row hash h.
func mix(h uint64, v int64) uint64 {
	h ^= uint64(v)
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>31
}

// results receives a query's output from every sink subtask of one run:
// its fingerprint, and with collect its rows.
type results[R comparable] struct {
	hash    func(maphash.Seed, R) uint64
	seed    maphash.Seed
	collect bool
	mu      struct {
		sync.Mutex
		fp   fingerprint
		rows []R
	}
}

func (r *results[R]) writer() stream.SinkWriter[R] { return &resultWriter[R]{r: r} }

func (r *results[R]) fingerprint(rows []R) fingerprint {
	var f fingerprint
	for _, v := range rows {
		f.add(r.hash(r.seed, v))
	}
	return f
}

// resultWriter is one sink subtask: it hashes and maybe keeps its rows and
// adds them to results when it closes, after the final checkpoint.
type resultWriter[R comparable] struct {
	r    *results[R]
	fp   fingerprint
	rows []R
}

func (w *resultWriter[R]) Open(context.Context, stream.SinkContext, [][]byte) error { return nil }

func (w *resultWriter[R]) Write(_ context.Context, v R) error {
	w.fp.add(w.r.hash(w.r.seed, v))
	if w.r.collect {
		w.rows = append(w.rows, v)
	}
	return nil
}

func (w *resultWriter[R]) WriteBatch(_ context.Context, vs []R) error {
	for _, v := range vs {
		w.fp.add(w.r.hash(w.r.seed, v))
	}
	if w.r.collect {
		w.rows = append(w.rows, vs...)
	}
	return nil
}

func (w *resultWriter[R]) PreCommit(context.Context, uint64) ([][]byte, error) { return nil, nil }
func (w *resultWriter[R]) Commit(context.Context, uint64) error                { return nil }

func (w *resultWriter[R]) Close() error {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	w.r.mu.fp.Rows += w.fp.Rows
	w.r.mu.fp.Sum += w.fp.Sum
	w.r.mu.rows = append(w.r.mu.rows, w.rows...)
	w.fp, w.rows = fingerprint{}, nil
	return nil
}

// got returns what the sink subtasks wrote.
func (r *results[R]) got() (fingerprint, []R) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.fp, r.mu.rows
}
