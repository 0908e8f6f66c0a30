package task

import (
	"context"

	"github.com/tide-stream/tide/internal/network"
)

// recordWriter is one output edge: a buffer per consumer channel. It
// implements plan.RecordWriter for the edge's typed emitter.
type recordWriter struct {
	t    *Task
	ctx  context.Context
	outs []*network.Output
	bufs [][]byte
	size int
	maxP int
	// dirty counts channels with unsent records; committed counts the
	// records committed since the last flush, published to the task's
	// recordsOut then.
	dirty     int
	committed int64
}

func (w *recordWriter) NumChannels() int    { return len(w.outs) }
func (w *recordWriter) MaxParallelism() int { return w.maxP }
func (w *recordWriter) Buf(ch int) []byte   { return w.bufs[ch] }

func (w *recordWriter) Commit(ch int, b []byte) {
	w.committed++
	if len(w.bufs[ch]) == 0 {
		w.dirty++
	}
	w.bufs[ch] = b
	if len(b) >= w.size {
		w.flush(ch)
	}
}

// flush sends channel ch's buffer. A send error fails the task; the
// buffer is dropped since the attempt is over.
func (w *recordWriter) flush(ch int) {
	b := w.bufs[ch]
	if len(b) == 0 {
		return
	}
	w.dirty--
	w.bufs[ch] = make([]byte, 0, w.size)
	w.t.recordsOut.Add(w.committed)
	w.committed = 0
	if w.t.failure != nil {
		return
	}
	if err := w.send(w.outs[ch], kindRecords, b); err != nil {
		w.t.failure = err
	}
}

func (w *recordWriter) flushAll() {
	if w.dirty == 0 {
		return
	}
	for ch := range w.bufs {
		w.flush(ch)
	}
}

// event flushes every channel and sends an event (barrier, end) on each.
func (w *recordWriter) event(kind byte, payload []byte) error {
	w.flushAll()
	if w.t.failure != nil {
		return w.t.failure
	}
	for _, o := range w.outs {
		if err := w.send(o, kind, append([]byte(nil), payload...)); err != nil {
			return err
		}
	}
	return nil
}

func (w *recordWriter) close() {
	for _, o := range w.outs {
		o.Close()
	}
	w.outs = nil
}

// send sends one message, counting the time it waits for a credit as
// backpressure.
func (w *recordWriter) send(o *network.Output, kind byte, payload []byte) error {
	w.t.beginWait(true)
	err := o.Send(w.ctx, kind, payload)
	w.t.endWait()
	return err
}
