package scheduler

import "fmt"

// executing runs the latest attempt. It watches the desired parallelism: a
// slot change that alters it (re)starts the stabilization timer, so that
// TaskManagers joining within the timeout cause one rescale, and a change
// that brings it back to the running parallelism cancels the rescale. When
// the timer fires and the cooldown has passed, the rescale starts: a planned
// one first asks for a checkpoint (when rescale-on-checkpoint is on), then
// the attempt is stopped and the scheduler goes Restarting. Failures stop the
// attempt and go Restarting too, or Failed when the restart strategy says so.
type executing struct {
	s *Scheduler
	// want is the desired slot count after the latest slot change.
	want int
	// trigger is the cause of the rescale the stabilization timer waits for.
	trigger Trigger
	// awaitingCheckpoint is set while a planned rescale waits for its
	// checkpoint; the tasks keep running meanwhile.
	awaitingCheckpoint bool
	// displaced is set when the attempt runs on slots of a leaving
	// TaskManager: it must be redeployed even at the same slot count.
	displaced bool
}

// needsRescale says the running deployment differs from the one wanted.
func (e *executing) needsRescale(want int) bool { return want != e.s.slots || e.displaced }

// becomeExecuting deploys the next attempt and enters Executing.
func (s *Scheduler) becomeExecuting(reason string) {
	e := &executing{s: s}
	s.goTo(Executing, fmt.Sprintf("deploying attempt %d: %s", s.attempt+1, reason), e)
	s.deploy()
	e.want = s.slots
}

func (e *executing) step(ev Event) bool {
	s := e.s
	switch ev := ev.(type) {
	case SlotsChanged:
		e.onSlotsChanged(ev)
	case TasksRunning:
		s.runningSince = s.now
		s.endRecord()
		e.maybeArm()
	case TaskFailed:
		e.onFailure(ev, false)
	case TasksStopped:
		// Nobody asked them to stop: treat it as a failure whose tasks are gone.
		e.onFailure(TaskFailed{Attempt: ev.Attempt, Reason: "tasks stopped unexpectedly", Retryable: true, Trigger: TriggerFailure}, true)
	case TasksFinished:
		s.becomeFinished(fmt.Sprintf("all tasks of attempt %d finished", s.attempt))
	case RescaleCheckpointDone:
		if !e.awaitingCheckpoint {
			return false
		}
		e.onCheckpointDone(ev)
	case Cancel:
		s.becomeCanceling("canceled", true, ev.Finish)
	case Rescale:
		e.onManualRescale()
	case Displaced:
		if ev.Attempt != s.attempt {
			return false
		}
		if e.displaced {
			return true
		}
		e.displaced = true
		if !e.awaitingCheckpoint && !s.hasTimer(timerStabilization) {
			e.trigger = TriggerLeaving
			s.setTimer(timerStabilization, s.now.Add(s.cfg.StabilizationTimeout))
			s.log.Info("scheduler attempt runs on a leaving taskmanager; waiting for resources to stabilize",
				"running", s.slots, "timeout", s.cfg.StabilizationTimeout)
		}
	default:
		return false
	}
	return true
}

func (e *executing) timer(k timerKind) {
	if k == timerStabilization {
		e.onStabilized()
	}
}

func (e *executing) onSlotsChanged(ev SlotsChanged) {
	s := e.s
	want := s.desiredSlots()
	if want == e.want {
		return // the parallelism the job wants did not change
	}
	e.want = want
	if e.awaitingCheckpoint {
		// The rescale under way deploys whatever is desired once the old
		// tasks have stopped.
		return
	}
	if !e.needsRescale(want) {
		if s.hasTimer(timerStabilization) {
			s.log.Info("scheduler rescale dropped: desired parallelism back to the running one", "slots", want)
		}
		s.cancelTimer(timerStabilization)
		return
	}
	e.trigger = rescaleTrigger(ev.Trigger, want > s.slots)
	if e.displaced && s.hasTimer(timerStabilization) {
		// A leaving TaskManager waits for this rescale against its
		// decommission timeout: later slot changes join the rescale but
		// never push it back.
		return
	}
	s.setTimer(timerStabilization, s.now.Add(s.cfg.StabilizationTimeout))
	s.log.Info("scheduler desired parallelism changed; waiting for resources to stabilize",
		"running", s.slots, "desired", want, "trigger", string(e.trigger), "timeout", s.cfg.StabilizationTimeout)
}

// rescaleTrigger names a rescale by the latest slot change, unless that
// change went the other way than the rescale as a whole.
func rescaleTrigger(last Trigger, up bool) Trigger {
	switch {
	case up:
		return TriggerJoined
	case last == TriggerLeaving || last == TriggerLost:
		return last
	default:
		return TriggerLeaving
	}
}

// maybeArm arms the stabilization timer if the desired parallelism differs
// from the running one and nothing is under way (after a rescale ended).
func (e *executing) maybeArm() {
	s := e.s
	e.want = s.desiredSlots()
	if e.needsRescale(e.want) && !e.awaitingCheckpoint && !s.hasTimer(timerStabilization) {
		e.trigger = rescaleTrigger("", e.want > s.slots)
		s.setTimer(timerStabilization, s.now.Add(s.cfg.StabilizationTimeout))
	}
}

