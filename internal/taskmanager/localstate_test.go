package taskmanager

import (
	"testing"

	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/state"
)

func TestLocalState(t *testing.T) {
	l := newLocalState()
	r := func(s, e int) keygroup.Range {
		return keygroup.Range{Start: keygroup.KeyGroup(s), End: keygroup.KeyGroup(e)}
	}
	a := state.NewBackend(128, r(0, 63))
	b := state.NewBackend(128, r(64, 127))
	l.Put("op", 5, a)
	l.Put("op", 5, b)
	if got := l.Take("op", 4, r(0, 127)); got != nil {
		t.Fatal("took state of checkpoint 5 for a restore of checkpoint 4")
	}
	if got := l.Take("other", 5, r(0, 127)); got != nil {
		t.Fatal("took another operator's state")
	}
	// Subtask 1 of 3 owns 43-85: 21 of its groups are in a (43-63), 22 in
	// b (64-85); it takes b, the larger share.
	if got := l.Take("op", 5, r(43, 85)); got != b {
		t.Fatal("did not take the backend sharing the most key groups")
	}
	if got := l.Take("op", 5, r(43, 85)); got != a {
		t.Fatal("the remaining backend was not offered")
	}
	if got := l.Take("op", 5, r(0, 127)); got != nil {
		t.Fatal("a backend was taken twice")
	}
	// Older checkpoints are dropped when a newer one is offered or completes.
	l.Put("op", 5, a)
	l.Put("op", 6, b)
	if got := l.Take("op", 5, r(0, 127)); got != nil {
		t.Fatal("kept state of checkpoint 5 after 6 was offered")
	}
	l.Put("op", 6, a)
	l.completed(7)
	if got := l.Take("op", 6, r(0, 127)); got != nil {
		t.Fatal("kept state of checkpoint 6 after 7 completed")
	}
}
