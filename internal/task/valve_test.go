package task

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestValve runs scripts of input events through a valve of three channels
// and checks what the subtask emits after each.
func TestValve(t *testing.T) {
	type step struct {
		op   string // "wm ch value", "idle ch", "active ch", "end ch"
		want string // "" nothing; "wm N"; "idle"; "active"; combinations joined by " "
	}
	for _, tc := range []struct {
		name  string
		start int64
		steps []step
	}{
		{"the minimum over the channels", math.MinInt64, []step{
			{"wm 0 10", ""}, {"wm 1 5", ""}, {"wm 2 7", "wm 5"},
			{"wm 1 20", "wm 7"}, {"wm 2 30", "wm 10"},
			{"wm 0 9", ""}, // a channel's watermark never goes back
		}},
		{"an idle channel does not hold the others back", math.MinInt64, []step{
			{"wm 0 10", ""}, {"wm 1 20", ""}, {"idle 2", "wm 10"},
			{"wm 0 25", "wm 20"},
			// Back with a lower watermark: it does not count until it has
			// caught up, so the subtask does not go back.
			{"active 2", ""}, {"wm 2 15", ""}, {"wm 1 40", "wm 25"}, {"wm 2 26", ""},
			{"wm 0 50", "wm 26"},
		}},
		{"all idle: the subtask is idle, at the largest watermark", math.MinInt64, []step{
			{"wm 0 10", ""}, {"wm 1 20", ""}, {"wm 2 30", "wm 10"},
			{"idle 0", "wm 20"}, {"idle 1", "wm 30"}, {"idle 2", "idle"},
			// A watermark makes its channel active again, and it is the only
			// active one.
			{"wm 1 35", "wm 35 active"},
			{"wm 1 40", "wm 40"},
		}},
		{"all idle at once moves to the largest", math.MinInt64, []step{
			{"wm 0 10", ""}, {"wm 1 50", ""}, {"wm 2 30", "wm 10"},
			{"idle 1", ""}, {"idle 0", "wm 30"}, {"idle 2", "wm 50 idle"}, {"active 0", "active"},
		}},
		{"ends are the end of time", math.MinInt64, []step{
			{"wm 0 10", ""}, {"end 1", ""}, {"wm 2 5", "wm 5"},
			{"end 2", "wm 10"}, {"end 0", fmt.Sprintf("wm %d", int64(math.MaxInt64))},
		}},
		{"a restored watermark is not gone back on", 100, []step{
			{"wm 0 10", ""}, {"wm 1 20", ""}, {"wm 2 150", ""},
			{"wm 0 120", ""}, {"wm 1 130", "wm 120"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newValve(3, tc.start)
			for i, s := range tc.steps {
				var op string
				var ch int
				var val int64
				fmt.Sscan(s.op, &op, &ch, &val)
				var res valveResult
				switch op {
				case "wm":
					res = v.watermark(ch, val)
				case "idle":
					res = v.status(ch, true)
				case "active":
					res = v.status(ch, false)
				case "end":
					res = v.end(ch)
				default:
					t.Fatalf("bad step %q", s.op)
				}
				var got []string
				if res.Advanced {
					got = append(got, fmt.Sprintf("wm %d", res.Watermark))
				}
				if res.StatusChanged {
					if res.Idle {
						got = append(got, "idle")
					} else {
						got = append(got, "active")
					}
				}
				if g := strings.Join(got, " "); g != s.want {
					t.Fatalf("step %d %q: emitted %q, want %q", i, s.op, g, s.want)
				}
			}
		})
	}
}
