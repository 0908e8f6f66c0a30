package attempt

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/scheduler"
)

// Config configures a Lifecycle.
type Config struct {
	// HasInputs says the job has subtasks that read from the network.
	// Rescale pauses are then timed on those alone: a source emits into
	// buffers before its consumers have restored their state, which would
	// hide the restore from the pause.
	HasInputs bool
	// MaxFinalFailures is how many final checkpoints in a row may fail
	// before a bounded job fails instead of restarting to try again.
	// Default 3.
	MaxFinalFailures int
	// RetryInterval is how long a refused final-checkpoint request waits
	// before it is made again. Default 20ms.
	RetryInterval time.Duration
	// HistoryLimit bounds the rescale records kept. Default 100.
	HistoryLimit int
	Logger       *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MaxFinalFailures <= 0 {
		c.MaxFinalFailures = 3
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 20 * time.Millisecond
	}
	if c.HistoryLimit <= 0 {
		c.HistoryLimit = 100
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Lifecycle is the state of the job's attempts. It is not safe for
// concurrent use.
type Lifecycle struct {
	cfg Config
	log *slog.Logger
	now time.Time

	cur *run // nil before the first deployment
	// halted maps a halting checkpoint to the attempt whose sources stop
	// at its barrier until it ends.
	halted map[checkpoint.ID]exec.Attempt
	// resume lists halting checkpoints that ended; the attempt's sources
	// go on unless it is stopped before the Ready is taken.
	resume []halt
	// corrupt holds the checkpoints found corrupt on restore, with why.
	corrupt map[checkpoint.ID]string
	// finalFailures counts final checkpoints failed in a row.
	finalFailures int
	// retryFinalAt is when a refused final-checkpoint request is made
	// again; zero if none waits.
	retryFinalAt time.Time

	rescales []*Rescale

	out Ready
}

type halt struct {
	attempt    exec.Attempt
	checkpoint checkpoint.ID
}

// run is one deployed attempt.
type run struct {
	id          exec.Attempt
	tasks       map[exec.TaskKey]*task
	order       []exec.TaskKey // deployment order, for deterministic output
	sources     []exec.TaskKey
	restored    checkpoint.ID
	restoredPos int64
	running     int
	finished    int
	stopped     int
	sourcesDone int
	started     bool // all tasks running: the coordinator knows the attempt
	stopping    bool
	// ended is set by Stop: the attempt never runs again, even once all
	// its tasks have stopped and stopping is over.
	ended       bool
	firstRecord int64 // unix nanos, min over the tasks that time pauses
	lastRecord  int64 // unix nanos, max over the tasks that time pauses
	// finalRequested is set while the final checkpoint of a bounded job is
	// requested; finalCP is its id once triggered.
	finalRequested bool
	finalCP        checkpoint.ID
	// lostTM says a TaskManager with tasks of the attempt was lost: its
	// failures are that loss, not the job's.
	lostTM        bool
	restoredBytes int64
	localGroups   int
}

type task struct {
	tm         string
	state      rpc.TaskState
	source     bool
	sourceDone bool
	done       bool // reached a final state or its TaskManager is gone
	position   int64
}

// New returns a Lifecycle with no attempt deployed.
func New(cfg Config, now time.Time) *Lifecycle {
	cfg = cfg.withDefaults()
	return &Lifecycle{cfg: cfg, log: cfg.Logger, now: now,
		halted: map[checkpoint.ID]exec.Attempt{}, corrupt: map[checkpoint.ID]string{}}
}

// Step feeds an event. An error means the event was refused and changed
// nothing.
func (l *Lifecycle) Step(ev Event) error {
	switch e := ev.(type) {
	case Deployed:
		return l.deployed(e)
	case Status:
		return l.status(e)
	case Acked:
		if t := l.task(e.Attempt, e.Task); t != nil && e.SourcePosition != 0 {
			t.position = e.SourcePosition
		}
	case TaskManagerGone:
		l.taskManagerGone(e)
	case Stop:
		l.stop(e.Attempt)
	case JobEnded:
		if a := l.cur; a != nil && a.started {
			l.out.Coordinator = append(l.out.Coordinator, checkpoint.AttemptStopped{Attempt: a.id})
		}
	case Triggered:
		l.triggered(e)
	case CheckpointEnded:
		l.checkpointEnded(e)
	case FinalRefused:
		if a := l.cur; a != nil && a.id == e.Attempt && a.finalRequested {
			a.finalRequested = false
			l.retryFinalAt = l.now.Add(l.cfg.RetryInterval)
		}
	case RescaleStarted:
		l.rescaleStarted(e.Record)
	case RescaleEnded:
		l.rescaleEnded(e.Record)
	case nil:
		return fmt.Errorf("attempt: nil event")
	default:
		return fmt.Errorf("attempt: unknown event %T", ev)
	}
	return nil
}

// Tick advances time to now: a refused final-checkpoint request whose
// retry is due is made again.
func (l *Lifecycle) Tick(now time.Time) {
	if now.After(l.now) {
		l.now = now
	}
	if !l.retryFinalAt.IsZero() && !l.now.Before(l.retryFinalAt) {
		l.retryFinalAt = time.Time{}
		l.maybeRequestFinal()
	}
}

// Deadline returns when the Lifecycle next needs a Tick.
func (l *Lifecycle) Deadline() (time.Time, bool) {
	return l.retryFinalAt, !l.retryFinalAt.IsZero()
}

// HasReady reports whether there is work for the shell.
func (l *Lifecycle) HasReady() bool {
	if !l.out.empty() {
		return true
	}
	for _, h := range l.resume {
		if l.resumes(h) {
			return true
		}
	}
	return false
}

// Ready returns the work to do now. Trigger and Resume messages for an
// attempt that is no longer running, or is being stopped, are dropped
// here: a barrier then would only race the cancel.
func (l *Lifecycle) Ready() Ready {
	rd := l.out
	rd.Messages = slices.DeleteFunc(slices.Clone(rd.Messages), func(m Message) bool {
		return (m.Kind == Trigger || m.Kind == Resume) && !l.runs(m.Attempt)
	})
	for _, h := range l.resume {
		if l.resumes(h) {
			l.log.Info("the attempt goes on after its halting checkpoint ended; resuming the sources", "attempt", h.attempt, "checkpoint", h.checkpoint)
			rd.Messages = append(rd.Messages, l.toSources(Message{Kind: Resume, Attempt: h.attempt})...)
		}
	}
	return rd
}

// Advance acknowledges the work of the last Ready.
func (l *Lifecycle) Advance(Ready) {
	l.out = Ready{}
	l.resume = nil
}

// runs reports whether attempt is the deployed one and not being stopped.
func (l *Lifecycle) runs(attempt exec.Attempt) bool {
	a := l.cur
	return a != nil && a.id == attempt && !a.stopping && !a.ended
}

func (l *Lifecycle) resumes(h halt) bool { return l.runs(h.attempt) }

func (l *Lifecycle) allStopped() bool { return l.cur.stopped == len(l.cur.tasks) }

// Current is the deployed attempt, 0 before the first.
func (l *Lifecycle) Current() exec.Attempt {
	if l.cur == nil {
		return 0
	}
	return l.cur.id
}

// Running reports whether the deployed attempt has all its tasks running
// and is not being stopped: a savepoint may be taken.
func (l *Lifecycle) Running() bool {
	return l.cur != nil && l.cur.started && !l.cur.stopping && !l.cur.ended
}

// Started reports whether the deployed attempt had all its tasks running.
func (l *Lifecycle) Started() bool { return l.cur != nil && l.cur.started }

// HostsLive reports whether the TaskManager registration runs a task of the
// deployed attempt that has not stopped.
func (l *Lifecycle) HostsLive(tm string) bool {
	if l.cur == nil {
		return false
	}
	for _, t := range l.cur.tasks {
		if t.tm == tm && !t.done {
			return true
		}
	}
	return false
}

// Live reports whether a subtask of the deployed attempt has not stopped.
func (l *Lifecycle) Live(k exec.TaskKey) bool {
	if l.cur == nil {
		return false
	}
	t, ok := l.cur.tasks[k]
	return ok && !t.done
}

// Corrupt says why checkpoint id cannot be restored, if a restore found it
// corrupt.
func (l *Lifecycle) Corrupt(id checkpoint.ID) (string, bool) {
	why, ok := l.corrupt[id]
	return why, ok
}

func (l *Lifecycle) task(attempt exec.Attempt, k exec.TaskKey) *task {
	if l.cur == nil || l.cur.id != attempt {
		return nil
	}
	return l.cur.tasks[k]
}

func (l *Lifecycle) deployed(e Deployed) error {
	if a := l.cur; a != nil && e.Attempt <= a.id {
		return fmt.Errorf("attempt: deployed attempt %d, not after the current %d", e.Attempt, a.id)
	}
	a := &run{id: e.Attempt, tasks: map[exec.TaskKey]*task{}, restored: e.Restored, restoredPos: e.RestoredPosition}
	for _, t := range e.Tasks {
		if _, dup := a.tasks[t.Key]; dup {
			return fmt.Errorf("attempt: task %v deployed twice", t.Key)
		}
		a.tasks[t.Key] = &task{tm: t.TaskManager, state: rpc.TaskDeploying, source: t.Source}
		a.order = append(a.order, t.Key)
		if t.Source {
			a.sources = append(a.sources, t.Key)
		}
	}
	l.cur = a
	l.retryFinalAt = time.Time{}
	return nil
}

func (l *Lifecycle) status(st Status) error {
	a := l.cur
	if a == nil || st.Attempt != a.id {
		l.log.Debug("status of another attempt", "attempt", st.Attempt, "task", st.Task, "state", st.State)
		return nil
	}
	t, ok := a.tasks[st.Task]
	if !ok || t.tm != st.TaskManager {
		return fmt.Errorf("attempt: status of task %v, which taskmanager %s does not run", st.Task, st.TaskManager)
	}
	if !t.source || !l.cfg.HasInputs {
		if st.FirstRecord != 0 && (a.firstRecord == 0 || st.FirstRecord < a.firstRecord) {
			a.firstRecord = st.FirstRecord
			l.notePause()
		}
		a.lastRecord = max(a.lastRecord, st.LastRecord)
	}
	if st.SourcePosition != 0 {
		t.position = st.SourcePosition
	}
	if t.done {
		return nil
	}
	switch st.State {
	case rpc.TaskRunning:
		if t.state == rpc.TaskDeploying {
			t.state = rpc.TaskRunning
			a.running++
			a.restoredBytes += st.RestoredBytes
			a.localGroups += st.LocalKeyGroups
			if a.running == len(a.tasks) && !a.stopping {
				a.started = true
				l.log.Info("attempt running", "attempt", a.id, "restored_bytes", a.restoredBytes, "local_key_groups", a.localGroups)
				l.out.Coordinator = append(l.out.Coordinator, checkpoint.AttemptStarted{Attempt: a.id,
					Sources: slices.Clone(a.sources), Tasks: slices.Clone(a.order)})
				l.out.Scheduler = append(l.out.Scheduler, scheduler.TasksRunning{Attempt: a.id})
			}
		}
		if st.SourceDone && t.source && !t.sourceDone {
			t.sourceDone = true
			a.sourcesDone++
		}
		l.maybeRequestFinal()
	case rpc.TaskFinished, rpc.TaskCanceled, rpc.TaskFailed:
		t.state, t.done = st.State, true
		a.stopped++
		if st.State == rpc.TaskFinished {
			a.finished++
			if a.finished == len(a.tasks) {
				l.out.Scheduler = append(l.out.Scheduler, scheduler.TasksFinished{Attempt: a.id})
			}
		}
		if st.State == rpc.TaskFailed && !a.stopping {
			l.taskFailed(a, st)
		}
		l.maybeStopped()
	default:
		return fmt.Errorf("attempt: task %v reported state %q", st.Task, st.State)
	}
	return nil
}

func (l *Lifecycle) taskFailed(a *run, st Status) {
	reason, retryable := fmt.Sprintf("%v failed: %s", st.Task, st.Error), st.Domain.Retryable()
	msg := st.Error
	if a.finalRequested && retryable && !a.lostTM {
		// A failure while the final checkpoint is under way is most likely
		// that checkpoint failing (a sink that cannot flush).
		if reason, retryable = l.finalFailed(reason); !retryable {
			msg = reason
		}
	}
	k := st.Task
	l.out.Failures = append(l.out.Failures, Failure{Attempt: a.id, Reason: msg, Task: &k, TaskManager: st.TaskManager, Domain: st.Domain})
	if st.Domain == rpc.DomainCorruptCheckpoint && a.restored != 0 {
		l.log.Error("restore failed on a corrupt checkpoint", "checkpoint", a.restored, "task", st.Task, "err", st.Error)
		l.corrupt[a.restored] = fmt.Sprintf("%v: %s", st.Task, st.Error)
	}
	l.out.Scheduler = append(l.out.Scheduler, scheduler.TaskFailed{Attempt: a.id, Reason: reason, Retryable: retryable, Trigger: scheduler.TriggerFailure})
}

// finalFailed counts an attempt that failed with its final checkpoint
// asked for, and says whether restarting is still worth it: a final
// checkpoint that fails again and again (a sink that cannot flush, state
// that cannot be written) will not finish the job however often it
// restarts.
func (l *Lifecycle) finalFailed(reason string) (string, bool) {
	l.finalFailures++
	if l.finalFailures < l.cfg.MaxFinalFailures {
		return reason, true
	}
	return fmt.Sprintf("the final checkpoint failed %d times in a row, so the job cannot finish; the last time: %s", l.finalFailures, reason), false
}

// maybeRequestFinal asks for the final checkpoint of a bounded job once
// every source has emitted all its input and the attempt runs.
func (l *Lifecycle) maybeRequestFinal() {
	a := l.cur
	if a == nil || !a.started || a.stopping || a.finalRequested || a.sourcesDone < len(a.sources) || !l.retryFinalAt.IsZero() {
		return
	}
	a.finalRequested = true
	l.log.Info("all sources reached the end of their input; taking the final checkpoint", "attempt", a.id)
	l.out.Coordinator = append(l.out.Coordinator, checkpoint.TriggerRequest{Request: checkpoint.Request{Kind: checkpoint.KindFinal, Attempt: a.id}})
}

// maybeStopped tells the scheduler once every task of a stopping attempt
// has stopped.
func (l *Lifecycle) maybeStopped() {
	a := l.cur
	if a == nil || !a.stopping || !l.allStopped() {
		return
	}
	a.stopping = false
	l.notePause()
	l.out.Scheduler = append(l.out.Scheduler, scheduler.TasksStopped{Attempt: a.id})
}

func (l *Lifecycle) stop(id exec.Attempt) {
	a := l.cur
	if a == nil || a.id != id {
		l.out.Scheduler = append(l.out.Scheduler, scheduler.TasksStopped{Attempt: id})
		return
	}
	a.stopping, a.ended = true, true
	if a.started {
		l.out.Coordinator = append(l.out.Coordinator, checkpoint.AttemptStopped{Attempt: id})
	}
	l.out.Messages = append(l.out.Messages, l.toLive(Message{Kind: Cancel, Attempt: id})...)
	l.maybeStopped()
}

func (l *Lifecycle) taskManagerGone(e TaskManagerGone) {
	if n := len(l.rescales); n > 0 && !l.rescales[n-1].ended && !e.Leaving {
		l.rescales[n-1].lostTM = true
	}
	a := l.cur
	if a == nil {
		return
	}
	hosted := false
	for _, k := range a.order {
		if t := a.tasks[k]; t.tm == e.TaskManager && !t.done {
			t.done = true
			a.stopped++
			hosted = true
		}
	}
	a.lostTM = a.lostTM || hosted
	switch {
	case !hosted || a.stopping:
	case !e.Leaving:
		l.out.Failures = append(l.out.Failures, Failure{Attempt: a.id, Name: "TaskManagerLost", TaskManager: e.TaskManager,
			Reason: fmt.Sprintf("taskmanager %s (%s) lost: %s", e.TaskManager, e.DataAddr, e.Reason), Domain: rpc.DomainExternal})
		l.out.Scheduler = append(l.out.Scheduler, scheduler.TaskFailed{Attempt: a.id, Reason: fmt.Sprintf("taskmanager %s lost: %s", e.TaskManager, e.Reason),
			Retryable: true, Trigger: scheduler.TriggerLost})
	default:
		l.out.Scheduler = append(l.out.Scheduler, scheduler.TaskFailed{Attempt: a.id, Reason: fmt.Sprintf("leaving taskmanager %s left early: %s", e.TaskManager, e.Reason),
			Retryable: true, Trigger: scheduler.TriggerLeaving})
	}
	l.maybeStopped()
}

func (l *Lifecycle) triggered(e Triggered) {
	final := e.Request.Kind == checkpoint.KindFinal && e.Request.Attempt == e.Attempt
	a := l.cur
	if final && a != nil && a.id == e.Attempt {
		a.finalCP = e.Checkpoint
	}
	if !l.runs(e.Attempt) {
		// The attempt is being stopped: its checkpoint fails when the
		// coordinator learns so, and a barrier now would only race the
		// cancel (and replace the state kept for local recovery).
		return
	}
	halts := e.Request.Kind.Halts()
	if halts {
		l.halted[e.Checkpoint] = e.Attempt
	}
	sent := map[string]bool{}
	for _, k := range e.Sources {
		t, ok := a.tasks[k]
		if !ok || sent[t.tm] {
			continue
		}
		sent[t.tm] = true
		l.out.Messages = append(l.out.Messages, Message{To: t.tm, Kind: Trigger, Attempt: e.Attempt, Checkpoint: e.Checkpoint,
			Tasks: slices.Clone(e.Sources), Savepoint: e.Request.Kind.Savepoint(), Final: final, Halt: halts})
	}
}

func (l *Lifecycle) checkpointEnded(e CheckpointEnded) {
	a := l.cur
	if e.Failure == "" {
		l.finalFailures = 0
		if a != nil && a.id == e.Attempt {
			l.out.Messages = append(l.out.Messages, l.toLive(Message{Kind: Complete, Attempt: e.Attempt, Checkpoint: e.Checkpoint})...)
		}
		// A stop-with-savepoint keeps its sources halted until the job
		// stops: nothing after the savepoint may be committed.
		if e.Request.Kind != checkpoint.KindStopWithSavepoint {
			l.endHalt(e.Checkpoint)
		}
		return
	}
	if a != nil && e.Request.Kind == checkpoint.KindFinal && e.Request.Attempt == a.id {
		if e.Checkpoint != 0 && e.Checkpoint == a.finalCP {
			// Sources have closed their outputs after the final barrier:
			// only a restart can finish the job now — unless the final
			// checkpoint keeps failing, which no restart mends.
			reason, retryable := l.finalFailed(fmt.Sprintf("final checkpoint %d failed: %s", e.Checkpoint, e.Failure))
			l.out.Failures = append(l.out.Failures, Failure{Attempt: a.id, Name: "FinalCheckpointFailure", Reason: reason, Domain: rpc.DomainExternal})
			l.out.Scheduler = append(l.out.Scheduler, scheduler.TaskFailed{Attempt: a.id, Reason: reason, Retryable: retryable, Trigger: scheduler.TriggerFailure})
		} else if a.finalRequested {
			// Refused before it started: ask again after a moment.
			a.finalRequested = false
			l.retryFinalAt = l.now.Add(l.cfg.RetryInterval)
		}
	}
	l.endHalt(e.Checkpoint)
}

// endHalt lets the sources halted at checkpoint id's barrier go on if
// their attempt is still the running one when the Ready is taken: the
// rescale the checkpoint was for was abandoned, or it failed and the job
// goes on (a failed stop-with-savepoint, a rescale checkpoint whose slots
// came back).
func (l *Lifecycle) endHalt(id checkpoint.ID) {
	attempt, ok := l.halted[id]
	if !ok {
		return
	}
	delete(l.halted, id)
	l.resume = append(l.resume, halt{attempt: attempt, checkpoint: id})
}

// toLive addresses m to every TaskManager with a live task of the current
// attempt, in deployment order.
func (l *Lifecycle) toLive(m Message) []Message {
	return l.to(m, func(t *task) bool { return !t.done })
}

// toSources addresses m to every TaskManager with a source of the current
// attempt.
func (l *Lifecycle) toSources(m Message) []Message {
	return l.to(m, func(t *task) bool { return t.source })
}

func (l *Lifecycle) to(m Message, pick func(*task) bool) []Message {
	if l.cur == nil {
		return nil
	}
	var out []Message
	sent := map[string]bool{}
	for _, k := range l.cur.order {
		t := l.cur.tasks[k]
		if !pick(t) || sent[t.tm] {
			continue
		}
		sent[t.tm] = true
		m.To = t.tm
		out = append(out, m)
	}
	return out
}
