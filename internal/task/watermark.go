package task

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/rpc"
)

// Event time in the subtask: its watermark advances from its source's
// generator (a source chain) or from its inputs through the valve (valve.go);
// each advance runs the chain's OnWatermark hooks, head first, and then goes
// to every output channel after the records before it. An idle status goes
// to the outputs too, so that consumers do not wait for this subtask.

// watermarks is the subtask's event-time state, owned by the Run goroutine.
type watermarks struct {
	// current is the subtask's watermark, idle its status downstream.
	current int64
	idle    bool
	// timed are the chain's operators that act on watermarks, head first.
	timed []operator.EventTimed
	// source is the chain head's generator, nil if it has none; next is
	// when to ask it again.
	source   operator.WatermarkSource
	interval time.Duration
	next     time.Time
}

func newWatermarks(chain []*link, head operator.Source, interval time.Duration) watermarks {
	w := watermarks{current: math.MinInt64, interval: interval}
	if w.interval <= 0 {
		w.interval = DefaultWatermarkInterval
	}
	for _, l := range chain {
		if et, ok := l.hooks.(operator.EventTimed); ok {
			w.timed = append(w.timed, et)
		}
	}
	if ws, ok := head.(operator.WatermarkSource); ok && ws.GeneratesWatermarks() {
		w.source = ws
	}
	return w
}

// advanceWatermark moves the subtask's watermark to wm: the chain's
// operators act on it, then it goes downstream.
func (t *Task) advanceWatermark(wm int64) error {
	if wm <= t.wm.current {
		return nil
	}
	t.wm.current = wm
	t.watermarkOut.Store(wm)
	for _, op := range t.wm.timed {
		if err := op.OnWatermark(wm); err != nil {
			return &Failure{Domain: rpc.DomainUser, Err: fmt.Errorf("watermark %d: %w", wm, err)}
		}
		if t.failure != nil {
			return t.failure
		}
	}
	if len(t.wm.timed) > 0 {
		t.dirty = true
	}
	payload := binary.BigEndian.AppendUint64(nil, uint64(wm))
	for _, w := range t.writers {
		if err := w.event(kindWatermark, payload); err != nil {
			return fmt.Errorf("send watermark: %w", err)
		}
	}
	return nil
}

// setIdle sends the subtask's idle or active status downstream, when it
// changes.
func (t *Task) setIdle(idle bool) error {
	if idle == t.wm.idle {
		return nil
	}
	t.wm.idle = idle
	payload := []byte{0}
	if idle {
		payload[0] = 1
	}
	for _, w := range t.writers {
		if err := w.event(kindStatus, payload); err != nil {
			return fmt.Errorf("send watermark status: %w", err)
		}
	}
	return nil
}

// pollWatermark asks a source chain's generator for its watermark when the
// interval has passed, and reports when to ask next (zero: never).
func (t *Task) pollWatermark(now time.Time) (time.Time, error) {
	if t.wm.source == nil {
		return time.Time{}, nil
	}
	if now.Before(t.wm.next) {
		return t.wm.next, nil
	}
	t.wm.next = now.Add(t.wm.interval)
	wm, idle := t.wm.source.Watermark(now)
	if !idle {
		// Active first: a consumer that counted this subtask as idle must
		// count its watermark again.
		if err := t.setIdle(false); err != nil {
			return t.wm.next, err
		}
	}
	if err := t.advanceWatermark(wm); err != nil {
		return t.wm.next, err
	}
	if idle {
		if err := t.setIdle(true); err != nil {
			return t.wm.next, err
		}
	}
	return t.wm.next, nil
}

// inputWatermark handles a watermark or status message of input channel
// ch.
func (t *Task) inputWatermark(in *inputs, ch int, kind byte, payload []byte) error {
	var res valveResult
	switch kind {
	case kindWatermark:
		if len(payload) != 8 {
			return fmt.Errorf("watermark of %d bytes", len(payload))
		}
		res = in.valve.watermark(ch, int64(binary.BigEndian.Uint64(payload)))
	case kindStatus:
		if len(payload) != 1 || payload[0] > 1 {
			return fmt.Errorf("watermark status %v", payload)
		}
		res = in.valve.status(ch, payload[0] == 1)
	}
	return t.applyValve(res)
}

