package task

import "math"

// Watermarks at a subtask's inputs (Flink's StatusWatermarkValve).
//
// A subtask's watermark is the minimum over its input channels' watermarks,
// with two exceptions that keep one quiet input from stopping event time:
// an idle channel (its producer has had no data for its idleness timeout)
// does not count, and a channel that comes back with a watermark below the
// subtask's does not count until it has caught up. When every channel is
// idle, the subtask is idle too, and its watermark moves to the largest of
// the channels'. A channel that delivered its end of data is at the end of
// time. The subtask's watermark never goes back.
//
// valve is a pure type: the input loop feeds it and acts on what it
// returns.
type valve struct {
	wm      []int64
	idle    []bool
	aligned []bool
	// out is the subtask's watermark, outIdle whether it is idle.
	out     int64
	outIdle bool
}

// valveResult says what an input's watermark or status changed.
type valveResult struct {
	// Watermark is the subtask's new watermark when Advanced.
	Watermark int64
	Advanced  bool
	// Idle is the subtask's status when StatusChanged.
	Idle          bool
	StatusChanged bool
}

// newValve returns the valve of n channels, none of which has a watermark
// yet; the subtask's watermark starts at start (its restored watermark, or
// math.MinInt64).
func newValve(n int, start int64) *valve {
	v := &valve{wm: make([]int64, n), idle: make([]bool, n), aligned: make([]bool, n), out: start}
	for i := range v.wm {
		v.wm[i] = math.MinInt64
		v.aligned[i] = true
	}
	return v
}

// watermark records channel ch's watermark wm. A watermark makes the
// channel active if it was idle.
func (v *valve) watermark(ch int, wm int64) valveResult {
	var res valveResult
	if v.idle[ch] {
		res = v.status(ch, false)
	}
	if wm <= v.wm[ch] {
		return res
	}
	v.wm[ch] = wm
	if !v.aligned[ch] && wm >= v.out {
		v.aligned[ch] = true
	}
	return v.advance(res)
}

// status marks channel ch idle or active.
func (v *valve) status(ch int, idle bool) valveResult {
	var res valveResult
	if v.idle[ch] == idle {
		return res
	}
	v.idle[ch] = idle
	if !idle {
		// Back: it counts once it has caught up with the subtask.
		v.aligned[ch] = v.wm[ch] >= v.out
		if v.outIdle {
			v.outIdle = false
			res.Idle, res.StatusChanged = false, true
		}
		return res
	}
	if v.allIdle() {
		// Nothing holds event time back any more: move to the largest
		// watermark of the channels, and say the subtask is idle.
		high := int64(math.MinInt64)
		for _, w := range v.wm {
			high = max(high, w)
		}
		if high > v.out {
			v.out = high
			res.Watermark, res.Advanced = high, true
		}
		v.outIdle = true
		res.Idle, res.StatusChanged = true, true
		return res
	}
	return v.advance(res)
}

// end records that channel ch delivered its end of data: it stays at the
// end of time and never holds the others back.
func (v *valve) end(ch int) valveResult {
	v.idle[ch] = false
	v.aligned[ch] = true
	return v.watermark(ch, math.MaxInt64)
}

// advance moves the subtask's watermark to the minimum over the active,
// aligned channels, if that is ahead of it.
func (v *valve) advance(res valveResult) valveResult {
	low, any := int64(math.MaxInt64), false
	for ch, w := range v.wm {
		if v.idle[ch] || !v.aligned[ch] {
			continue
		}
		low, any = min(low, w), true
	}
	if any && low > v.out {
		v.out = low
		res.Watermark, res.Advanced = low, true
	}
	return res
}

func (v *valve) allIdle() bool {
	for _, idle := range v.idle {
		if !idle {
			return false
		}
	}
	return true
}
