package scheduler

import (
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
)

// Vertex is one vertex of the job graph, as the scheduler sees it.
type Vertex struct {
	ID exec.VertexID
	// MaxParallelism caps the vertex's parallelism (pipeline.max-parallelism
	// or the operator's own); values below 1 mean no cap.
	MaxParallelism int
}

// handler is the behaviour of one state. Each state lives in its own file.
type handler interface {
	// step handles an event of the current attempt (or one without an
	// attempt). It returns false when the event means nothing in this state;
	// Step then logs and drops it.
	step(ev Event) bool
	// timer runs a timer that the current state set.
	timer(k timerKind)
}

// timerKind names a timer. A state has at most one timer of each kind.
type timerKind int

const (
	timerStabilization timerKind = iota // resources settled: (re)deploy or rescale
	timerResourceWait                   // resource-wait-timeout
	timerRestart                        // restart-strategy delay over
)

func (k timerKind) String() string {
	switch k {
	case timerStabilization:
		return "stabilization"
	case timerResourceWait:
		return "resource-wait"
	case timerRestart:
		return "restart-delay"
	}
	return "timer(" + fmt.Sprint(int(k)) + ")"
}

// timer is a pending timer. It carries the epoch of the state that set it and
// is dropped if the state has changed since.
type timer struct {
	kind  timerKind
	at    time.Time
	epoch uint64
}

// Scheduler is the adaptive scheduler of one job: a pure state machine that
// decides when to deploy, rescale, restart, cancel and fail. See the package
// documentation for how to drive it. It is not safe for concurrent use.
type Scheduler struct {
	cfg      Config
	log      *slog.Logger
	vertices []Vertex
	maxSlots int // largest useful slot count; 0: no cap

	now   time.Time // the latest time given to New or Tick
	state State
	h     handler
	epoch uint64 // increases on every state change; see timer

	attempt     exec.Attempt          // the latest deployed attempt; 0 before the first
	parallelism map[exec.VertexID]int // of the latest deployed attempt
	slots       int                   // slots used by the latest deployed attempt
	available   int                   // the latest SlotsChanged.Available
	restoreFrom checkpoint.ID         // checkpoint for the next deployment; 0: latest

	restarts     int           // restarts caused by failures, over the job's life
	failures     []time.Time   // failure-rate: the failures within its interval
	backoff      time.Duration // exponential-delay's last delay; 0: none yet
	runningSince time.Time     // when the latest attempt was all running; zero if not

	record         *RescaleRecord // the open rescale record, if any
	lastRecordID   int
	lastRescaleEnd time.Time // end of the last rescale record; zero if none yet

	timers []timer

	// pending holds the Readys not yet Advanced, oldest first. Each Step or
	// Tick that has work appends one (more only if a field would be set
	// twice); batchOpen says whether the last one belongs to the current
	// Step or Tick.
	pending   []Ready
	batchOpen bool
}

// New returns a scheduler in state Created for a job with the given vertices.
// now is the current time. cfg should have passed Validate.
func New(cfg Config, vertices []Vertex, now time.Time) *Scheduler {
	cfg = cfg.withDefaults()
	s := &Scheduler{
		cfg:      cfg,
		log:      cfg.Logger,
		vertices: append([]Vertex(nil), vertices...),
		now:      now,
		state:    Created,
		attempt:  cfg.AttemptsAfter,
	}
	for _, v := range vertices {
		if v.MaxParallelism < 1 {
			s.maxSlots = 0
			break
		}
		s.maxSlots = max(s.maxSlots, v.MaxParallelism)
	}
	s.h = &created{s: s}
	return s
}

// Step feeds an event. An event of another attempt than the latest
// deployed one, or one that means nothing in the current state, is
// refused with an error and changes nothing; the shell logs it. Events are
// stamped with the time of the latest Tick.
func (s *Scheduler) Step(ev Event) error {
	s.batchOpen = false
	if ev == nil {
		return fmt.Errorf("scheduler: nil event in state %s", s.state)
	}
	if s.state.Terminal() {
		return fmt.Errorf("scheduler: %T%+v in terminal state %s", ev, ev, s.state)
	}
	if a, ok := attemptOf(ev); ok && a != s.attempt {
		return fmt.Errorf("scheduler: %T%+v of attempt %d, not the latest %d (state %s)", ev, ev, a, s.attempt, s.state)
	}
	if sc, ok := ev.(SlotsChanged); ok {
		s.available = max(sc.Available, 0)
	}
	if !s.h.step(ev) {
		return fmt.Errorf("scheduler: %T%+v means nothing in state %s (attempt %d)", ev, ev, s.state, s.attempt)
	}
	return nil
}

