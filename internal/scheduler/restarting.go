package scheduler

import (
	"fmt"
	"time"
)

// restarting stops the latest attempt and deploys the next one at the
// parallelism desired once the old tasks have stopped: at once for a
// rescale, after the restart strategy's delay for a failure. With no slot
// left it goes to WaitingForResources instead, keeping the rescale record
// open.
type restarting struct {
	s       *Scheduler
	delay   time.Duration // wait after the tasks stopped (restart strategy)
	stopped bool          // TasksStopped arrived
	// counted says the restart strategy counted this restart: a failure,
	// not a rescale or a lost TaskManager.
	counted bool
}

// becomeRestarting enters Restarting. stopped says the attempt's tasks are
// already gone; otherwise it asks for them to stop. counted says the
// restart strategy counted the restart.
func (s *Scheduler) becomeRestarting(reason string, delay time.Duration, stopped, counted bool) {
	r := &restarting{s: s, delay: delay, counted: counted}
	s.goTo(Restarting, reason, r)
	if stopped {
		r.onStopped()
		return
	}
	s.emitStop(s.attempt)
}

func (r *restarting) step(ev Event) bool {
	s := r.s
	switch ev := ev.(type) {
	case TasksStopped:
		if r.stopped {
			return false
		}
		r.onStopped()
	case TaskFailed:
		// Tasks of the attempt being stopped may fail on the way; nothing to do.
		s.log.Debug("scheduler task failure while restarting ignored", "attempt", s.attempt)
	case SlotsChanged:
		if r.stopped && s.available == 0 {
			s.becomeWaitingForResources("no slots left while restarting")
			return true
		}
		if r.counted && s.lossIsResourceChange(ev.Trigger) {
			// The failure was the TaskManager's loss, seen first on the
			// data plane by the tasks that exchanged records with it: a
			// resource change after all. Take back the count, skip the
			// delay.
			r.counted, r.delay = false, 0
			s.restarts--
			if s.record != nil {
				s.record.Trigger = TriggerLost
			}
			s.log.Info("scheduler restart is a lost taskmanager's: restarting without the restart delay", "attempt", s.attempt)
			if r.stopped {
				s.cancelTimer(timerRestart)
				r.redeploy("lost taskmanager's tasks stopped")
			}
		}
	case TasksFinished:
		s.becomeFinished(fmt.Sprintf("all tasks of attempt %d finished while stopping", s.attempt))
	case Cancel:
		if r.stopped {
			s.endCancel(ev.Finish, "canceled while restarting")
		} else {
			s.becomeCanceling("canceled while restarting", false, ev.Finish) // the Stop is already out
		}
	case Rescale:
		s.log.Info("scheduler manual rescale ignored: restarting deploys the desired parallelism anyway")
	default:
		return false
	}
	return true
}

func (r *restarting) timer(k timerKind) {
	if k == timerRestart {
		r.redeploy("restart delay over")
	}
}

func (r *restarting) onStopped() {
	s := r.s
	r.stopped = true
	if r.delay > 0 && s.available > 0 {
		s.log.Info("scheduler waiting before restart", "delay", r.delay)
		s.setTimer(timerRestart, s.now.Add(r.delay))
		return
	}
	r.redeploy(fmt.Sprintf("attempt %d stopped", s.attempt))
}

// redeploy deploys the next attempt, or waits for resources if there are no
// slots.
func (r *restarting) redeploy(reason string) {
	s := r.s
	if s.available == 0 {
		s.becomeWaitingForResources(fmt.Sprintf("%s; no slots available", reason))
		return
	}
	s.becomeExecuting(reason)
}
