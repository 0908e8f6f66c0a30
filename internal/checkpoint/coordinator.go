package checkpoint

import (
	"cmp"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tide-stream/tide/internal/exec"
)

// inflight is the one checkpoint in flight. It waits for acknowledgements
// until meta is set, then for Persisted.
type inflight struct {
	id        ID
	attempt   exec.Attempt
	req       Request
	triggered time.Time
	waiting   map[exec.TaskKey]bool               // tasks yet to acknowledge
	acks      map[exec.TaskKey][]OperatorSnapshot // acknowledged tasks
	meta      *Metadata                           // set when all tasks acknowledged
	stats     *CheckpointStats                    // its entry in the history
}

// retained is a completed checkpoint that may be discarded later.
type retained struct {
	id   ID
	path string
}

// Coordinator decides when checkpoints start, collects the tasks'
// acknowledgements, and says when a checkpoint is complete, failed or to be
// discarded. It is a pure state machine (see the package doc): it does no IO
// and reads no clock; one goroutine owns it.
//
// It allows one checkpoint in flight, as Flink's default
// max-concurrent-checkpoints=1: checkpoints of a streaming job are cheap to
// delay, and one in flight keeps the acknowledgement bookkeeping and the
// queue semantics simple.
type Coordinator struct {
	cfg Config
	log *slog.Logger
	now time.Time // the last Tick's time

	hasAttempt bool
	attempt    exec.Attempt
	running    bool
	sources    []exec.TaskKey
	tasks      map[exec.TaskKey]bool
	vertexPar  map[exec.VertexID]int // parallelism of each vertex of the attempt

	nextID       ID
	nextPeriodic time.Time // zero: no periodic checkpoint scheduled
	cur          *inflight // nil when none is in flight
	queued       *Request  // at most one

	retained   []retained // completed checkpoints (not savepoints), by id
	latestID   ID
	latestPath string
	hasLatest  bool

	stats   Stats              // counts and latest; History unused
	history []*CheckpointStats // newest first, at most historySize
	out     Ready
}

// historySize is how many checkpoints Stats.History keeps.
const historySize = 10

// NewCoordinator returns a coordinator at time now, with no attempt
// running. cfg gets its defaults; the caller should have checked
// cfg.Validate.
func NewCoordinator(cfg Config, now time.Time) *Coordinator {
	cfg.EnsureDefaults()
	c := &Coordinator{
		cfg:    cfg,
		log:    cfg.Logger.With(slog.String("component", "checkpoint-coordinator"), slog.String("job", cfg.JobID)),
		now:    now,
		nextID: max(1, cfg.FirstID),
	}
	for _, r := range cfg.Retained {
		c.retained = append(c.retained, retained{id: r.ID, path: r.Path})
		c.nextID = max(c.nextID, r.ID+1)
	}
	slices.SortFunc(c.retained, func(a, b retained) int { return cmp.Compare(a.id, b.id) })
	return c
}

// Step applies an event. It returns an error only for input that cannot be
// valid (a future attempt, a malformed acknowledgement, Persisted for a
// checkpoint not awaiting it); the caller logs it. Stale input, which is
// normal in a distributed system, is logged and ignored.
func (c *Coordinator) Step(ev Event) error {
	switch ev := ev.(type) {
	case AttemptStarted:
		return c.handleAttemptStarted(ev)
	case AttemptStopped:
		return c.handleAttemptStopped(ev)
	case TriggerRequest:
		c.handleTriggerRequest(ev)
		return nil
	case Ack:
		return c.handleAck(ev)
	case Decline:
		return c.handleDecline(ev)
	case Persisted:
		return c.handlePersisted(ev)
	case Restored:
		return c.handleRestored(ev)
	default:
		return fmt.Errorf("checkpoint coordinator: unknown event %T", ev)
	}
}

