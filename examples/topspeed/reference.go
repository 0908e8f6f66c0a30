package topspeed

// The example's window parameters: TimeEvictor.of(Time.of(10, SECONDS)) and
// DeltaTrigger.of(50, newDistance - oldDistance).
const (
	EvictionMillis = 10_000 // the evictor keeps elements newer than the newest minus this
	TriggerMeters  = 50.0   // the trigger fires when a car has driven more than this since it last fired
)

// CarWindow is what Flink 1.13 keeps for one car (one key of the single
// GlobalWindow) in TopSpeedWindowing's evicting window operator, and Add is
// what that operator does with each of the car's events:
//
//  1. The event is appended to the window's contents (a list state, in
//     arrival order). GlobalWindows is not an event-time assigner, so no
//     event is ever late or dropped, whatever the watermark.
//  2. The DeltaTrigger sees it. If it holds no element yet (the car's first
//     event) it keeps this one and does not fire. Otherwise it fires when
//     newDistance − keptDistance > TriggerMeters (strictly) and then keeps
//     the event that fired; if it does not fire it keeps the old one. It
//     returns FIRE, not FIRE_AND_PURGE.
//  3. On FIRE, TimeEvictor.evictBefore (doEvictAfter is false) removes every
//     element whose timestamp is ≤ max(timestamps in the window) −
//     EvictionMillis, wherever it sits in the list, and the remaining
//     elements become the window's contents (the operator rewrites the list
//     state; FLINK-4369).
//  4. maxBy(1) reduces the remaining elements in list order with
//     ComparableAggregator(MAXBY, first = true): an element replaces the
//     running maximum only if its speed is strictly greater, so on ties
//     the earliest element wins. The result is emitted unchanged, the whole
//     original tuple.
//
// Between firings nothing is evicted, so a car that stops (speed 0, no
// distance) accumulates its events until it moves 50 m again, in Flink too.
//
// The zero CarWindow is a car that has seen no event.
type CarWindow struct {
	contents []Event
	kept     Event // the trigger's "last-element" state, if hasKept
	hasKept  bool
}

// Add processes the car's next event in arrival order and returns the
// window's result when the trigger fires.
func (w *CarWindow) Add(e Event) (top Event, fired bool) {
	w.contents = append(w.contents, e)
	if !w.hasKept {
		w.kept, w.hasKept = e, true
		return Event{}, false
	}
	if !(e.Distance-w.kept.Distance > TriggerMeters) {
		return Event{}, false
	}
	w.kept = e
	w.evict()
	top = w.contents[0]
	for _, c := range w.contents[1:] {
		if c.Speed > top.Speed {
			top = c
		}
	}
	return top, true
}

// evict is TimeEvictor's evict: the cutoff is taken from the newest
// timestamp in the window, not the last element's, and every element at or
// before it goes.
func (w *CarWindow) evict() {
	newest := w.contents[0].Timestamp
	for _, c := range w.contents[1:] {
		newest = max(newest, c.Timestamp)
	}
	cutoff := newest - EvictionMillis
	kept := w.contents[:0]
	for _, c := range w.contents {
		if c.Timestamp > cutoff {
			kept = append(kept, c)
		}
	}
	clear(w.contents[len(kept):])
	w.contents = kept
}

// Len returns the number of events in the window.
func (w *CarWindow) Len() int { return len(w.contents) }

// Reference computes the exact results of Flink 1.13's TopSpeedWindowing in
// plain Go, one CarWindow per car. The zero Reference is ready to use; it is
// not safe for concurrent use.
type Reference struct {
	cars map[int32]*CarWindow
}

// Add processes the next event of e's car and returns the car's result when
// the window fires. Only the order of each car's events matters: Flink
// processes each key independently, so across cars the interleaving of the
// results is not defined.
func (r *Reference) Add(e Event) (top Event, fired bool) {
	w := r.cars[e.CarID]
	if w == nil {
		if r.cars == nil {
			r.cars = make(map[int32]*CarWindow)
		}
		w = &CarWindow{}
		r.cars[e.CarID] = w
	}
	return w.Add(e)
}

// TopSpeeds returns, for each car with at least one result, the sequence of
// results Flink 1.13's TopSpeedWindowing emits for events, in which each
// car's events are in arrival order.
func TopSpeeds(events []Event) map[int32][]Event {
	var r Reference
	out := make(map[int32][]Event)
	for _, e := range events {
		if top, ok := r.Add(e); ok {
			out[e.CarID] = append(out[e.CarID], top)
		}
	}
	return out
}