// Tick advances time to now and runs the timers due by then. Timers set while
// running them wait for the next Tick. Time never goes back: an earlier now
// is ignored.
func (s *Scheduler) Tick(now time.Time) {
	s.batchOpen = false
	if now.After(s.now) {
		s.now = now
	}
	var due []timer
	kept := s.timers[:0]
	for _, t := range s.timers {
		if t.at.After(s.now) {
			kept = append(kept, t)
		} else {
			due = append(due, t)
		}
	}
	s.timers = kept
	sortTimers(due)
	for _, t := range due {
		if t.epoch != s.epoch {
			s.log.Debug("scheduler dropped timer of an earlier state", "timer", t.kind.String(), "state", s.state.String())
			continue
		}
		s.h.timer(t.kind)
	}
}

func sortTimers(ts []timer) {
	// Insertion sort: there are at most a handful of timers.
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].at.Before(ts[j-1].at); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// Deadline returns when the earliest timer of the current state is due, so
// that the shell can Tick exactly then instead of polling.
func (s *Scheduler) Deadline() (time.Time, bool) {
	var at time.Time
	found := false
	for _, t := range s.timers {
		if t.epoch == s.epoch && (!found || t.at.Before(at)) {
			at, found = t.at, true
		}
	}
	return at, found
}

// HasReady reports whether there is work for the shell.
func (s *Scheduler) HasReady() bool { return len(s.pending) > 0 }

// Ready returns the oldest batch of work not yet Advanced (the zero Ready if
// there is none). Call Advance once it is done; until then Ready returns the
// same batch.
func (s *Scheduler) Ready() Ready {
	if len(s.pending) == 0 {
		return Ready{}
	}
	return s.pending[0]
}

// Advance acknowledges the batch returned by the last Ready.
func (s *Scheduler) Advance(Ready) {
	if len(s.pending) == 0 {
		return
	}
	s.pending[0] = Ready{}
	s.pending = s.pending[1:]
	if len(s.pending) == 0 {
		s.pending = nil
		s.batchOpen = false
	}
}

// State returns the current state.
func (s *Scheduler) State() State { return s.state }

// Attempt returns the latest deployed attempt, 0 before the first.
func (s *Scheduler) Attempt() exec.Attempt { return s.attempt }

// Parallelism returns the parallelism of each vertex in the latest deployed
// attempt (empty before the first).
func (s *Scheduler) Parallelism() map[exec.VertexID]int { return maps.Clone(s.parallelism) }

// Restarts returns how many times the job was restarted after a failure.
func (s *Scheduler) Restarts() int { return s.restarts }

// batch returns the Ready that collects the current Step's or Tick's work.
func (s *Scheduler) batch() *Ready {
	if !s.batchOpen {
		s.pending = append(s.pending, Ready{})
		s.batchOpen = true
	}
	return &s.pending[len(s.pending)-1]
}

// newBatch starts another Ready for the current Step or Tick, when a field of
// the current one is already set.
func (s *Scheduler) newBatch() *Ready {
	s.batchOpen = false
	return s.batch()
}

func (s *Scheduler) emitStop(attempt exec.Attempt) {
	rd := s.batch()
	if rd.Stop != nil {
		rd = s.newBatch()
	}
	rd.Stop = &attempt
}

func (s *Scheduler) emitCheckpoint(req CheckpointRequest) {
	rd := s.batch()
	if rd.TriggerCheckpoint != nil {
		rd = s.newBatch()
	}
	rd.TriggerCheckpoint = &req
}

func (s *Scheduler) emitDeploy(d Deployment) {
	rd := s.batch()
	if rd.Deploy != nil {
		rd = s.newBatch()
	}
	rd.Deploy = &d
}