// Tick advances the coordinator's time to now: checkpoints waiting for
// acknowledgements longer than Timeout fail, and a periodic checkpoint is
// triggered (or queued) when due. Time never goes back; an earlier now is
// ignored.
func (c *Coordinator) Tick(now time.Time) {
	if now.Before(c.now) {
		return
	}
	c.now = now
	if p := c.cur; p != nil && p.meta == nil && now.Sub(p.triggered) >= c.cfg.Timeout {
		c.fail(fmt.Sprintf("timed out after %v: %s", c.cfg.Timeout, p.missing()))
	}
	if c.running && !c.nextPeriodic.IsZero() && !now.Before(c.nextPeriodic) {
		c.nextPeriodic = now.Add(c.cfg.Interval)
		c.request(Request{Kind: KindPeriodic})
	}
}

// Deadline returns when the coordinator next needs a Tick: the in-flight
// checkpoint's timeout, or the next periodic checkpoint.
func (c *Coordinator) Deadline() (time.Time, bool) {
	var at time.Time
	found := false
	if p := c.cur; p != nil && p.meta == nil {
		at, found = p.triggered.Add(c.cfg.Timeout), true
	}
	if c.running && !c.nextPeriodic.IsZero() && (!found || c.nextPeriodic.Before(at)) {
		at, found = c.nextPeriodic, true
	}
	return at, found
}

// HasReady reports whether Ready holds work.
func (c *Coordinator) HasReady() bool { return !c.out.empty() }

// Ready returns the work for the shell (see Ready for the ordering
// contract). It does not change the coordinator; call Advance when done.
func (c *Coordinator) Ready() Ready {
	return Ready{
		Triggers:  slices.Clip(c.out.Triggers),
		Persist:   c.out.Persist,
		Completed: slices.Clip(c.out.Completed),
		Failed:    slices.Clip(c.out.Failed),
		Discard:   slices.Clip(c.out.Discard),
	}
}

// Advance says the shell has done the work of rd, a value Ready returned.
// Work added since that Ready stays for the next one.
func (c *Coordinator) Advance(rd Ready) {
	c.out.Triggers = dropFront(c.out.Triggers, len(rd.Triggers))
	c.out.Completed = dropFront(c.out.Completed, len(rd.Completed))
	c.out.Failed = dropFront(c.out.Failed, len(rd.Failed))
	c.out.Discard = dropFront(c.out.Discard, len(rd.Discard))
	if rd.Persist != nil && rd.Persist == c.out.Persist {
		c.out.Persist = nil
	}
}

func dropFront[T any](s []T, n int) []T {
	if n >= len(s) {
		return nil
	}
	return s[n:]
}

// LatestCompleted returns the newest completed checkpoint or savepoint (or
// the one the job was restored from, if none completed since) and its path.
func (c *Coordinator) LatestCompleted() (ID, string, bool) {
	return c.latestID, c.latestPath, c.hasLatest
}

func (c *Coordinator) handleAttemptStarted(ev AttemptStarted) error {
	if c.hasAttempt && ev.Attempt <= c.attempt {
		return fmt.Errorf("checkpoint coordinator: attempt %d started, but attempt %d already did", ev.Attempt, c.attempt)
	}
	if len(ev.Tasks) == 0 || len(ev.Sources) == 0 {
		return fmt.Errorf("checkpoint coordinator: attempt %d started with %d tasks and %d sources, need at least one of each",
			ev.Attempt, len(ev.Tasks), len(ev.Sources))
	}
	tasks := make(map[exec.TaskKey]bool, len(ev.Tasks))
	vertexPar := map[exec.VertexID]int{}
	for _, t := range ev.Tasks {
		if t.Subtask < 0 || t.Vertex == "" {
			return fmt.Errorf("checkpoint coordinator: attempt %d: invalid task %v", ev.Attempt, t)
		}
		if tasks[t] {
			return fmt.Errorf("checkpoint coordinator: attempt %d: task %v listed twice", ev.Attempt, t)
		}
		tasks[t] = true
		vertexPar[t.Vertex]++
	}
	for _, s := range ev.Sources {
		if !tasks[s] {
			return fmt.Errorf("checkpoint coordinator: attempt %d: source %v is not among its tasks", ev.Attempt, s)
		}
	}
	c.hasAttempt, c.attempt, c.running = true, ev.Attempt, true
	c.sources = slices.Clone(ev.Sources)
	c.tasks, c.vertexPar = tasks, vertexPar
	c.nextPeriodic = time.Time{}
	if c.cfg.Interval > 0 {
		c.nextPeriodic = c.now.Add(c.cfg.Interval)
	}
	c.log.Info("attempt started", slog.Any("attempt", ev.Attempt), slog.Int("tasks", len(tasks)), slog.Int("sources", len(ev.Sources)))
	// The new attempt is in place first, so that a request queued behind
	// the aborted checkpoint starts for the new attempt.
	if p := c.cur; p != nil && p.meta == nil {
		c.fail(fmt.Sprintf("attempt %d superseded by attempt %d", p.attempt, ev.Attempt))
	}
	c.maybeStartQueued()
	return nil
}

