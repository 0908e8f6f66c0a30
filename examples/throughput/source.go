package throughput

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"time"

	"github.com/tide-stream/tide/stream"
)

// batch is the number of records one Poll emits at most.
const batch = 1024

// Source returns the Throughput source. log receives progress lines when
// o.Progress > 0; it may be nil otherwise.
func Source(o Options, log *slog.Logger) stream.Source[Record] {
	return stream.Source[Record]{
		Name: "ThroughputSource",
		Open: func(ctx stream.SourceContext, restored [][]byte) (stream.SourceReader[Record], error) {
			return newReader(o, log, ctx, restored)
		},
	}
}

// split is one split's position: it owns records id, id+S, id+2S, … and
// has emitted the first next of them.
type split struct {
	id   int64
	next int64
}

// reader reads the splits of one source subtask. It is used by the
// subtask's goroutine only.
type reader struct {
	o        Options
	log      *slog.Logger
	now      func() time.Time
	subtask  int
	splits   []split
	start    time.Time
	emitted  int64 // since this reader opened, for pacing and progress
	reported time.Time
	done     bool
}

func newReader(o Options, log *slog.Logger, ctx stream.SourceContext, restored [][]byte) (*reader, error) {
	r := &reader{o: o, log: log, now: ctx.Now, subtask: ctx.Subtask()}
	if restored == nil {
		for s := ctx.Subtask(); s < o.Splits; s += ctx.Parallelism() {
			r.splits = append(r.splits, split{id: int64(s)})
		}
	} else {
		for _, e := range restored {
			if len(e) != 16 {
				return nil, fmt.Errorf("Throughput source: split state of %d bytes, want 16", len(e))
			}
			s := split{id: int64(binary.BigEndian.Uint64(e)), next: int64(binary.BigEndian.Uint64(e[8:]))}
			if s.id < 0 || s.id >= int64(o.Splits) || s.next < 0 {
				return nil, fmt.Errorf("Throughput source: split state (%d, %d) out of range for %d splits", s.id, s.next, o.Splits)
			}
			r.splits = append(r.splits, s)
		}
	}
	r.start = r.now()
	return r, nil
}

// Poll emits up to batch records, spread over the reader's live splits.
func (r *reader) Poll(_ context.Context, out stream.SourceOutput[Record]) (stream.PollStatus, time.Duration, error) {
	if len(r.splits) == 0 {
		// More subtasks than splits: this one has nothing to read.
		return stream.Done, 0, nil
	}
	budget := int64(batch)
	if r.o.Rate > 0 {
		share := r.o.Rate * float64(len(r.splits)) / float64(r.o.Splits)
		due := int64(r.now().Sub(r.start).Seconds()*share) - r.emitted
		if due <= 0 {
			return stream.Idle, time.Duration(float64(time.Second) / max(share, 1e-3)), nil
		}
		budget = min(budget, due)
	}
	first := r.emitted == 0
	live := false
	per := budget/int64(max(len(r.splits), 1)) + 1
	S, N, K := int64(r.o.Splits), r.o.Records, r.o.Keys
	for k := range r.splits {
		s := &r.splits[k]
		for range per {
			i := s.id + s.next*S
			if N > 0 && i >= N {
				break
			}
			out.Emit(Generate(i, K))
			s.next++
			r.emitted++
		}
		if N == 0 || s.id+s.next*S < N {
			live = true
		}
	}
	if r.log != nil {
		r.logProgress(first, live)
	}
	if !live {
		r.done = true
		return stream.Done, 0, nil
	}
	return stream.More, 0, nil
}

// logProgress writes the first-record, periodic and end lines.
func (r *reader) logProgress(first, live bool) {
	now := r.now()
	switch {
	case first && r.emitted > 0:
		r.log.Info("throughput source first record", "subtask", r.subtask, "position", r.Position(), "at", now.UnixNano())
		r.reported = now
	case !live && !r.done:
		r.log.Info("throughput source done", "subtask", r.subtask, "position", r.Position(), "emitted", r.emitted, "at", now.UnixNano())
	case now.Sub(r.reported) >= r.o.Progress:
		r.log.Info("throughput source progress", "subtask", r.subtask, "position", r.Position(), "emitted", r.emitted, "at", now.UnixNano())
		r.reported = now
	}
}

// Snapshot returns one 16-byte entry (split id, next) per split.
func (r *reader) Snapshot(uint64) ([][]byte, error) {
	out := make([][]byte, len(r.splits))
	for k, s := range r.splits {
		e := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(s.id))
		out[k] = binary.BigEndian.AppendUint64(e, uint64(s.next))
	}
	return out, nil
}

// Position is the number of records the reader's splits have emitted since
// the job's first start.
func (r *reader) Position() int64 {
	var p int64
	for _, s := range r.splits {
		p += s.next
	}
	return p
}

// Close releases nothing; the reader holds no resources.
func (r *reader) Close() error { return nil }