// setTimer (re)arms the current state's timer of kind k.
func (s *Scheduler) setTimer(k timerKind, at time.Time) {
	s.cancelTimer(k)
	s.timers = append(s.timers, timer{kind: k, at: at, epoch: s.epoch})
}

// cancelTimer disarms the timer of kind k, if any.
func (s *Scheduler) cancelTimer(k timerKind) {
	kept := s.timers[:0]
	for _, t := range s.timers {
		if t.kind != k {
			kept = append(kept, t)
		}
	}
	s.timers = kept
}

// hasTimer reports whether the current state armed a timer of kind k.
func (s *Scheduler) hasTimer(k timerKind) bool {
	for _, t := range s.timers {
		if t.kind == k && t.epoch == s.epoch {
			return true
		}
	}
	return false
}

// slotsFor is the number of slots the job wants with avail slots available:
// the largest vertex parallelism it would run at.
func (s *Scheduler) slotsFor(avail int) int {
	n := max(avail, 0)
	if !s.cfg.Reactive {
		n = min(n, s.cfg.DefaultParallelism)
	}
	if s.maxSlots > 0 {
		n = min(n, s.maxSlots)
	}
	return n
}

// desiredSlots is slotsFor the currently available slots.
func (s *Scheduler) desiredSlots() int { return s.slotsFor(s.available) }

// parallelismFor spreads a slot count over the vertices: each runs at n,
// capped by its max parallelism.
func (s *Scheduler) parallelismFor(n int) map[exec.VertexID]int {
	p := make(map[exec.VertexID]int, len(s.vertices))
	for _, v := range s.vertices {
		if v.MaxParallelism >= 1 {
			p[v.ID] = min(n, v.MaxParallelism)
		} else {
			p[v.ID] = n
		}
	}
	return p
}

// deploy emits the deployment of the next attempt at the currently desired
// parallelism, restoring restoreFrom. The caller ensures a slot is available.
func (s *Scheduler) deploy() {
	n := s.desiredSlots()
	s.attempt++
	s.slots = n
	s.parallelism = s.parallelismFor(n)
	s.runningSince = time.Time{}
	if s.record != nil {
		s.record.To = n
		s.record.Checkpoint = s.restoreFrom
	}
	s.log.Info("scheduler deploying", "attempt", s.attempt, "slots", n, "restore_from", s.restoreFrom)
	s.emitDeploy(Deployment{Attempt: s.attempt, Parallelism: maps.Clone(s.parallelism), Slots: n, RestoreFrom: s.restoreFrom})
	s.restoreFrom = 0
}

// beginRecord opens a rescale record and publishes it, unless one is open
// already: a rescale overtaken by another rescale or a failure is one pause,
// measured from its first start to the end of the last.
func (s *Scheduler) beginRecord(trigger Trigger, from, to int) {
	if s.record != nil {
		s.log.Info("scheduler rescale continues", "id", s.record.ID, "trigger", string(s.record.Trigger), "new_cause", string(trigger))
		return
	}
	s.lastRecordID++
	s.record = &RescaleRecord{ID: s.lastRecordID, Trigger: trigger, From: from, To: to, Start: s.now}
	s.log.Info("scheduler rescale started", "id", s.record.ID, "trigger", string(trigger), "from", from, "to", to)
	rec := *s.record
	rd := s.batch()
	if rd.RescaleStarted != nil {
		rd = s.newBatch()
	}
	rd.RescaleStarted = &rec
}

// endRecord closes the open rescale record, if any, and starts the cooldown.
func (s *Scheduler) endRecord() {
	if s.record == nil {
		return
	}
	s.record.End = s.now
	s.lastRescaleEnd = s.now
	rec := *s.record
	s.record = nil
	s.log.Info("scheduler rescale ended", "id", rec.ID, "trigger", string(rec.Trigger), "from", rec.From, "to", rec.To,
		"checkpoint", rec.Checkpoint, "pause", rec.End.Sub(rec.Start))
	rd := s.batch()
	if rd.RescaleEnded != nil {
		rd = s.newBatch()
	}
	rd.RescaleEnded = &rec
}
