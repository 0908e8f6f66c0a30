package jobmanager

import (
	"fmt"
	"testing"

	"github.com/tide-stream/tide/internal/operator"
)

// TestSplitSetAssign: splits already handed out (restored ones among them)
// are not handed out again; a new one goes to the subtask holding the
// fewest, the lowest index on a tie.
func TestSplitSetAssign(t *testing.T) {
	s := newSplitSet(0, "v", [][]string{{"a", "b"}, {}, {"c"}})
	split := func(ids ...string) []operator.Split {
		var out []operator.Split
		for _, id := range ids {
			out = append(out, operator.Split{ID: id, Entry: []byte(id)})
		}
		return out
	}
	got := fmt.Sprint(s.assign(split("a", "b", "c", "d", "e", "f")))
	if want := "[[] [[100] [101]] [[102]]]"; got != want {
		t.Errorf("first assignment %s, want %s", got, want)
	}
	got = fmt.Sprint(s.assign(split("a", "b", "c", "d", "e", "f", "g")))
	if want := "[[[103]] [] []]"; got != want {
		t.Errorf("second assignment %s, want %s", got, want)
	}
	if fmt.Sprint(s.count) != "[3 2 2]" {
		t.Errorf("counts %v, want [3 3 2]", s.count)
	}
}
