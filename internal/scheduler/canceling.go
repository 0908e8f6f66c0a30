package scheduler

import "fmt"

// canceling waits for the tasks of the latest attempt to stop after a
// Cancel.
type canceling struct {
	s      *Scheduler
	finish bool // stop-with-savepoint: end FINISHED
}

// becomeCanceling enters Canceling; stop asks for the tasks to stop (false
// when a Stop is already out).
func (s *Scheduler) becomeCanceling(reason string, stop, finish bool) {
	s.goTo(Canceling, reason, &canceling{s: s, finish: finish})
	if stop {
		s.emitStop(s.attempt)
	}
}

func (c *canceling) step(ev Event) bool {
	s := c.s
	switch ev.(type) {
	case TasksStopped, TasksFinished:
		s.endCancel(c.finish, fmt.Sprintf("tasks of attempt %d stopped", s.attempt))
	case Cancel:
		s.log.Info("scheduler already canceling")
	case TaskFailed, SlotsChanged:
		// Expected while tasks go down; the cancel wins.
	default:
		return false
	}
	return true
}

func (c *canceling) timer(timerKind) {}
