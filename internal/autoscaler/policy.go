package autoscaler

import (
	"errors"
	"fmt"
	"time"
)

// Policy names, as --policy spells them.
const (
	PolicyHPA  = "hpa"
	PolicyTide = "tide"
)

// Policy decides a TaskManager count, one sync at a time. Implementations
// are pure: time comes in Input.Time, nothing is read from the clock, and
// nothing is done but computing. A Policy is not safe for concurrent use;
// the driver's loop owns it.
type Policy interface {
	// Name is the policy's name (PolicyHPA, PolicyTide).
	Name() string
	// SyncPeriod is how often the driver should call Decide.
	SyncPeriod() time.Duration
	// Decide is one sync. It returns an error, and changes nothing, only
	// for an Input that makes no sense (ErrInput); missing or stale metrics
	// are a Decision to hold, with the reason.
	Decide(in Input) (Decision, error)
	// Applied tells the policy that the driver set the count to d.Desired.
	// A decision that was not applied (dry run, driver error) is not
	// reported: it does not count against rate limits.
	Applied(d Decision)
}

// Bounds are --min and --max.
type Bounds struct {
	// Min is at least 1: a failed or silly decision never leaves the job
	// without TaskManagers.
	Min int
	// Max is at least Min.
	Max int
}

func (b Bounds) validate() error {
	var errs []error
	if b.Min < 1 {
		errs = append(errs, fmt.Errorf("min %d: at least 1 TaskManager must remain", b.Min))
	}
	if b.Max < b.Min {
		errs = append(errs, fmt.Errorf("max %d is below min %d", b.Max, b.Min))
	}
	return errors.Join(errs...)
}

func (b Bounds) clamp(n int) int {
	return max(b.Min, min(b.Max, n))
}