// applyValve acts on what the valve says: active before the watermark,
// idle after it.
func (t *Task) applyValve(res valveResult) error {
	if res.StatusChanged && !res.Idle {
		if err := t.setIdle(false); err != nil {
			return err
		}
	}
	if res.Advanced {
		if err := t.advanceWatermark(res.Watermark); err != nil {
			return err
		}
	}
	if res.StatusChanged && res.Idle {
		return t.setIdle(true)
	}
	return nil
}

// Watermarks across a restore. Each keyed state object records the
// watermark of the subtask that wrote it; a key group restored from it
// keeps that watermark as its floor, whichever subtask owns it now. A
// record at or before its key group's floor is late, as it would have been
// before the restore: no window fires twice, and a rescale that gives a
// key group to a subtask further behind does not reopen it. The subtask's
// own watermark starts at the lowest floor of its key groups, so that what
// it emits downstream does not go back either.

// floors holds the restored watermark of each key group of a subtask's
// range, math.MinInt64 for none.
type floors struct {
	start keygroup.KeyGroup
	wm    []int64
}

// watermarkFloors reads the floors of range r from the restored slices;
// nil when none carries a watermark.
func watermarkFloors(r keygroup.Range, restored []checkpoint.KeyedSlice) *floors {
	f := &floors{start: r.Start, wm: make([]int64, r.Len())}
	for i := range f.wm {
		f.wm[i] = math.MinInt64
	}
	any := false
	for _, s := range restored {
		h := s.Handle
		for kg := max(s.Range.Start, r.Start); kg <= min(s.Range.End, r.End); kg++ {
			w := int64(math.MinInt64)
			switch i := int(kg - h.Range.Start); {
			case len(h.Watermarks) == h.Range.Len() && i >= 0 && i < len(h.Watermarks):
				w = h.Watermarks[i]
			case h.Watermark != nil:
				w = *h.Watermark
			}
			if w != math.MinInt64 {
				f.wm[kg-r.Start] = max(f.wm[kg-r.Start], w)
				any = true
			}
		}
	}
	if !any {
		return nil
	}
	return f
}

// snapshot is what a keyed state object of range r records when the
// subtask's watermark is current: each key group's floor or current,
// whichever is later — one value when they are all the same, one per key
// group when a restore gave them different floors, so that a floor never
// goes down from one checkpoint to the next.
func (f *floors) snapshot(r keygroup.Range, current int64) (*int64, []int64) {
	if f == nil {
		if current == math.MinInt64 {
			return nil, nil
		}
		return &current, nil
	}
	per := make([]int64, r.Len())
	uniform := true
	for i := range per {
		per[i] = max(current, f.of(r.Start+keygroup.KeyGroup(i)))
		uniform = uniform && per[i] == per[0]
	}
	switch {
	case len(per) == 0 || uniform && per[0] == math.MinInt64:
		return nil, nil
	case uniform:
		return &per[0], nil
	}
	return nil, per
}

// of is key group kg's floor.
func (f *floors) of(kg keygroup.KeyGroup) int64 {
	if f == nil || kg < f.start || int(kg-f.start) >= len(f.wm) {
		return math.MinInt64
	}
	return f.wm[kg-f.start]
}

// lowest is the lowest floor of the range: the subtask's watermark after
// the restore.
func (f *floors) lowest() int64 {
	if f == nil {
		return math.MinInt64
	}
	low := int64(math.MaxInt64)
	for _, w := range f.wm {
		low = min(low, w)
	}
	return low
}

// RestoredWatermark implements operator.Context.
func (c *opContext) RestoredWatermark(kg keygroup.KeyGroup) int64 { return c.floors.of(kg) }
