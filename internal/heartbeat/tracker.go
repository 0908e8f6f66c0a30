package heartbeat

import (
	"slices"
	"time"
)

// ID is a TaskManager's registration id. A TaskManager that registers again
// (for example after it was declared lost) gets a new id.
type ID string

// Ready is the work the shell must do after a Tick.
type Ready struct {
	// Send lists the TaskManagers whose heartbeat request is due, sorted by
	// id. Send them a request; their answers are reported with Received.
	Send []ID
	// Lost lists the TaskManagers that stayed silent longer than the timeout,
	// sorted by id. They have been removed from the tracker; the shell fences
	// them (drops their registration and fails their tasks).
	Lost []ID
}

// member is what the tracker knows of one TaskManager.
type member struct {
	last     time.Time // when it was added or last answered
	nextSend time.Time // when its next heartbeat request is due
}

// Tracker decides when to send heartbeat requests and when a TaskManager is
// lost. It is not safe for concurrent use: one goroutine (the JobManager loop)
// owns it.
type Tracker struct {
	interval time.Duration
	timeout  time.Duration
	members  map[ID]*member

	// send and lost accumulate the pending Ready until Advance.
	send map[ID]struct{}
	lost []ID
}

// NewTracker returns a tracker that requests a heartbeat every interval and
// declares a TaskManager lost once it has been silent for longer than
// timeout (heartbeat.interval and heartbeat.timeout). An interval <= 0 makes
// a request due on every Tick; a timeout <= 0 disables loss detection.
func NewTracker(interval, timeout time.Duration) *Tracker {
	return &Tracker{
		interval: interval,
		timeout:  timeout,
		members:  make(map[ID]*member),
		send:     make(map[ID]struct{}),
	}
}

// Add starts tracking id as of now. Its first heartbeat request is due one
// interval later. Adding an id that is already tracked restarts its clock.
func (t *Tracker) Add(id ID, now time.Time) {
	t.members[id] = &member{last: now, nextSend: now.Add(t.interval)}
}

// Remove stops tracking id and withdraws any pending request to it. It
// reports whether id was tracked.
func (t *Tracker) Remove(id ID) bool {
	if _, ok := t.members[id]; !ok {
		return false
	}
	delete(t.members, id)
	delete(t.send, id)
	return true
}

// Received records a heartbeat answer from id at now. An unknown id (never
// added, removed, or already declared lost) is ignored and Received returns
// false: the shell must not let a fenced TaskManager back in this way.
func (t *Tracker) Received(id ID, now time.Time) bool {
	m, ok := t.members[id]
	if !ok {
		return false
	}
	if now.After(m.last) {
		m.last = now
	}
	return true
}

// Tick advances the tracker's time to now: it collects the heartbeat requests
// that are due and the TaskManagers that are lost.
func (t *Tracker) Tick(now time.Time) {
	for id, m := range t.members {
		if t.timeout > 0 && now.Sub(m.last) > t.timeout {
			delete(t.members, id)
			delete(t.send, id)
			t.lost = append(t.lost, id)
			continue
		}
		if !now.Before(m.nextSend) {
			t.send[id] = struct{}{}
			m.nextSend = now.Add(t.interval)
		}
	}
}

// HasReady reports whether Ready would return any work.
func (t *Tracker) HasReady() bool { return len(t.send) > 0 || len(t.lost) > 0 }

// Ready returns the pending work. It does not consume it: call Advance once
// the work is done.
func (t *Tracker) Ready() Ready {
	var rd Ready
	for id := range t.send {
		rd.Send = append(rd.Send, id)
	}
	slices.Sort(rd.Send)
	if len(t.lost) > 0 {
		rd.Lost = slices.Clone(t.lost)
		slices.Sort(rd.Lost)
	}
	return rd
}

// Advance acknowledges the last Ready: its requests were sent and its losses
// handled. Call it before the next Tick; work collected by a Tick between
// Ready and Advance would be acknowledged unseen.
func (t *Tracker) Advance(Ready) {
	clear(t.send)
	t.lost = t.lost[:0]
}

// Deadline returns when the Tracker next needs a Tick: the earliest
// heartbeat request due, or the earliest member that times out.
func (t *Tracker) Deadline() (time.Time, bool) {
	var at time.Time
	found := false
	for _, m := range t.members {
		next := m.nextSend
		if t.timeout > 0 {
			// Tick declares a member lost once it has been silent MORE than
			// the timeout.
			next = minTime(next, m.last.Add(t.timeout+time.Nanosecond))
		}
		if !found || next.Before(at) {
			at, found = next, true
		}
	}
	return at, found
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// SinceLast returns how long id has been silent as of now, for the REST
// API's timeSinceLastHeartbeat. It returns false for an unknown id.
func (t *Tracker) SinceLast(id ID, now time.Time) (time.Duration, bool) {
	m, ok := t.members[id]
	if !ok {
		return 0, false
	}
	return max(now.Sub(m.last), 0), true
}

// Len is the number of tracked TaskManagers.
func (t *Tracker) Len() int { return len(t.members) }