func (c *Coordinator) handleAttemptStopped(ev AttemptStopped) error {
	switch {
	case !c.hasAttempt || ev.Attempt > c.attempt:
		return fmt.Errorf("checkpoint coordinator: attempt %d stopped, but it never started (current %d)", ev.Attempt, c.attempt)
	case ev.Attempt < c.attempt || !c.running:
		c.log.Info("ignoring stop of an attempt that is not running", slog.Any("attempt", ev.Attempt), slog.Any("current", c.attempt))
		return nil
	}
	c.running = false
	c.nextPeriodic = time.Time{}
	if p := c.cur; p != nil && p.meta == nil && p.attempt == ev.Attempt {
		c.fail("attempt stopped")
	}
	if q := c.queued; q != nil {
		c.queued = nil
		if q.Kind != KindPeriodic {
			c.reject(*q, "attempt stopped")
		}
	}
	c.log.Info("attempt stopped", slog.Any("attempt", ev.Attempt))
	return nil
}

func (c *Coordinator) handleTriggerRequest(ev TriggerRequest) {
	if ev.Request.Kind == KindPeriodic {
		ev.Request.Kind = KindManual // periodic requests merge; asked-for ones do not
	}
	c.request(ev.Request)
}

// request starts a checkpoint for r, or queues it behind the one in flight.
func (c *Coordinator) request(r Request) {
	switch {
	case !c.running:
		if r.Kind != KindPeriodic {
			c.reject(r, "job not running")
		}
	case c.cur == nil:
		c.trigger(r)
	case c.queued == nil:
		c.queued = &r
	case r.Kind == KindPeriodic:
		// Merged into the queued request: any checkpoint will do.
	case c.queued.Kind == KindPeriodic:
		c.queued = &r // a request subsumes a queued periodic checkpoint
	default:
		c.reject(r, fmt.Sprintf("checkpoint %d in progress and request %v already queued", c.cur.id, *c.queued))
	}
}

func (c *Coordinator) maybeStartQueued() {
	if c.cur != nil || c.queued == nil || !c.running {
		return
	}
	r := *c.queued
	c.queued = nil
	c.trigger(r)
}

func (c *Coordinator) trigger(r Request) {
	id := c.nextID
	c.nextID++
	p := &inflight{
		id:        id,
		attempt:   c.attempt,
		req:       r,
		triggered: c.now,
		waiting:   maps.Clone(c.tasks),
		acks:      map[exec.TaskKey][]OperatorSnapshot{},
		stats: &CheckpointStats{
			ID:               id,
			Status:           StatusInProgress,
			IsSavepoint:      r.Kind.Savepoint(),
			Reason:           r.Kind.String(),
			TriggerTimestamp: c.now.UnixMilli(),
			NumSubtasks:      len(c.tasks),
		},
	}
	c.cur = p
	c.addHistory(p.stats)
	// Any trigger restarts the period, so a periodic request that waited in
	// the queue is not followed at once by another.
	if c.cfg.Interval > 0 {
		c.nextPeriodic = c.now.Add(c.cfg.Interval)
	}
	c.out.Triggers = append(c.out.Triggers, Trigger{
		Attempt: c.attempt, Checkpoint: id, Request: r, Sources: slices.Clone(c.sources),
	})
	c.log.Info("triggering checkpoint", slog.Uint64("checkpoint", uint64(id)), slog.Any("attempt", c.attempt),
		slog.String("request", r.String()))
}

