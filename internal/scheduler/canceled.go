package scheduler

// canceled is terminal: the job was canceled and its tasks are stopped.
type canceled struct{}

func (s *Scheduler) becomeCanceled(reason string) {
	s.goTo(Canceled, reason, canceled{})
	s.timers = nil
}

func (canceled) step(Event) bool { return false }
func (canceled) timer(timerKind) {}
