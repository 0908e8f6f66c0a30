package chaos

import (
	"math/rand/v2"
	"slices"
	"time"
)

// tmState is where a TaskManager process stands, as the chaos run drove it.
type tmState int

const (
	// tmRunning: started, not signalled.
	tmRunning tmState = iota
	// tmPaused: SIGSTOPped, waiting for its SIGCONT.
	tmPaused
	// tmLeaving: SIGTERMed, leaving gracefully.
	tmLeaving
	// tmKilled: SIGKILLed, its exit not yet reaped.
	tmKilled
	// tmExited: the process is gone.
	tmExited
)

func (s tmState) String() string {
	switch s {
	case tmRunning:
		return "running"
	case tmPaused:
		return "paused"
	case tmLeaving:
		return "leaving"
	case tmKilled:
		return "killed"
	case tmExited:
		return "exited"
	}
	return "unknown"
}

// choice is one drawn event: its kind, the index of its target TaskManager
// (-1 for KindStart and the JobManager's events) and, for KindStopCont, the
// pause.
type choice struct {
	kind   Kind
	target int
	pause  time.Duration
}

// up counts the TaskManagers that are up: running or paused (a paused one
// comes back), not leaving and not exited.
func up(states []tmState) int {
	n := 0
	for _, s := range states {
		if s == tmRunning || s == tmPaused {
			n++
		}
	}
	return n
}

// pick draws the next event among the legal ones of kinds, given the states
// of the TaskManagers so far (indexed as the run numbers them), the bounds
// [lo, hi] on the number up, and the heartbeat timeout that scales a pause.
// It is pure: the same source and inputs give the same choice.
//
// The legal events: start while fewer than hi are up; stop (of a running
// one) and kill (of a running or paused one) while more than lo are up;
// stop-cont of a running one; jm-kill and jm-stop always (they leave the
// TaskManagers alone). Out of bounds (a TaskManager exited on its own), the
// only TaskManager event that is legal is the one that moves back toward
// them, if it is in kinds. ok is false when no event is legal.
func pick(r *rand.Rand, kinds []Kind, states []tmState, lo, hi int, heartbeatTimeout time.Duration) (c choice, ok bool) {
	n := up(states)
	var running, alive []int
	for i, s := range states {
		switch s {
		case tmRunning:
			running = append(running, i)
			alive = append(alive, i)
		case tmPaused:
			alive = append(alive, i)
		}
	}
	var legal []Kind
	for _, k := range everyKind { // a fixed order keeps draws reproducible
		if !slices.Contains(kinds, k) {
			continue
		}
		switch {
		case k.jobManager():
			legal = append(legal, k)
		case n < lo:
			if k == KindStart {
				legal = append(legal, k)
			}
		case n > hi:
			if (k == KindStop && len(running) > 0) || (k == KindKill && len(alive) > 0) {
				legal = append(legal, k)
			}
		default:
			switch k {
			case KindStart:
				if n < hi {
					legal = append(legal, k)
				}
			case KindStop:
				if n > lo && len(running) > 0 {
					legal = append(legal, k)
				}
			case KindKill:
				if n > lo && len(alive) > 0 {
					legal = append(legal, k)
				}
			case KindStopCont:
				if len(running) > 0 {
					legal = append(legal, k)
				}
			}
		}
	}
	if len(legal) == 0 {
		return choice{}, false
	}
	c = choice{kind: legal[r.IntN(len(legal))], target: -1}
	switch c.kind {
	case KindStop:
		c.target = running[r.IntN(len(running))]
	case KindKill:
		c.target = alive[r.IntN(len(alive))]
	case KindStopCont:
		c.target = running[r.IntN(len(running))]
		// 1–3 heartbeat timeouts, uniformly.
		c.pause = heartbeatTimeout + time.Duration(r.Int64N(int64(2*heartbeatTimeout)+1))
	}
	return c, true
}