func (e *executing) onStabilized() {
	s := e.s
	want := s.desiredSlots()
	switch {
	case !e.needsRescale(want):
		s.log.Info("scheduler no rescale: desired parallelism equals the running one", "slots", want)
	case s.record != nil:
		// The previous rescale's tasks are not all running yet; TasksRunning re-arms.
		s.log.Info("scheduler rescale deferred: previous rescale not finished", "id", s.record.ID)
	case !s.lastRescaleEnd.IsZero() && s.now.Before(s.lastRescaleEnd.Add(s.cfg.ScalingIntervalMin)):
		next := s.lastRescaleEnd.Add(s.cfg.ScalingIntervalMin)
		s.log.Info("scheduler rescale deferred: scaling-interval.min cooldown", "until", next, "desired", want)
		s.setTimer(timerStabilization, next)
	default:
		e.startRescale(e.trigger, want)
	}
}

func (e *executing) onManualRescale() {
	s := e.s
	want := s.desiredSlots()
	switch {
	case e.awaitingCheckpoint || s.record != nil:
		s.log.Info("scheduler manual rescale ignored: a rescale is under way")
	case !e.needsRescale(want):
		s.log.Info("scheduler manual rescale ignored: already at the desired parallelism", "slots", want)
	default:
		s.cancelTimer(timerStabilization)
		e.startRescale(TriggerManual, want)
	}
}

// startRescale opens the rescale record and either asks for a checkpoint
// (planned rescale with rescale-on-checkpoint) or stops the attempt at once.
func (e *executing) startRescale(trigger Trigger, want int) {
	s := e.s
	s.beginRecord(trigger, s.slots, want)
	if s.cfg.RescaleOnCheckpoint && trigger.planned() {
		e.awaitingCheckpoint = true
		reason := fmt.Sprintf("rescale %d -> %d slots (%s)", s.slots, want, trigger)
		s.log.Info("scheduler requesting checkpoint before rescale", "attempt", s.attempt, "reason", reason)
		s.emitCheckpoint(CheckpointRequest{Attempt: s.attempt, Reason: reason})
		return
	}
	s.restoreFrom = 0
	s.becomeRestarting(fmt.Sprintf("rescale %d -> %d slots (%s)", s.slots, want, trigger), 0, false, false)
}

func (e *executing) onCheckpointDone(ev RescaleCheckpointDone) {
	s := e.s
	e.awaitingCheckpoint = false
	if ev.Err != nil {
		s.log.Warn("scheduler rescale checkpoint failed; restoring the latest completed checkpoint", "attempt", ev.Attempt, "err", ev.Err)
		s.restoreFrom = 0
		if s.record != nil {
			s.record.RescaleCheckpointFailed = true
		}
	} else {
		s.restoreFrom = ev.Checkpoint
	}
	want := s.desiredSlots()
	if !e.needsRescale(want) {
		// The slots came back to what the job runs on while the checkpoint
		// was taken: nothing to do, no pause.
		s.log.Info("scheduler rescale abandoned: desired parallelism back to the running one", "slots", want)
		s.restoreFrom = 0
		if s.record != nil {
			s.record.To = s.slots
		}
		s.endRecord()
		e.maybeArm()
		return
	}
	trigger := TriggerManual
	if s.record != nil {
		trigger = s.record.Trigger
	}
	s.becomeRestarting(fmt.Sprintf("rescale %d -> %d slots (%s)", s.slots, want, trigger), 0, false, false)
}

// onFailure handles a failure of the running attempt. stopped says its tasks
// are already gone.
func (e *executing) onFailure(ev TaskFailed, stopped bool) {
	s := e.s
	trigger := ev.Trigger
	if trigger == "" {
		trigger = TriggerFailure
	}
	if e.awaitingCheckpoint {
		e.awaitingCheckpoint = false
		if s.record != nil {
			s.record.RescaleCheckpointFailed = true
		}
	}
	s.restoreFrom = 0
	if ev.Retryable && s.lossIsResourceChange(trigger) {
		// A TaskManager died and slots remain: the job's code did not
		// fail, its resources changed. Restart on what is left at once,
		// without the restart strategy's delay or count, which guard
		// against failures of the job's own code.
		s.beginRecord(trigger, s.slots, s.desiredSlots())
		s.becomeRestarting(fmt.Sprintf("attempt %d lost its taskmanager (%s); restarting at once on the %d slots left", s.attempt, ev.Reason, s.available),
			0, stopped, false)
		return
	}
	delay, ok := s.nextRestart(ev.Retryable)
	if !ok {
		why := "restart strategy " + s.cfg.Restart.Strategy + " allows no further restart"
		if !ev.Retryable {
			why = "failure is not retryable"
		}
		s.becomeFailed(fmt.Sprintf("attempt %d failed (%s: %s); %s", s.attempt, trigger, ev.Reason, why))
		if !stopped {
			s.emitStop(s.attempt)
		}
		return
	}
	s.beginRecord(trigger, s.slots, s.desiredSlots())
	s.becomeRestarting(fmt.Sprintf("attempt %d failed (%s: %s); restart %d in %v", s.attempt, trigger, ev.Reason, s.restarts, delay),
		delay, stopped, true)
}
