package scheduler

import "fmt"

// waitingForResources waits for slots to appear and settle. With at least
// one slot, it deploys once no slot change has come for the stabilization
// timeout; with none, it fails the job after the resource-wait timeout
// (unless that is negative). It is entered at start, and from Restarting when
// no slot is left to redeploy on; a rescale record open then stays open.
type waitingForResources struct{ s *Scheduler }

func (s *Scheduler) becomeWaitingForResources(reason string) {
	w := &waitingForResources{s: s}
	s.goTo(WaitingForResources, reason, w)
	if s.cfg.ResourceWaitTimeout >= 0 {
		s.setTimer(timerResourceWait, s.now.Add(s.cfg.ResourceWaitTimeout))
	}
	w.armStabilization()
}

// armStabilization (re)starts the stabilization timer while there are slots.
func (w *waitingForResources) armStabilization() {
	s := w.s
	if s.available > 0 {
		s.setTimer(timerStabilization, s.now.Add(s.cfg.StabilizationTimeout))
	} else {
		s.cancelTimer(timerStabilization)
	}
}

func (w *waitingForResources) step(ev Event) bool {
	switch ev := ev.(type) {
	case SlotsChanged:
		w.armStabilization()
		return true
	case Rescale:
		if w.s.available == 0 {
			w.s.log.Info("scheduler manual rescale ignored: no slots available")
			return true
		}
		w.deploy("manual request")
		return true
	case Cancel:
		w.s.endCancel(ev.Finish, "canceled while waiting for resources")
		return true
	}
	return false
}

func (w *waitingForResources) timer(k timerKind) {
	s := w.s
	switch k {
	case timerStabilization:
		if s.available > 0 {
			w.deploy(fmt.Sprintf("%d slots stable for %v", s.available, s.cfg.StabilizationTimeout))
		}
	case timerResourceWait:
		if s.available == 0 {
			s.becomeFailed(fmt.Sprintf("no slots within resource-wait-timeout %v", s.cfg.ResourceWaitTimeout))
			return
		}
		w.deploy(fmt.Sprintf("resource-wait-timeout %v passed with %d slots", s.cfg.ResourceWaitTimeout, s.available))
	}
}

// deploy deploys the next attempt at the desired parallelism. The first
// deployment opens a record with trigger "initial".
func (w *waitingForResources) deploy(reason string) {
	s := w.s
	if s.attempt == s.cfg.AttemptsAfter {
		s.beginRecord(TriggerInitial, 0, s.desiredSlots())
	}
	s.becomeExecuting(reason)
}
