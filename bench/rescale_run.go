package main

import (
	"context"
	"fmt"
	"io"
	"syscall"
	"time"
)

// rescaleRun drives one configuration's cluster through its cycles.
type rescaleRun struct {
	o       rescaleOptions
	cfg     rescaleConfig
	c       *cluster
	id      string
	seen    int64 // the last rescale id measured
	samples []RescaleSample
	stderr  io.Writer
}

// rescaleCycles starts a JobManager and one TaskManager for cfg, waits for
// the keyed state to be there, and runs o.reps cycles of (start a TM,
// SIGTERM it, start a TM, SIGKILL it), measuring every rescale.
func rescaleCycles(ctx context.Context, o rescaleOptions, cfg rescaleConfig, stderr io.Writer) (samples []RescaleSample, err error) {
	c, err := newCluster(o.tide, o.logs)
	if err != nil {
		return nil, err
	}
	r := &rescaleRun{o: o, cfg: cfg, c: c, stderr: stderr}
	defer func() {
		if err != nil || o.keep {
			fmt.Fprintf(stderr, "rescale (%s): logs kept in %s\n", cfg, c.home)
		}
		if err != nil {
			err = fmt.Errorf("%w (logs kept in %s)", err, c.home)
		}
		c.stop(err != nil || o.keep)
		// The log scanners are done once stop has reaped the processes.
		events := c.phases.snapshot()
		for i := range r.samples {
			s := &r.samples[i]
			s.Phases, _ = rescalePhases(events, s.ID)
			fmt.Fprintf(stderr, "rescale (%s): %s id %d phases (JobManager log): checkpoint %d ms, stop+deploy %d ms, restore %d ms, total %d ms\n",
				cfg, s.Kind, s.ID, s.Phases.Checkpoint, s.Phases.Deploy, s.Phases.Restore, s.Phases.Total)
		}
		samples = r.samples
	}()
	if cfg.tls {
		if err := c.secureInternal(); err != nil {
			return nil, err
		}
	}
	c.tmFlags = []string{fmt.Sprintf("-Dstate.backend.local-recovery=%t", cfg.local)}
	flags := []string{"-Dexecution.checkpointing.interval=" + o.interval.String()}
	if err := c.startJM("Throughput", flags, o.jobArgs(cfg)); err != nil {
		return nil, err
	}
	if _, err := c.startTM(); err != nil {
		return nil, err
	}
	if r.id, err = c.jobID(ctx); err != nil {
		return nil, err
	}
	if err := c.waitRunning(ctx, r.id, 1, 60*time.Second); err != nil {
		return nil, err
	}
	if err := r.waitState(ctx); err != nil {
		return nil, err
	}
	for cycle := 1; cycle <= o.reps; cycle++ {
		if err := r.cycle(ctx, cycle); err != nil {
			return nil, err
		}
	}
	return nil, nil // the deferred function returns r.samples with their phases
}

// waitState waits until a completed checkpoint holds about the configured
// state (95 % of its payload), so that every rescale moves it.
func (r *rescaleRun) waitState(ctx context.Context) error {
	if r.cfg.stateMB == 0 {
		return nil
	}
	want := int64(0.95 * r.cfg.stateMB * (1 << 20))
	fill := time.Duration(float64(r.o.stateKeys(r.cfg)) / r.o.rate * float64(time.Second))
	var got int64
	start := time.Now()
	err := r.c.waitFor(ctx, fmt.Sprintf("a checkpoint of at least %d bytes", want), 2*time.Minute+3*fill, func() (bool, error) {
		s, err := r.c.checkpoints(ctx, r.id)
		if err != nil || s.Latest.Completed == nil {
			return false, err
		}
		got = s.Latest.Completed.StateSize
		return got >= want, nil
	})
	if err == nil {
		fmt.Fprintf(r.stderr, "rescale (%s): checkpoint state_size %.1f MiB after %v\n", r.cfg, float64(got)/(1<<20), time.Since(start).Round(time.Millisecond))
	}
	return err
}

