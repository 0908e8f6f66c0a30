package scheduler

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tide-stream/tide/internal/exec"
)

// Restart strategies (restart-strategy).
const (
	StrategyNone             = "none"
	StrategyFixedDelay       = "fixed-delay"
	StrategyExponentialDelay = "exponential-delay"
	StrategyFailureRate      = "failure-rate"
)

// RestartConfig is the restart strategy applied to task failures, including
// lost TaskManagers. Planned rescales are not restarts and do not count.
type RestartConfig struct {
	// Strategy is "none", "fixed-delay" or "exponential-delay". Default (when
	// the whole RestartConfig is zero): fixed-delay, unlimited attempts, 1s.
	Strategy string
	// Attempts is the number of restarts allowed over the job's life; -1 is
	// unlimited. Used by both delay strategies.
	Attempts int
	// Delay is fixed-delay's and failure-rate's wait between the old tasks
	// stopping and the redeployment.
	Delay time.Duration
	// MaxFailuresPerInterval and FailureRateInterval shape failure-rate:
	// the job fails at the failure that makes more than
	// MaxFailuresPerInterval within FailureRateInterval. Defaults: 1, 1min.
	MaxFailuresPerInterval int
	FailureRateInterval    time.Duration
	// InitialBackoff, MaxBackoff and Multiplier shape exponential-delay: the
	// first restart waits InitialBackoff, each further one Multiplier times
	// longer, capped at MaxBackoff. The backoff resets to InitialBackoff when
	// a failure comes after the job ran for at least MaxBackoff. Defaults:
	// 1s, 1min, 1.5.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	Multiplier     float64
}

// Config configures a Scheduler. The JobManager fills it from the
// configuration keys named on each field.
type Config struct {
	// Reactive (scheduler-mode: reactive) uses every available slot, up to
	// each vertex's max parallelism. Otherwise the job runs at
	// DefaultParallelism, or fewer if fewer slots are available.
	Reactive bool
	// DefaultParallelism is parallelism.default; values below 1 mean 1.
	DefaultParallelism int
	// StabilizationTimeout is
	// jobmanager.adaptive-scheduler.resource-stabilization-timeout: slot
	// changes within it from the last one cause one (re)deployment.
	StabilizationTimeout time.Duration
	// ResourceWaitTimeout is jobmanager.adaptive-scheduler.resource-wait-timeout:
	// how long WaitingForResources waits without any slot before failing the
	// job. Negative waits forever.
	ResourceWaitTimeout time.Duration
	// ScalingIntervalMin is jobmanager.adaptive-scheduler.scaling-interval.min:
	// the cooldown between the end of one rescale or restart and the start of
	// the next automatic rescale.
	ScalingIntervalMin time.Duration
	// RescaleOnCheckpoint is
	// jobmanager.adaptive-scheduler.rescale-on-checkpoint: a planned rescale
	// first takes a checkpoint and restores from it.
	RescaleOnCheckpoint bool
	// Restart is the restart strategy (restart-strategy.*).
	Restart RestartConfig
	// AttemptsAfter numbers the attempts: the first one deployed is
	// AttemptsAfter+1. A JobManager that recovers a job starts above every
	// attempt its predecessors may have used.
	AttemptsAfter exec.Attempt
	// Logger receives every state change. Nil
	// discards.
	Logger *slog.Logger
}

// withDefaults returns c with zero values filled in.
func (c Config) withDefaults() Config {
	if c.DefaultParallelism < 1 {
		c.DefaultParallelism = 1
	}
	if c.Restart == (RestartConfig{}) {
		c.Restart = RestartConfig{Strategy: StrategyFixedDelay, Attempts: -1, Delay: time.Second}
	}
	if c.Restart.Strategy == StrategyFailureRate {
		c.Restart.MaxFailuresPerInterval = max(1, c.Restart.MaxFailuresPerInterval)
		if c.Restart.FailureRateInterval <= 0 {
			c.Restart.FailureRateInterval = time.Minute
		}
	}
	if c.Restart.Strategy == StrategyExponentialDelay {
		if c.Restart.InitialBackoff <= 0 {
			c.Restart.InitialBackoff = time.Second
		}
		if c.Restart.MaxBackoff <= 0 {
			c.Restart.MaxBackoff = time.Minute
		}
		c.Restart.MaxBackoff = max(c.Restart.MaxBackoff, c.Restart.InitialBackoff)
		if c.Restart.Multiplier < 1 {
			c.Restart.Multiplier = 1.5
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every problem of c at once. New does not validate: it
// treats an unknown restart strategy as "none" (fail rather than restart in
// a way nobody asked for), so the JobManager should call Validate at start.
func (c Config) Validate() error {
	var errs []error
	if c.DefaultParallelism < 0 {
		errs = append(errs, fmt.Errorf("parallelism.default: %d is negative", c.DefaultParallelism))
	}
	if c.StabilizationTimeout < 0 {
		errs = append(errs, fmt.Errorf("resource-stabilization-timeout: %v is negative", c.StabilizationTimeout))
	}
	if c.ScalingIntervalMin < 0 {
		errs = append(errs, fmt.Errorf("scaling-interval.min: %v is negative", c.ScalingIntervalMin))
	}
	r := c.Restart
	switch r.Strategy {
	case "", StrategyNone, StrategyFixedDelay, StrategyExponentialDelay, StrategyFailureRate:
	default:
		errs = append(errs, fmt.Errorf("restart-strategy: unknown strategy %q (want none, fixed-delay, exponential-delay or failure-rate)", r.Strategy))
	}
	if r.Attempts < -1 {
		errs = append(errs, fmt.Errorf("restart-strategy attempts: %d (want -1 for unlimited or >= 0)", r.Attempts))
	}
	if r.Delay < 0 || r.InitialBackoff < 0 || r.MaxBackoff < 0 {
		errs = append(errs, errors.New("restart-strategy: negative delay or backoff"))
	}
	if r.Multiplier != 0 && r.Multiplier < 1 {
		errs = append(errs, fmt.Errorf("restart-strategy multiplier: %v is below 1", r.Multiplier))
	}
	return errors.Join(errs...)
}
