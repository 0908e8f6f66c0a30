package scheduler

// finished is terminal: every task of a bounded job finished.
type finished struct{}

func (s *Scheduler) becomeFinished(reason string) {
	s.goTo(Finished, reason, finished{})
	s.timers = nil
}

func (finished) step(Event) bool { return false }
func (finished) timer(timerKind) {}
