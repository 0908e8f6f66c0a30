package tidetest

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/tide-stream/tide/stream"
)

// SourceOption configures a SliceSource.
type SourceOption interface{ apply(*sourceConfig) }

type sourceConfig struct {
	splits int
	rate   float64
	batch  int
}

type sourceOptionFunc func(*sourceConfig)

func (f sourceOptionFunc) apply(c *sourceConfig) { f(c) }

// Splits divides the values into n splits: split s holds the values at the
// indexes i with i mod n == s, in increasing i. Splits are the unit of
// parallelism (a source subtask reads whole splits) and of redistribution on
// rescale. Default 8, at most len(values).
func Splits(n int) SourceOption { return sourceOptionFunc(func(c *sourceConfig) { c.splits = n }) }

// Rate paces the source at r records per second over all its splits, so
// that a job lasts long enough to rescale it. Default 0: as fast as it can.
func Rate(r float64) SourceOption { return sourceOptionFunc(func(c *sourceConfig) { c.rate = r }) }

// SliceSource returns a bounded source that emits every element of values
// exactly once per job, across checkpoints, restarts and rescales: its state
// is each split's next index, redistributed by split on restore. Within one
// split, values keep their order; so records whose split is a function of
// their key (a key k of records i mod K with K a multiple of the number of
// splits, say) reach a keyed operator in index order.
//
// Each split's records go through their own SourceOutput.Split, so that
// under a watermark strategy each split has a watermark of its own, as a
// Kafka partition has.
//
// It is for tests: values must be identical in every process of the
// cluster, which holds in a test cluster since they all share the slice.
func SliceSource[T any](name string, values []T, opts ...SourceOption) stream.Source[T] {
	cfg := sourceConfig{splits: 8, batch: 256}
	for _, o := range opts {
		o.apply(&cfg)
	}
	cfg.splits = max(1, min(cfg.splits, len(values)))
	return stream.Source[T]{
		Name: name,
		Open: func(ctx stream.SourceContext, restored [][]byte) (stream.SourceReader[T], error) {
			return newSliceReader(cfg, values, ctx, restored)
		},
	}
}

// sliceSplit is one split's position: the index, within the split, of its
// next value.
type sliceSplit struct {
	id   int
	next int
}

type sliceReader[T any] struct {
	cfg     sourceConfig
	values  []T
	splits  []*sliceSplit
	now     func() time.Time
	start   time.Time
	emitted int64
}

func newSliceReader[T any](cfg sourceConfig, values []T, ctx stream.SourceContext, restored [][]byte) (*sliceReader[T], error) {
	r := &sliceReader[T]{cfg: cfg, values: values, now: ctx.Now}
	if restored == nil {
		for s := ctx.Subtask(); s < cfg.splits; s += ctx.Parallelism() {
			r.splits = append(r.splits, &sliceSplit{id: s})
		}
	}
	for _, e := range restored {
		if len(e) != 16 {
			return nil, fmt.Errorf("slice source: split state of %d bytes, want 16", len(e))
		}
		sp := &sliceSplit{id: int(binary.BigEndian.Uint64(e)), next: int(binary.BigEndian.Uint64(e[8:]))}
		// A split holds its values at id, id+splits, …: next is at most
		// their count (an index beyond it would overflow, not end the split).
		if sp.id < 0 || sp.id >= cfg.splits || sp.next < 0 || sp.next > (len(values)-sp.id+cfg.splits-1)/cfg.splits {
			return nil, fmt.Errorf("slice source: split state (%d, %d) out of range for %d splits of %d values", sp.id, sp.next, cfg.splits, len(values))
		}
		r.splits = append(r.splits, sp)
	}
	r.start = r.now()
	return r, nil
}

// index returns the index in values of split s's j-th value.
func (r *sliceReader[T]) index(s *sliceSplit, j int) int { return s.id + j*r.cfg.splits }

func (r *sliceReader[T]) Poll(_ context.Context, out stream.SourceOutput[T]) (stream.PollStatus, time.Duration, error) {
	if len(r.splits) == 0 {
		// More subtasks than splits: this one has nothing to read.
		return stream.Done, 0, nil
	}
	budget := int64(r.cfg.batch)
	if r.cfg.rate > 0 {
		share := r.cfg.rate * float64(len(r.splits)) / float64(r.cfg.splits)
		due := int64(r.now().Sub(r.start).Seconds()*share) - r.emitted
		if due <= 0 {
			return stream.Idle, time.Duration(float64(time.Second) / max(share, 1e-3)), nil
		}
		budget = min(budget, due)
	}
	live := false
	for _, s := range r.splits {
		if r.index(s, s.next) >= len(r.values) {
			continue
		}
		so := out.Split(strconv.Itoa(s.id))
		for i := int64(0); i < budget/int64(len(r.splits))+1; i++ {
			idx := r.index(s, s.next)
			if idx >= len(r.values) {
				break
			}
			so.Emit(r.values[idx])
			s.next++
			r.emitted++
		}
		if r.index(s, s.next) < len(r.values) {
			live = true
		} else {
			out.SplitDone(strconv.Itoa(s.id))
		}
	}
	if !live {
		return stream.Done, 0, nil
	}
	return stream.More, 0, nil
}

func (r *sliceReader[T]) Snapshot(uint64) ([][]byte, error) {
	out := make([][]byte, len(r.splits))
	for i, s := range r.splits {
		e := binary.BigEndian.AppendUint64(nil, uint64(s.id))
		out[i] = binary.BigEndian.AppendUint64(e, uint64(s.next))
	}
	return out, nil
}

func (r *sliceReader[T]) Position() int64 {
	var p int64
	for _, s := range r.splits {
		p += int64(s.next)
	}
	return p
}

func (r *sliceReader[T]) Close() error { return nil }
