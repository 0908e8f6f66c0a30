package scheduler

// canceled is terminal: the job was canceled and its tasks are stopped.
type canceled struct{}

func (s *Scheduler) becomeCanceled(reason string) {
	s.goTo(Canceled, reason, canceled{})
	s.timers = nil
}

// endCancel ends a cancel: CANCELED, or FINISHED for a stop-with-savepoint.
func (s *Scheduler) endCancel(finish bool, reason string) {
	if finish {
		s.becomeFinished("stopped with a savepoint: " + reason)
		return
	}
	s.becomeCanceled(reason)
}

func (canceled) step(Event) bool { return false }
func (canceled) timer(timerKind) {}
