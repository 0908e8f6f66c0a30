package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"
)

// keyedOptions configures the two-TaskManager keyed pipeline benchmark.
type keyedOptions struct {
	tide    string
	logs    io.Writer
	records int64
	keys    int64
	reps    int
	// scrape, when set, alternates runs without metrics scrapes and runs
	// whose every process is scraped this often, and reports both.
	scrape time.Duration
	// tls, when set, alternates runs with the internal plane in clear and
	// runs with mutual TLS and the shared secret on it, and reports both.
	tls bool
}

// keyedMode is how one run's cluster is set up.
type keyedMode struct {
	scrape time.Duration
	tls    bool
}

func (o *keyedOptions) bind(fs *flag.FlagSet) {
	fs.Int64Var(&o.records, "records", 30_000_000, "keyed: records per run")
	fs.Int64Var(&o.keys, "keys", 1024, "keyed: number of keys")
	fs.IntVar(&o.reps, "runs", 3, "keyed: runs, each on a fresh cluster")
	fs.DurationVar(&o.scrape, "scrape", 0, "keyed: also run with every process's /metrics scraped this often, alternating with runs without (0: only without)")
	fs.BoolVar(&o.tls, "compare-tls", false, "keyed: also run with mutual TLS and the shared secret on the RPC and data plane, alternating with runs without")
}

// keyedRun is one run's measurement.
type keyedRun struct {
	// endToEnd is records over the time from the first record any source
	// emitted (its progress line) to the job's FINISHED end-time (REST).
	endToEnd float64
	// steady is the keyed subtasks' summed rate between their progress
	// lines, leaving out the first second.
	steady float64
	// scrapes counts the /metrics scrapes that succeeded during the run.
	scrapes int
}

func (o *keyedOptions) validate() error {
	if o.reps < 1 || o.records < 1 || o.keys < 1 {
		return fmt.Errorf("keyed: --runs %d, --records %d and --keys %d must be at least 1", o.reps, o.records, o.keys)
	}
	return nil
}

func runKeyed(ctx context.Context, o keyedOptions, rep *Report, stderr io.Writer) error {
	modes := []keyedMode{{}}
	if o.scrape > 0 {
		modes = append(modes, keyedMode{scrape: o.scrape})
	}
	if o.tls {
		modes = append(modes, keyedMode{tls: true})
	}
	e2e, steady := make([][]float64, len(modes)), make([][]float64, len(modes))
	var errs error
run:
	for i := range o.reps {
		for m, mode := range modes {
			r, err := keyedOnce(ctx, o, mode)
			if err != nil {
				errs = fmt.Errorf("keyed: run %d: %w", i+1, err)
				break run
			}
			what := "no scrapes"
			switch {
			case mode.scrape > 0:
				what = fmt.Sprintf("scraped every %v (%d scrapes)", mode.scrape, r.scrapes)
			case mode.tls:
				what = "TLS and secret on the internal plane"
			}
			e2e[m], steady[m] = append(e2e[m], r.endToEnd), append(steady[m], r.steady)
			fmt.Fprintf(stderr, "keyed run %d/%d, %s: %s records/s first record -> FINISHED, %s records/s steady\n",
				i+1, o.reps, what, num(r.endToEnd), num(r.steady))
		}
	}
	note := fmt.Sprintf("Throughput --stateful, %d records, %d keys, JM + 2 TMs (1 slot each), parallelism 2", o.records, o.keys)
	for m, mode := range modes {
		switch {
		case mode.scrape > 0:
			note := fmt.Sprintf("%s; every process's /metrics scraped every %v", note, mode.scrape)
			rep.add("keyed, 2 TMs, first record -> FINISHED, scraped", "records/s", e2e[m], nil, note)
			rep.add("keyed, 2 TMs, steady state, scraped", "records/s", steady[m], nil, note)
		case mode.tls:
			note := note + "; mutual TLS 1.3 and the shared secret on the RPC and data plane"
			rep.add("keyed, 2 TMs, first record -> FINISHED, TLS", "records/s", e2e[m], nil, note)
			rep.add("keyed, 2 TMs, steady state, TLS", "records/s", steady[m], nil, note)
		default:
			rep.add("keyed, 2 TMs, first record -> FINISHED", "records/s", e2e[m], &target{atLeast: true, bound: 1e6}, note)
			rep.add("keyed, 2 TMs, steady state", "records/s", steady[m], &target{atLeast: true, bound: 1e6}, note)
		}
	}
	return errs
}

// keyedOnce runs the bounded keyed job once on a fresh cluster. The job
// runs in default scheduler mode at parallelism 2 so that it starts only
// once both TaskManagers are there, and the whole bounded input is timed at
// parallelism 2.
func keyedOnce(ctx context.Context, o keyedOptions, mode keyedMode) (res keyedRun, err error) {
	c, err := newCluster(o.tide, o.logs)
	if err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w (logs kept in %s)", err, c.home)
		}
		c.stop(err != nil)
	}()
	if mode.tls {
		if err := c.secureInternal(); err != nil {
			return res, err
		}
	}
	flags := []string{"-Dscheduler-mode=default", "-Dparallelism.default=2"}
	jobArgs := []string{"--records", strconv.FormatInt(o.records, 10), "--keys", strconv.FormatInt(o.keys, 10),
		"--stateful", "--progress", "500ms"}
	if err := c.startJM("Throughput", flags, jobArgs); err != nil {
		return res, err
	}
	for range 2 {
		if _, err := c.startTM(); err != nil {
			return res, err
		}
	}
	id, err := c.jobID(ctx)
	if err != nil {
		return res, err
	}
	if err := c.waitRunning(ctx, id, 2, 60*time.Second); err != nil {
		return res, err
	}
	if mode.scrape > 0 {
		sctx, stop := context.WithCancel(ctx)
		done := c.scrape(sctx, mode.scrape)
		defer func() { stop(); res.scrapes = done() }()
	}
	var d jobDetail
	err = c.waitFor(ctx, "the job to finish", 10*time.Minute, func() (bool, error) {
		var err error
		if d, err = c.job(ctx, id); err != nil {
			return false, err
		}
		switch d.State {
		case "FINISHED":
			return true, nil
		case "FAILED", "CANCELED":
			return false, fmt.Errorf("job %s", d.State)
		}
		return false, nil
	})
	if err != nil {
		return res, err
	}
	lines := c.prog.snapshot()
	first := firstRecord(lines)
	if first == 0 || d.End <= 0 {
		return res, fmt.Errorf("no first-record line (%d progress lines) or no end-time (%d)", len(lines), d.End)
	}
	secs := (float64(d.End)*1e6 - float64(first)) / 1e9
	if secs <= 0 {
		return res, fmt.Errorf("job ended %.3fs after its first record", secs)
	}
	res.endToEnd = float64(o.records) / secs
	res.steady = steadyRate(lines, time.Second)
	return res, nil
}
