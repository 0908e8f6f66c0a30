package stream

import (
	"math"
	"slices"
	"testing"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
)

// bufWriter is a plan.RecordWriter of one channel that keeps what is
// committed.
type bufWriter struct{ buf []byte }

func (w *bufWriter) NumChannels() int       { return 1 }
func (w *bufWriter) MaxParallelism() int    { return 128 }
func (w *bufWriter) Buf(int) []byte         { return w.buf }
func (w *bufWriter) Commit(_ int, b []byte) { w.buf = b }
func (w *bufWriter) reset()                 { w.buf = w.buf[:0] }
func (w *bufWriter) bytes() []byte          { return slices.Clone(w.buf) }
func newExchange() plan.Exchange            { return rebalanceExchange[string](codec.String{}) }
func stamped(vs []string, ts []int64) []rec { return zipRecs(vs, ts) }
func zipRecs(vs []string, ts []int64) []rec {
	out := make([]rec, len(vs))
	for i := range vs {
		out[i] = rec{vs[i], operator.TimestampAt(ts, i)}
	}
	return out
}

type rec struct {
	v  string
	ts int64
}

// recs collects what a reader emits, one by one or in batches.
type recs struct{ got []rec }

func (r *recs) Emit(v string, ts int64) { r.got = append(r.got, rec{v, ts}) }

type batchRecs struct {
	recs
	batches int
	nilTS   int
}

func (r *batchRecs) EmitBatch(vs []string, ts []int64) {
	r.batches++
	if ts == nil {
		r.nilTS++
	}
	r.got = append(r.got, zipRecs(vs, ts)...)
}

// TestTimestampsCrossTheNetwork: a record's timestamp is written beside it
// into the network buffer and read back with it — none, the smallest and
// the largest ones included — one by one and in batches; a buffer without
// timestamps reaches a batch receiver with nil timestamps.
func TestTimestampsCrossTheNetwork(t *testing.T) {
	x := newExchange()
	w := &bufWriter{}
	out := x.NewWriter(w).(operator.BatchEmitter[string])
	vs := []string{"a", "", "ccc", "d"}
	ts := []int64{0, NoTimestamp + 1, math.MaxInt64, NoTimestamp}
	out.EmitBatch(vs[:2], ts[:2])
	out.Emit(vs[2], ts[2])
	out.Emit(vs[3], ts[3])
	want := stamped(vs, ts)

	one := &recs{}
	n, err := x.NewReader(operator.Emitter[string](one))(w.bytes())
	if err != nil || n != 4 || !slices.Equal(one.got, want) {
		t.Fatalf("one by one: %d records %+v, %v; want %+v", n, one.got, err, want)
	}
	batch := &batchRecs{}
	if _, err := x.NewReader(operator.Emitter[string](batch))(w.bytes()); err != nil || !slices.Equal(batch.got, want) || batch.nilTS != 0 {
		t.Fatalf("batched: %+v (%d batches, %d without timestamps), %v; want %+v", batch.got, batch.batches, batch.nilTS, err, want)
	}

	w.reset()
	out.EmitBatch([]string{"x", "y"}, nil)
	if got := len(w.buf); got != 2*(1+1+1) {
		t.Fatalf("two one-byte strings without timestamps took %d bytes, want 6 (one timestamp byte each)", got)
	}
	batch = &batchRecs{}
	if _, err := x.NewReader(operator.Emitter[string](batch))(w.bytes()); err != nil || batch.nilTS != 1 {
		t.Fatalf("a buffer without timestamps: %d of %d batches without, %v", batch.nilTS, batch.batches, err)
	}
}

// FuzzRecordBuffer: whatever bytes arrive as a buffer of records, the
// reader decodes them or fails cleanly; what it decodes, written again and
// read back, gives the same records and timestamps. (Not always the same
// bytes: a codec may read a length in a longer varint than it writes.)
func FuzzRecordBuffer(f *testing.F) {
	x := newExchange()
	w := &bufWriter{}
	out := x.NewWriter(w).(operator.Emitter[string])
	out.Emit("hello", 42)
	out.Emit("", NoTimestamp)
	f.Add(w.bytes())
	f.Add([]byte{1, 0, 0})
	f.Add([]byte{7, 1, 'a'})
	f.Fuzz(func(t *testing.T, data []byte) {
		got := &recs{}
		n, err := x.NewReader(operator.Emitter[string](got))(data)
		if err != nil {
			return
		}
		if n != len(got.got) {
			t.Fatalf("reported %d records, emitted %d", n, len(got.got))
		}
		w := &bufWriter{}
		out := x.NewWriter(w).(operator.Emitter[string])
		for _, r := range got.got {
			out.Emit(r.v, r.ts)
		}
		again := &recs{}
		if _, err := x.NewReader(operator.Emitter[string](again))(w.bytes()); err != nil || !slices.Equal(again.got, got.got) {
			t.Fatalf("read %+v from %x; written again and read back: %+v, %v", got.got, data, again.got, err)
		}
	})
}
