package scaler

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tide-stream/tide/internal/autoscaler"
)

// Driver sets the number of TaskManagers: tmdriver.Local, or the
// Kubernetes driver.
type Driver interface {
	Scale(ctx context.Context, n int) error
}

// Config configures Run.
type Config struct {
	Collector *Collector
	Policy    autoscaler.Policy
	Driver    Driver
	// Current is the TaskManager count at the start (the driver's).
	Current int
	// Request is each TaskManager's CPU request, in cores.
	Request float64
	// DryRun decides and logs, but applies nothing.
	DryRun bool
	Log    *slog.Logger
	// Decisions, when set, records every decision and whether it was
	// applied (metrics, REST).
	Decisions *Decisions
}

// Run samples the JobManager every policy sync period, asks the policy and
// applies its decisions until ctx ends. A sample that fails (the
// JobManager unreachable) or a failed apply is logged and skipped: no
// decision is made on missing data, and the TaskManagers the job has are
// left running.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Collector == nil || cfg.Policy == nil || cfg.Driver == nil {
		return errors.New("scaler: a collector, a policy and a driver are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	period := cfg.Policy.SyncPeriod()
	current := cfg.Current
	var prev *Sample
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		s, err := cfg.Collector.Sample(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			cfg.Log.Warn("cannot read the JobManager; no decision this time", "err", err)
			prev = nil
		case prev == nil:
			prev = &s
		default:
			in := Input(*prev, s, current, cfg.Request)
			prev = &s
			d, err := cfg.Policy.Decide(in)
			if err != nil {
				cfg.Log.Error("the policy refused its input", "policy", cfg.Policy.Name(), "err", err)
				break
			}
			cfg.Log.Info("decision", "policy", d.Policy, "current", d.Current, "desired", d.Desired, "change", d.Change,
				"dry_run", cfg.DryRun, "reason", d.Reason)
			applied, aerr := false, error(nil)
			if d.Change && !cfg.DryRun {
				if aerr = cfg.Driver.Scale(ctx, d.Desired); aerr != nil {
					cfg.Log.Error("applying the decision failed; the TaskManagers stay as they are", "desired", d.Desired, "err", aerr)
				} else {
					cfg.Policy.Applied(d)
					current, applied = d.Desired, true
				}
			}
			if cfg.Decisions != nil {
				cfg.Decisions.Record(d, applied, aerr)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
