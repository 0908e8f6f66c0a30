package scheduler

// failed is terminal: a failure that may not be restarted, restarts
// exhausted, or no slots within the resource-wait timeout.
type failed struct{}

func (s *Scheduler) becomeFailed(reason string) {
	s.goTo(Failed, reason, failed{})
	s.timers = nil
}

func (failed) step(Event) bool { return false }
func (failed) timer(timerKind) {}