// matchInflight returns the in-flight checkpoint a task's message is for,
// or nil after logging why the message is ignored.
func (c *Coordinator) matchInflight(kind string, attempt exec.Attempt, id ID, task exec.TaskKey) (*inflight, error) {
	log := c.log.With(slog.String("from", task.String()), slog.Uint64("checkpoint", uint64(id)), slog.Any("attempt", attempt))
	switch {
	case !c.hasAttempt || attempt > c.attempt:
		return nil, fmt.Errorf("checkpoint coordinator: %s of checkpoint %d from %v of attempt %d, which never started (current %d)",
			kind, id, task, attempt, c.attempt)
	case attempt < c.attempt:
		log.Info("ignoring "+kind+" from an old attempt", slog.Any("current", c.attempt))
	case c.cur == nil || c.cur.id != id || c.cur.attempt != attempt:
		log.Info("ignoring " + kind + " of an unknown or aborted checkpoint")
	case !c.tasks[task]:
		log.Warn("ignoring " + kind + " from a task not in the attempt")
	case !c.cur.waiting[task]:
		log.Info("ignoring duplicate " + kind)
	default:
		return c.cur, nil
	}
	return nil, nil
}

func (c *Coordinator) handleAck(ev Ack) error {
	p, err := c.matchInflight("acknowledgement", ev.Attempt, ev.Checkpoint, ev.Task)
	if p == nil {
		return err
	}
	if err := c.checkSnapshots(ev); err != nil {
		c.fail(fmt.Sprintf("invalid acknowledgement from %v: %v", ev.Task, err))
		return fmt.Errorf("checkpoint coordinator: checkpoint %d: acknowledgement from %v: %w", ev.Checkpoint, ev.Task, err)
	}
	delete(p.waiting, ev.Task)
	p.acks[ev.Task] = ev.Snapshots
	p.stats.NumAcknowledgedSubtasks = len(p.acks)
	p.stats.LatestAckTimestamp = c.now.UnixMilli()
	c.log.Debug("acknowledged", slog.Uint64("checkpoint", uint64(p.id)), slog.String("from", ev.Task.String()), slog.Int("waiting", len(p.waiting)))
	if len(p.waiting) > 0 {
		return nil
	}
	meta, size, err := c.assemble(p)
	if err != nil {
		c.fail(fmt.Sprintf("assembling metadata: %v", err))
		return fmt.Errorf("checkpoint coordinator: checkpoint %d: assembling metadata: %w", p.id, err)
	}
	p.meta = meta
	p.stats.StateSize = size
	c.out.Persist = meta
	c.log.Info("all tasks acknowledged; persisting metadata", slog.Uint64("checkpoint", uint64(p.id)), slog.Int64("state_size", size))
	return nil
}

// checkSnapshots validates what one task reports.
func (c *Coordinator) checkSnapshots(ev Ack) error {
	seen := map[string]bool{}
	for _, s := range ev.Snapshots {
		switch {
		case s.OperatorID == "":
			return fmt.Errorf("snapshot with an empty operator id")
		case seen[s.OperatorID]:
			return fmt.Errorf("operator %q reported twice", s.OperatorID)
		case s.Subtask != ev.Task.Subtask:
			return fmt.Errorf("operator %q: snapshot of subtask %d from subtask %d", s.OperatorID, s.Subtask, ev.Task.Subtask)
		case s.SourcePosition < 0:
			return fmt.Errorf("operator %q: negative source position %d", s.OperatorID, s.SourcePosition)
		}
		seen[s.OperatorID] = true
		if s.Keyed != nil {
			if err := s.Keyed.validate(c.cfg.MaxParallelism); err != nil {
				return fmt.Errorf("operator %q: keyed state: %w", s.OperatorID, err)
			}
			// A task writes a checkpoint's state into its directory, and
			// nowhere else: a path outside it would make the readers of
			// the checkpoint read (and a savepoint's copy copy) another
			// object of the storage.
			if dir := StateDir(c.cfg.JobID, ev.Checkpoint); !strings.HasPrefix(s.Keyed.Path, dir) {
				return fmt.Errorf("operator %q: keyed state at %q, outside the checkpoint's directory %q", s.OperatorID, s.Keyed.Path, dir)
			}
		}
	}
	return nil
}

