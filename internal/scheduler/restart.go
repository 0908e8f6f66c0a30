package scheduler

import (
	"slices"
	"time"
)

// lossIsResourceChange says a failure with trigger is a lost TaskManager
// that reactive mode restarts from at once, without the restart strategy:
// in reactive mode, with slots left to run on.
func (s *Scheduler) lossIsResourceChange(trigger Trigger) bool {
	return s.cfg.Reactive && trigger == TriggerLost && s.available > 0
}

// nextRestart applies the restart strategy to a failure. It returns the delay
// before redeploying, or false when the job must fail instead. An allowed
// restart is counted.
func (s *Scheduler) nextRestart(retryable bool) (time.Duration, bool) {
	if !retryable {
		return 0, false
	}
	r := s.cfg.Restart
	var delay time.Duration
	switch r.Strategy {
	case StrategyFixedDelay:
		delay = r.Delay
	case StrategyFailureRate:
		// Flink's failure-rate: the failures within the last interval,
		// this one included, may not exceed the maximum.
		cut := s.now.Add(-r.FailureRateInterval)
		s.failures = slices.DeleteFunc(s.failures, func(t time.Time) bool { return !t.After(cut) })
		s.failures = append(s.failures, s.now)
		if len(s.failures) > r.MaxFailuresPerInterval {
			return 0, false
		}
		s.restarts++
		return r.Delay, true
	case StrategyExponentialDelay:
		ranLong := !s.runningSince.IsZero() && s.now.Sub(s.runningSince) >= r.MaxBackoff
		switch {
		case s.backoff == 0 || ranLong:
			s.backoff = r.InitialBackoff
		default:
			s.backoff = min(time.Duration(float64(s.backoff)*r.Multiplier), r.MaxBackoff)
		}
		delay = s.backoff
	default: // StrategyNone, or unknown (see Config.Validate)
		return 0, false
	}
	if r.Attempts >= 0 && s.restarts >= r.Attempts {
		return 0, false
	}
	s.restarts++
	return delay, true
}
