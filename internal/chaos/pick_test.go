package chaos

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestPickLegal(t *testing.T) {
	const hb = 3 * time.Second
	R, P, L, K, X := tmRunning, tmPaused, tmLeaving, tmKilled, tmExited
	tests := []struct {
		name   string
		kinds  []Kind
		states []tmState
		lo, hi int
		want   []Kind // the kinds that may be drawn; nil: none legal
	}{
		{"none up, below min: only start", AllKinds, nil, 1, 4, []Kind{KindStart}},
		{"at min: no stop or kill", AllKinds, []tmState{R, X, L}, 1, 4, []Kind{KindStart, KindStopCont}},
		{"between: all", AllKinds, []tmState{R, R}, 1, 4, AllKinds},
		{"at max: no start", AllKinds, []tmState{R, R, P, R}, 1, 4, []Kind{KindStop, KindKill, KindStopCont}},
		{"paused only: kill, start, no stop or stop-cont", AllKinds, []tmState{P, P}, 1, 4, []Kind{KindStart, KindKill}},
		{"above max: only stop or kill", AllKinds, []tmState{R, R, R}, 1, 2, []Kind{KindStop, KindKill}},
		{"only stop at min: none", []Kind{KindStop}, []tmState{R}, 1, 4, nil},
		{"below min without start: none", []Kind{KindKill, KindStop}, []tmState{K}, 1, 4, nil},
		{"leaving and killed do not count", []Kind{KindStart}, []tmState{L, L, K, K, R}, 1, 2, []Kind{KindStart}},
		// The JobManager's events are legal whatever the TaskManagers' states.
		{"between, every kind", everyKind, []tmState{R, R}, 1, 4, everyKind},
		{"jm-kill only, no TaskManagers", []Kind{KindJMKill}, nil, 1, 4, []Kind{KindJMKill}},
		{"jm-kill below min: with start", []Kind{KindStart, KindStop, KindJMKill}, []tmState{K, X}, 1, 4, []Kind{KindStart, KindJMKill}},
		{"jm-kill at min: no stop or kill", []Kind{KindStop, KindKill, KindJMKill}, []tmState{R}, 1, 4, []Kind{KindJMKill}},
		{"jm kinds above max: with stop and kill", everyKind, []tmState{R, P, R}, 1, 2, []Kind{KindStop, KindKill, KindJMKill, KindJMStop}},
		{"jm kinds at max, all paused", everyKind, []tmState{P, P}, 1, 2, []Kind{KindKill, KindJMKill, KindJMStop}},
		{"jm-stop alone", []Kind{KindJMStop}, []tmState{P, L, X}, 1, 4, []Kind{KindJMStop}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[Kind]bool{}
			r := rand.New(rand.NewPCG(1, 2))
			for range 500 {
				c, ok := pick(r, tt.kinds, tt.states, tt.lo, tt.hi, hb)
				if !ok {
					if tt.want != nil {
						t.Fatalf("pick found no legal event, want one of %v", tt.want)
					}
					return
				}
				if tt.want == nil {
					t.Fatalf("pick drew %v, want none legal", c.kind)
				}
				if !slices.Contains(tt.want, c.kind) {
					t.Fatalf("pick drew %v, want one of %v", c.kind, tt.want)
				}
				seen[c.kind] = true
				checkTarget(t, c, tt.states, hb)
			}
			for _, k := range tt.want {
				if !seen[k] {
					t.Errorf("pick never drew %v in 500 draws", k)
				}
			}
		})
	}
}

// checkTarget checks that c aims at a TaskManager in a state it may hit.
func checkTarget(t *testing.T, c choice, states []tmState, hb time.Duration) {
	t.Helper()
	if c.kind == KindStart || c.kind.jobManager() {
		if c.target != -1 || c.pause != 0 {
			t.Fatalf("%v has target %d, pause %v", c.kind, c.target, c.pause)
		}
		return
	}
	if c.target < 0 || c.target >= len(states) {
		t.Fatalf("%v target %d out of range [0, %d)", c.kind, c.target, len(states))
	}
	s := states[c.target]
	switch c.kind {
	case KindStop, KindStopCont:
		if s != tmRunning {
			t.Fatalf("%v of a %v TaskManager", c.kind, s)
		}
	case KindKill:
		if s != tmRunning && s != tmPaused {
			t.Fatalf("kill of a %v TaskManager", s)
		}
	}
	if c.kind == KindStopCont && (c.pause < hb || c.pause > 3*hb) {
		t.Fatalf("pause %v outside [%v, %v]", c.pause, hb, 3*hb)
	}
}

func TestPickReplays(t *testing.T) {
	states := []tmState{tmRunning, tmPaused, tmRunning}
	for _, kinds := range [][]Kind{AllKinds, everyKind, {KindStart, KindKill, KindJMKill}} {
		draw := func(seed uint64) []choice {
			r := rand.New(rand.NewPCG(seed, 7))
			var out []choice
			for range 50 {
				c, _ := pick(r, kinds, states, 1, 4, time.Second)
				out = append(out, c)
			}
			return out
		}
		a, b, c := draw(42), draw(42), draw(43)
		if !slices.Equal(a, b) {
			t.Fatalf("%v: the same seed drew different events", kinds)
		}
		if slices.Equal(a, c) {
			t.Fatalf("%v: seeds 42 and 43 drew the same 50 events", kinds)
		}
	}
}

// TestPickDefaultsReplay: the JobManager's events leave the draws of the
// TaskManager kinds as they were before they existed, so that a seed of an
// earlier run replays the same events.
func TestPickDefaultsReplay(t *testing.T) {
	want := []choice{ // drawn by pick before jm-kill and jm-stop existed
		{KindStop, 2, 0}, {KindStart, -1, 0}, {KindStopCont, 0, 2352185722}, {KindKill, 1, 0},
		{KindStart, -1, 0}, {KindStop, 0, 0}, {KindStopCont, 2, 2062126175}, {KindKill, 0, 0},
		{KindStart, -1, 0}, {KindStart, -1, 0}, {KindStop, 0, 0}, {KindKill, 2, 0},
	}
	states := []tmState{tmRunning, tmPaused, tmRunning}
	r := rand.New(rand.NewPCG(42, 7))
	for i, w := range want {
		if c, _ := pick(r, AllKinds, states, 1, 4, time.Second); c != w {
			t.Fatalf("draw %d: %+v, want %+v", i, c, w)
		}
	}
}

// TestPickJobManagerShare: with one TaskManager kind legal besides
// jm-kill, each is drawn about half the time, so a run with jm-kill in
// --kinds does hit the JobManager.
func TestPickJobManagerShare(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	n := 0
	const draws = 2000
	for range draws {
		c, ok := pick(r, []Kind{KindStart, KindStop, KindJMKill}, []tmState{tmRunning}, 1, 4, time.Second)
		if !ok {
			t.Fatal("no legal event")
		}
		if c.kind == KindJMKill {
			n++
		}
	}
	if n < draws*4/10 || n > draws*6/10 {
		t.Fatalf("jm-kill drawn %d times in %d, want about half (start is the other legal kind)", n, draws)
	}
}