// assemble builds the metadata of p from its acknowledgements, and the
// size of the state it names.
func (c *Coordinator) assemble(p *inflight) (*Metadata, int64, error) {
	type opAcc struct {
		vertex exec.VertexID
		snaps  []OperatorSnapshot
	}
	ops := map[string]*opAcc{}
	for task, snaps := range p.acks {
		for _, s := range snaps {
			a := ops[s.OperatorID]
			if a == nil {
				a = &opAcc{vertex: task.Vertex}
				ops[s.OperatorID] = a
			}
			if a.vertex != task.Vertex {
				return nil, 0, fmt.Errorf("operator %q reported by vertices %q and %q", s.OperatorID, a.vertex, task.Vertex)
			}
			a.snaps = append(a.snaps, s)
		}
	}
	m := &Metadata{
		JobID:              c.cfg.JobID,
		CheckpointID:       p.id,
		Attempt:            p.attempt,
		Savepoint:          p.req.Kind.Savepoint(),
		TimestampUnixMilli: p.triggered.UnixMilli(),
		MaxParallelism:     c.cfg.MaxParallelism,
	}
	var size int64
	for _, id := range slices.Sorted(maps.Keys(ops)) {
		a := ops[id]
		slices.SortFunc(a.snaps, func(x, y OperatorSnapshot) int { return cmp.Compare(x.Subtask, y.Subtask) })
		op := OperatorState{OperatorID: id, Parallelism: c.vertexPar[a.vertex]}
		for _, s := range a.snaps {
			if s.Keyed != nil {
				op.Keyed = append(op.Keyed, *s.Keyed)
				size += s.Keyed.Size()
			}
			op.List = append(op.List, s.List...)
			for _, e := range s.List {
				size += int64(len(e))
			}
			op.SourcePosition += s.SourcePosition
		}
		m.Operators = append(m.Operators, op)
	}
	if err := m.Validate(); err != nil {
		return nil, 0, err
	}
	return m, size, nil
}

func (c *Coordinator) handleDecline(ev Decline) error {
	p, err := c.matchInflight("decline", ev.Attempt, ev.Checkpoint, ev.Task)
	if p == nil {
		return err
	}
	c.fail(fmt.Sprintf("declined by %v: %s", ev.Task, ev.Reason))
	return nil
}

func (c *Coordinator) handlePersisted(ev Persisted) error {
	p := c.cur
	if p == nil || p.meta == nil || p.id != ev.Checkpoint {
		return fmt.Errorf("checkpoint coordinator: persisted checkpoint %d, which is not awaiting persistence", ev.Checkpoint)
	}
	if ev.Err != nil {
		c.fail(fmt.Sprintf("persisting metadata: %v", ev.Err))
		return nil
	}
	c.complete(ev.Path)
	return nil
}