// next waits for the first rescale after the last one measured to
// complete with its pause known, and records it as kind.
func (r *rescaleRun) next(ctx context.Context, kind rescaleKind, killed time.Time) (RescaleSample, error) {
	var got rescaleRecord
	err := r.c.waitFor(ctx, "a rescale after "+string(kind), 2*time.Minute, func() (bool, error) {
		rs, err := r.c.rescales(ctx, r.id)
		if err != nil {
			return false, err
		}
		for _, x := range rs {
			if x.ID > r.seen && x.Status == "COMPLETED" && x.PauseMs >= 0 {
				got = x
				return true, nil
			}
			if x.ID > r.seen && x.Status == "FAILED" {
				return false, fmt.Errorf("rescale %d after %s FAILED: %s", x.ID, kind, x.Message)
			}
		}
		return false, nil
	})
	if err != nil {
		return RescaleSample{}, err
	}
	r.seen = got.ID
	s := RescaleSample{Config: r.cfg.String(), ID: got.ID, Kind: kind, Trigger: got.Trigger, From: got.From, To: got.To,
		Checkpoint: got.Checkpoint, PauseMs: got.PauseMs, RestoredBytes: got.RestoredBytes,
		LocalKeyGroups: got.LocalKeyGroups, Reprocessed: got.Reprocessed, Message: got.Message}
	if !killed.IsZero() {
		s.DetectMs = got.Start - killed.UnixMilli()
	}
	if st, err := r.c.checkpoints(ctx, r.id); err == nil {
		s.StateSize, _, _ = st.stateSize(got.Checkpoint)
	}
	r.samples = append(r.samples, s)
	share, _ := s.restoredShare()
	fmt.Fprintf(r.stderr, "rescale (%s): %s: %s %d->%d from chk %d (%.1f MiB): pause %d ms, restored %.2f MiB (%.2f of state), %d local key groups, reprocessed %d",
		r.cfg, kind, s.Trigger, s.From, s.To, s.Checkpoint, float64(s.StateSize)/(1<<20), s.PauseMs,
		float64(s.RestoredBytes)/(1<<20), share, s.LocalKeyGroups, s.Reprocessed)
	if kind == kindKill {
		fmt.Fprintf(r.stderr, ", detected after %d ms", s.DetectMs)
	}
	fmt.Fprintln(r.stderr)
	return s, nil
}

// scaleUp starts a TaskManager and measures the rescale to parallelism 2.
func (r *rescaleRun) scaleUp(ctx context.Context) error {
	if err := r.settle(ctx); err != nil {
		return err
	}
	if _, err := r.c.startTM(); err != nil {
		return err
	}
	if _, err := r.next(ctx, kindUp, time.Time{}); err != nil {
		return err
	}
	return r.c.waitRunning(ctx, r.id, 2, 2*time.Minute)
}

// settle lets the job run o.settle at its new parallelism, so that the
// next event meets periodic checkpoints and reprocessing as a job in
// production would, not a job that has just restored.
func (r *rescaleRun) settle(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-r.c.jm.done:
		return fmt.Errorf("the jobmanager exited: %v", r.c.jm.err)
	case <-time.After(r.o.settle):
		return nil
	}
}

// cycle is scale-up, SIGTERM of the new TaskManager, scale-up, SIGKILL of
// the new TaskManager, each after the job has settled.
func (r *rescaleRun) cycle(ctx context.Context, cycle int) error {
	c := r.c
	if err := r.scaleUp(ctx); err != nil {
		return fmt.Errorf("cycle %d: %w", cycle, err)
	}
	tm := c.tms[len(c.tms)-1]
	if err := r.settle(ctx); err != nil {
		return err
	}
	if err := tm.signal(syscall.SIGTERM); err != nil {
		return err
	}
	if _, err := r.next(ctx, kindTerm, time.Time{}); err != nil {
		return fmt.Errorf("cycle %d: %w", cycle, err)
	}
	if !tm.wait(time.Minute) {
		return fmt.Errorf("cycle %d: %s did not exit after SIGTERM and the rescale", cycle, tm.name)
	}
	c.removeTM(tm)
	if err := c.waitRunning(ctx, r.id, 1, 2*time.Minute); err != nil {
		return fmt.Errorf("cycle %d: %w", cycle, err)
	}
	if err := r.scaleUp(ctx); err != nil {
		return fmt.Errorf("cycle %d: %w", cycle, err)
	}
	tm = c.tms[len(c.tms)-1]
	if err := r.settle(ctx); err != nil {
		return err
	}
	killed := time.Now()
	if err := tm.signal(syscall.SIGKILL); err != nil {
		return err
	}
	if _, err := r.next(ctx, kindKill, killed); err != nil {
		return fmt.Errorf("cycle %d: %w", cycle, err)
	}
	<-tm.done
	c.removeTM(tm)
	if err := c.waitRunning(ctx, r.id, 1, 2*time.Minute); err != nil {
		return fmt.Errorf("cycle %d: %w", cycle, err)
	}
	return nil
}
