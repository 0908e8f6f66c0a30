package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"syscall"
	"time"
)

// rescaleOptions configures the rescale-pause benchmark.
type rescaleOptions struct {
	tide string
	logs io.Writer
	reps int
	rate float64
	keys int64
}

func (o *rescaleOptions) bind(fs *flag.FlagSet) {
	fs.IntVar(&o.reps, "cycles", 5, "rescale: cycles of (scale-up, SIGTERM, scale-up, SIGKILL)")
	fs.Float64Var(&o.rate, "rate", 100_000, "rescale: records/s of the running job")
	fs.Int64Var(&o.keys, "state-keys", 1024, "rescale: number of keys (the state is two int64 per key)")
}

func (o *rescaleOptions) validate() error {
	if o.reps < 1 || o.keys < 1 || o.rate <= 0 {
		return fmt.Errorf("rescale: --cycles %d and --state-keys %d must be at least 1 and --rate %v positive", o.reps, o.keys, o.rate)
	}
	return nil
}

// rescaleSamples are the rescale figures' samples.
type rescaleSamples struct {
	up, term, kill, detect []float64
	// termReprocessed is what the sources re-read after a SIGTERM; a
	// planned rescale should re-read nothing.
	termReprocessed []float64
}

func runRescale(ctx context.Context, o rescaleOptions, rep *Report, stderr io.Writer) error {
	var s rescaleSamples
	err := rescaleCycles(ctx, o, &s, stderr)
	note := fmt.Sprintf("Throughput --stateful --rate %.0f, %d keys, reactive, checkpoints every 1s, heartbeat defaults", o.rate, o.keys)
	rep.add("rescale pause, scale-up (TM started)", "ms", s.up, &target{bound: 1000}, note)
	rep.add("rescale pause, SIGTERM of a TM", "ms", s.term, nil, note)
	rep.add("reprocessed records, SIGTERM of a TM", "records", s.termReprocessed, nil, note)
	rep.add("rescale pause, SIGKILL of a TM", "ms", s.kill, nil, note+"; includes restart-strategy.fixed-delay.delay (1s)")
	rep.add("kill -9 detection (kill -> rescale start)", "ms", s.detect, &target{bound: 1000}, note)
	return err
}

func rescaleCycles(ctx context.Context, o rescaleOptions, s *rescaleSamples, stderr io.Writer) (err error) {
	c, err := newCluster(o.tide, o.logs)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("rescale: %w (logs kept in %s)", err, c.home)
		}
		c.stop(err != nil)
	}()
	flags := []string{"-Dexecution.checkpointing.interval=1s"}
	jobArgs := []string{"--records", "0", "--keys", strconv.FormatInt(o.keys, 10), "--stateful",
		"--rate", strconv.FormatFloat(o.rate, 'f', -1, 64)}
	if err := c.startJM("Throughput", flags, jobArgs); err != nil {
		return err
	}
	if _, err := c.startTM(); err != nil {
		return err
	}
	id, err := c.jobID(ctx)
	if err != nil {
		return err
	}
	if err := c.waitRunning(ctx, id, 1, 60*time.Second); err != nil {
		return err
	}
	seen := int64(0)
	// next waits for the first rescale after seen to complete with its
	// pause known, and returns it.
	next := func(what string) (rescaleRecord, error) {
		var got rescaleRecord
		err := c.waitFor(ctx, what, 60*time.Second, func() (bool, error) {
			rs, err := c.rescales(ctx, id)
			if err != nil {
				return false, err
			}
			for _, r := range rs {
				if r.ID > seen && r.Status == "COMPLETED" && r.PauseMs >= 0 {
					got = r
					return true, nil
				}
			}
			return false, nil
		})
		if err == nil {
			seen = got.ID
		}
		return got, err
	}
	scaleUp := func(cycle int) error {
		if _, err := c.startTM(); err != nil {
			return err
		}
		r, err := next("a scale-up rescale")
		if err != nil {
			return err
		}
		s.up = append(s.up, float64(r.PauseMs))
		fmt.Fprintf(stderr, "rescale cycle %d: %s %d->%d pause %d ms\n", cycle, r.Trigger, r.From, r.To, r.PauseMs)
		return c.waitRunning(ctx, id, 2, 60*time.Second)
	}
	for cycle := 1; cycle <= o.reps; cycle++ {
		if err := scaleUp(cycle); err != nil {
			return err
		}
		tm := c.tms[len(c.tms)-1]
		if err := tm.signal(syscall.SIGTERM); err != nil {
			return err
		}
		r, err := next("a rescale after SIGTERM")
		if err != nil {
			return err
		}
		s.term = append(s.term, float64(r.PauseMs))
		s.termReprocessed = append(s.termReprocessed, float64(r.Reprocessed))
		fmt.Fprintf(stderr, "rescale cycle %d: SIGTERM: %s %d->%d pause %d ms, reprocessed %d\n", cycle, r.Trigger, r.From, r.To, r.PauseMs, r.Reprocessed)
		if !tm.wait(60 * time.Second) {
			return fmt.Errorf("%s did not exit after SIGTERM and the rescale", tm.name)
		}
		c.removeTM(tm)
		if err := c.waitRunning(ctx, id, 1, 60*time.Second); err != nil {
			return err
		}
		if err := scaleUp(cycle); err != nil {
			return err
		}
		tm = c.tms[len(c.tms)-1]
		killed := time.Now()
		if err := tm.signal(syscall.SIGKILL); err != nil {
			return err
		}
		r, err = next("a rescale after SIGKILL")
		if err != nil {
			return err
		}
		<-tm.done
		c.removeTM(tm)
		detect := float64(r.Start - killed.UnixMilli())
		s.kill = append(s.kill, float64(r.PauseMs))
		s.detect = append(s.detect, detect)
		fmt.Fprintf(stderr, "rescale cycle %d: SIGKILL: %s %d->%d pause %d ms, detected after %.0f ms, reprocessed %d\n",
			cycle, r.Trigger, r.From, r.To, r.PauseMs, detect, r.Reprocessed)
		if err := c.waitRunning(ctx, id, 1, 60*time.Second); err != nil {
			return err
		}
	}
	return nil
}