func (c *Coordinator) handleRestored(ev Restored) error {
	m := ev.Metadata
	if m == nil {
		return fmt.Errorf("checkpoint coordinator: restored from %q without metadata", ev.Path)
	}
	c.nextID = max(c.nextID, m.CheckpointID+1)
	c.stats.Counts.Restored++
	c.stats.Latest.Restored = &RestoredStats{
		ID: m.CheckpointID, RestoreTimestamp: c.now.UnixMilli(), IsSavepoint: m.Savepoint, ExternalPath: ev.Path,
	}
	c.latestID, c.latestPath, c.hasLatest = m.CheckpointID, ev.Path, true
	if !m.Savepoint && m.JobID == c.cfg.JobID && !slices.ContainsFunc(c.retained, func(r retained) bool { return r.id == m.CheckpointID }) {
		c.retained = append(c.retained, retained{id: m.CheckpointID, path: ev.Path})
		slices.SortFunc(c.retained, func(a, b retained) int { return cmp.Compare(a.id, b.id) })
	}
	c.log.Info("restored", slog.Uint64("checkpoint", uint64(m.CheckpointID)), slog.String("path", ev.Path), slog.Bool("savepoint", m.Savepoint))
	return nil
}

// complete ends the in-flight checkpoint, whose metadata is durable at path.
func (c *Coordinator) complete(path string) {
	p := c.cur
	c.cur = nil
	p.stats.Status = StatusCompleted
	p.stats.ExternalPath = path
	p.stats.EndToEndDuration = c.now.Sub(p.triggered).Milliseconds()
	c.stats.Counts.Completed++
	done := *p.stats
	if p.req.Kind.Savepoint() {
		c.stats.Latest.Savepoint = &done
	} else {
		c.stats.Latest.Completed = &done
	}
	c.latestID, c.latestPath, c.hasLatest = p.id, path, true
	c.out.Completed = append(c.out.Completed, Completion{
		Checkpoint: p.id, Attempt: p.attempt, Path: path, Request: p.req,
	})
	c.log.Info("checkpoint completed", slog.Uint64("checkpoint", uint64(p.id)), slog.String("path", path),
		slog.Int64("duration_ms", done.EndToEndDuration), slog.Int64("state_size", done.StateSize))
	if !p.req.Kind.Savepoint() {
		c.retained = append(c.retained, retained{id: p.id, path: path})
		for len(c.retained) > c.cfg.NumRetained {
			c.out.Discard = append(c.out.Discard, c.retained[0].id)
			c.retained = c.retained[1:]
		}
	}
	c.maybeStartQueued()
}

// fail ends the in-flight checkpoint as failed.
func (c *Coordinator) fail(reason string) {
	p := c.cur
	c.cur = nil
	p.stats.Status = StatusFailed
	p.stats.FailureMessage = reason
	p.stats.EndToEndDuration = c.now.Sub(p.triggered).Milliseconds()
	c.stats.Counts.Failed++
	failed := *p.stats
	c.stats.Latest.Failed = &failed
	c.out.Failed = append(c.out.Failed, Failure{Checkpoint: p.id, Request: p.req, Reason: reason})
	c.log.Warn("checkpoint failed", slog.Uint64("checkpoint", uint64(p.id)), slog.Any("attempt", p.attempt), slog.String("reason", reason))
	c.maybeStartQueued()
}

// reject resolves a request for which no checkpoint was triggered.
func (c *Coordinator) reject(r Request, why string) {
	c.out.Failed = append(c.out.Failed, Failure{Request: r, Reason: "request rejected: " + why})
	c.log.Warn("checkpoint request rejected", slog.String("request", r.String()), slog.String("why", why))
}

// missing describes the tasks p still waits for, for failure messages.
func (p *inflight) missing() string {
	keys := slices.SortedFunc(maps.Keys(p.waiting), func(a, b exec.TaskKey) int {
		return cmp.Or(strings.Compare(string(a.Vertex), string(b.Vertex)), cmp.Compare(a.Subtask, b.Subtask))
	})
	const show = 5
	names := make([]string, 0, show)
	for _, k := range keys[:min(show, len(keys))] {
		names = append(names, k.String())
	}
	more := ""
	if len(keys) > show {
		more = fmt.Sprintf(" and %d more", len(keys)-show)
	}
	return fmt.Sprintf("%d of %d tasks acknowledged, waiting for %s%s",
		len(p.acks), len(p.acks)+len(p.waiting), strings.Join(names, ", "), more)
}
