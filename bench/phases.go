package main

import (
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The JobManager log messages that mark a rescale's phases.
const (
	phaseStarted    = "rescale started"
	phaseCheckpoint = "checkpoint complete"
	phaseDeployed   = "deployed attempt"
	phaseRunning    = "attempt running"
	phaseEnded      = "rescale ended"
)

// logEvent is one phase line of the JobManager's log.
type logEvent struct {
	at     time.Time
	msg    string
	id     int64  // the rescale id of started and ended lines, else -1
	reason string // the reason= field of checkpoint lines
}

var (
	reTime   = regexp.MustCompile(`\btime=(\S+)`)
	reMsg    = regexp.MustCompile(`\bmsg="([^"]*)"`)
	reID     = regexp.MustCompile(`\bid=(\d+)`)
	reReason = regexp.MustCompile(`\breason=(\S+)`)
)

// parsePhaseLine returns the phase event of a JobManager log line, if the
// line is one.
func parsePhaseLine(line string) (logEvent, bool) {
	m := reMsg.FindStringSubmatch(line)
	if m == nil {
		return logEvent{}, false
	}
	switch m[1] {
	case phaseStarted, phaseCheckpoint, phaseDeployed, phaseRunning, phaseEnded:
	default:
		return logEvent{}, false
	}
	t := reTime.FindStringSubmatch(line)
	if t == nil {
		return logEvent{}, false
	}
	at, err := time.Parse(time.RFC3339Nano, t[1])
	if err != nil {
		return logEvent{}, false
	}
	e := logEvent{at: at, msg: m[1], id: -1}
	if m[1] == phaseStarted || m[1] == phaseEnded {
		id := reID.FindStringSubmatch(line)
		if id == nil {
			return logEvent{}, false
		}
		if e.id, err = strconv.ParseInt(id[1], 10, 64); err != nil {
			return logEvent{}, false
		}
	}
	if r := reReason.FindStringSubmatch(line); r != nil {
		e.reason = r[1]
	}
	return e, true
}

// phaseLog collects the JobManager's phase lines from its log scanner.
type phaseLog struct {
	mu     sync.Mutex
	events []logEvent
}

func (p *phaseLog) add(e logEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
}

func (p *phaseLog) snapshot() []logEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

// Phases are a rescale's phases from the JobManager's log, ms (the log
// has millisecond timestamps); -1 where a phase line is missing.
type Phases struct {
	// Checkpoint is rescale start → the rescale's checkpoint complete
	// (planned rescales only; it includes waiting for a periodic
	// checkpoint in flight).
	Checkpoint int64 `json:"checkpoint_ms"`
	// Deploy is the checkpoint complete (or the start) → the new attempt
	// deployed: stopping the old tasks, the restart delay after a failure.
	Deploy int64 `json:"stop_and_deploy_ms"`
	// Restore is deployed → every task running: the tasks' setup and
	// state restore.
	Restore int64 `json:"restore_ms"`
	// Total is rescale start → rescale ended.
	Total int64 `json:"total_ms"`
}

// rescalePhases finds rescale id's phases in events.
func rescalePhases(events []logEvent, id int64) (Phases, bool) {
	ph := Phases{Checkpoint: -1, Deploy: -1, Restore: -1, Total: -1}
	start := slices.IndexFunc(events, func(e logEvent) bool { return e.msg == phaseStarted && e.id == id })
	if start < 0 {
		return ph, false
	}
	t0 := events[start].at
	var cp, dep, run time.Time
	for _, e := range events[start+1:] {
		switch {
		case e.msg == phaseCheckpoint && e.reason == "rescale" && cp.IsZero() && dep.IsZero():
			cp = e.at
		case e.msg == phaseDeployed && dep.IsZero():
			dep = e.at
		case e.msg == phaseRunning && !dep.IsZero() && run.IsZero():
			run = e.at
		case e.msg == phaseEnded && e.id == id:
			ms := func(a, b time.Time) int64 {
				if a.IsZero() || b.IsZero() {
					return -1
				}
				return b.Sub(a).Milliseconds()
			}
			ph.Total = ms(t0, e.at)
			ph.Checkpoint = ms(t0, cp)
			if cp.IsZero() {
				ph.Deploy = ms(t0, dep)
			} else {
				ph.Deploy = ms(cp, dep)
			}
			ph.Restore = ms(dep, run)
			return ph, true
		}
	}
	return ph, false
}
