package heartbeat

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// step ticks the tracker at now and returns (and acknowledges) its Ready.
func step(tr *Tracker, now time.Time) Ready {
	tr.Tick(now)
	if !tr.HasReady() {
		return Ready{}
	}
	rd := tr.Ready()
	tr.Advance(rd)
	return rd
}

func TestTracker(t *testing.T) {
	type op struct {
		at       time.Duration
		add      ID
		received ID
		remove   ID
		want     Ready // checked after a Tick at `at`, when no add/received/remove is given
	}
	s := time.Second
	tests := []struct {
		name string
		ops  []op
	}{
		{"requests every interval", []op{
			{at: 0, add: "a"},
			{at: 9 * s},
			{at: 10 * s, want: Ready{Send: []ID{"a"}}},
			{at: 10 * s, received: "a"},
			{at: 15 * s},
			{at: 20 * s, want: Ready{Send: []ID{"a"}}},
		}},
		{"late tick does not burst", []op{
			{at: 0, add: "a"},
			{at: 35 * s, want: Ready{Send: []ID{"a"}}},
			{at: 40 * s},
			{at: 45 * s, want: Ready{Send: []ID{"a"}}},
		}},
		{"silent longer than timeout is lost once", []op{
			{at: 0, add: "a"},
			{at: 0, add: "b"},
			{at: 10 * s, want: Ready{Send: []ID{"a", "b"}}},
			{at: 10 * s, received: "b"},
			{at: 50 * s, want: Ready{Send: []ID{"a", "b"}}},
			{at: 51 * s, want: Ready{Lost: []ID{"a"}}},
			{at: 60 * s, want: Ready{Send: []ID{"b"}}},
			{at: 61 * s, want: Ready{Lost: []ID{"b"}}},
			{at: 200 * s},
		}},
		{"exactly timeout is not lost", []op{
			{at: 0, add: "a"},
			{at: 50 * s, want: Ready{Send: []ID{"a"}}},
		}},
		{"answers keep it alive", []op{
			{at: 0, add: "a"},
			{at: 40 * s, received: "a"},
			{at: 80 * s, received: "a"},
			{at: 120 * s, received: "a"},
			{at: 125 * s, want: Ready{Send: []ID{"a"}}},
		}},
		{"removed is neither sent nor lost", []op{
			{at: 0, add: "a"},
			{at: 5 * s, remove: "a"},
			{at: 100 * s},
		}},
		{"received from unknown is ignored", []op{
			{at: 0, received: "ghost"},
			{at: 100 * s},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(10*time.Second, 50*time.Second)
			for i, o := range tt.ops {
				switch {
				case o.add != "":
					tr.Add(o.add, at(o.at))
				case o.received != "":
					tr.Received(o.received, at(o.at))
				case o.remove != "":
					tr.Remove(o.remove)
				default:
					got := step(tr, at(o.at))
					if diff := cmp.Diff(o.want, got, cmpopts.EquateEmpty()); diff != "" {
						t.Fatalf("op %d (tick at %v): Ready mismatch (-want +got):\n%s", i, o.at, diff)
					}
				}
			}
		})
	}
}

func TestReceivedUnknownAndLost(t *testing.T) {
	tr := NewTracker(time.Second, 3*time.Second)
	if tr.Received("x", t0) {
		t.Fatal("Received of an unknown id returned true")
	}
	tr.Add("x", t0)
	if !tr.Received("x", at(time.Second)) {
		t.Fatal("Received of a tracked id returned false")
	}
	if rd := step(tr, at(5*time.Second)); !cmp.Equal(rd.Lost, []ID{"x"}) {
		t.Fatalf("Lost = %v, want [x]", rd.Lost)
	}
	// A TaskManager declared lost is fenced: its late answer does not revive it.
	if tr.Received("x", at(6*time.Second)) {
		t.Fatal("Received of a lost id returned true")
	}
	if tr.Len() != 0 {
		t.Fatalf("Len = %d after loss, want 0", tr.Len())
	}
	if tr.Remove("x") {
		t.Fatal("Remove of a lost id returned true")
	}
}

func TestSinceLast(t *testing.T) {
	tr := NewTracker(time.Second, time.Minute)
	if _, ok := tr.SinceLast("a", t0); ok {
		t.Fatal("SinceLast of an unknown id reported ok")
	}
	tr.Add("a", t0)
	tr.Received("a", at(3*time.Second))
	tr.Received("a", at(2*time.Second)) // out of order: must not move time back
	if d, ok := tr.SinceLast("a", at(10*time.Second)); !ok || d != 7*time.Second {
		t.Fatalf("SinceLast = %v, %v; want 7s, true", d, ok)
	}
	if d, _ := tr.SinceLast("a", at(time.Second)); d != 0 {
		t.Fatalf("SinceLast before the last answer = %v, want 0", d)
	}
}

func TestReadyIsNotConsumedUntilAdvance(t *testing.T) {
	tr := NewTracker(time.Second, 0) // timeout 0: never lost
	tr.Add("b", t0)
	tr.Add("a", t0)
	tr.Tick(at(time.Hour))
	want := Ready{Send: []ID{"a", "b"}}
	for range 2 {
		if diff := cmp.Diff(want, tr.Ready(), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("Ready mismatch (-want +got):\n%s", diff)
		}
	}
	tr.Remove("b")
	if diff := cmp.Diff(Ready{Send: []ID{"a"}}, tr.Ready(), cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("Ready after Remove mismatch (-want +got):\n%s", diff)
	}
	tr.Advance(tr.Ready())
	if tr.HasReady() {
		t.Fatal("HasReady after Advance")
	}
}

// TestDeadline: the shell ticks at Deadline instead of polling; a Tick then
// finds the work due, and none earlier.
func TestDeadline(t *testing.T) {
	tr := NewTracker(time.Second, 3*time.Second)
	if _, ok := tr.Deadline(); ok {
		t.Fatal("a deadline with no members")
	}
	tr.Add("a", t0)
	tr.Add("b", t0.Add(400*time.Millisecond))
	at, ok := tr.Deadline()
	if !ok || !at.Equal(t0.Add(time.Second)) {
		t.Fatalf("deadline %v, want the first request at +1s", at.Sub(t0))
	}
	tr.Tick(at.Add(-time.Nanosecond))
	if tr.HasReady() {
		t.Fatal("work before the deadline")
	}
	tr.Tick(at)
	if rd := tr.Ready(); !cmp.Equal(rd.Send, []ID{"a"}) {
		t.Fatalf("at the deadline: %+v, want a request to a", rd)
	}
	tr.Advance(tr.Ready())
	// Neither answers: the deadlines walk through b's request to a's loss.
	var lost []ID
	for i := 0; i < 20 && len(lost) == 0; i++ {
		at, _ = tr.Deadline()
		tr.Tick(at)
		lost = tr.Ready().Lost
		tr.Advance(tr.Ready())
	}
	if !cmp.Equal(lost, []ID{"a"}) || !at.Equal(t0.Add(3*time.Second+time.Nanosecond)) {
		t.Fatalf("lost %v at +%v, want a just after its 3s timeout", lost, at.Sub(t0))
	}
}
