package scheduler

import "fmt"

// legal reports whether from → to is an edge of the state diagram (doc.go).
// It is the single list of legal edges; goTo checks every change against it.
func legal(from, to State) bool {
	switch from {
	case Created:
		return to == WaitingForResources || // Start
			to == Canceled // Cancel before Start
	case WaitingForResources:
		return to == Executing || // slots stable: deploy
			to == Failed || // no slot within resource-wait-timeout
			to == Canceled || // Cancel: no tasks to stop
			to == Finished // stop-with-savepoint: no tasks to stop
	case Executing:
		return to == Restarting || // rescale or retryable failure: stop the attempt
			to == Canceling || // Cancel
			to == Finished || // bounded job done
			to == Failed // failure not retryable, or restarts exhausted
	case Restarting:
		return to == Executing || // old tasks stopped (and restart delay over): deploy
			to == WaitingForResources || // no slot left to deploy on
			to == Canceling || // Cancel while the old tasks are still stopping
			to == Canceled || // Cancel after they stopped
			to == Finished // the tasks finished instead of stopping, or stop-with-savepoint after they stopped
	case Canceling:
		return to == Canceled || // tasks stopped
			to == Finished // tasks stopped after stop-with-savepoint
	}
	return false // terminal states have no exits
}

// goTo moves the scheduler to state to, run by handler h. It is the only place
// that changes the state: it checks the edge, starts a new timer epoch (so that
// every timer of the old state is dropped), logs the change and publishes it in
// the Ready. Callers emit the new state's work after goTo, so that the work
// travels in the same Ready as its Transition.
func (s *Scheduler) goTo(to State, reason string, h handler) {
	from := s.state
	if !legal(from, to) {
		panic(fmt.Sprintf("scheduler: invariant broken: illegal transition [%v -> %v] (%s)", from, to, reason))
	}
	s.state, s.h = to, h
	s.epoch++
	s.log.Info("scheduler state change", "from", from.String(), "to", to.String(),
		"reason", reason, "attempt", s.attempt, "available_slots", s.available)
	rd := s.batch()
	if rd.Transition != nil {
		rd = s.newBatch()
	}
	rd.Transition = &Transition{From: from, To: to, Reason: reason}
}
