package scheduler

// created is the state before Start: the job is known but nothing is
// scheduled. Slot counts reported now are remembered for later.
type created struct{ s *Scheduler }

func (c *created) step(ev Event) bool {
	switch ev.(type) {
	case Start:
		c.s.becomeWaitingForResources("job started")
		return true
	case Cancel:
		c.s.becomeCanceled("canceled before start")
		return true
	case SlotsChanged:
		return true // Step recorded the count.
	}
	return false
}

func (c *created) timer(timerKind) {}
