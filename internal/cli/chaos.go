package cli

import (
	"fmt"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tide-stream/tide/internal/chaos"
)

// chaosCmd is `tide chaos`: flags -> chaos.Config -> chaos.Run.
func (a *App) chaosCmd() *cobra.Command {
	var cfg chaos.Config
	var kinds []string
	cmd := &cobra.Command{
		Use:   "chaos [--events N] [--seed S] [--kinds start,stop,kill,stop-cont,jm-kill,jm-stop] [--dir DIR] [-Dkey=value ...]",
		Short: "Run the Verify job through random TaskManager (and JobManager) starts, stops and kills, then verify its output",
		Long: "Runs the Verify job on a local cluster (a JobManager and TaskManager processes on 127.0.0.1), " +
			"applies random events from a seeded source (start a TaskManager, stop it gracefully, kill -9 it, " +
			"SIGSTOP it for 1-3 heartbeat timeouts; with --kinds naming them, kill -9 the JobManager (jm-kill) " +
			"or stop it with SIGTERM (jm-stop) and start it again with the same command line, waiting for its " +
			"REST API before the next event), waits for the job to finish and checks its output. " +
			"Exits 0 only if the job finished and the output is exactly right.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, err := chaos.ParseKinds(kinds)
			if err != nil {
				return err
			}
			cfg.Kinds = ks
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			res, err := chaos.Run(ctx, cfg, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			if !res.Passed() {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Events, "events", 20, "number of random events")
	f.Uint64Var(&cfg.Seed, "seed", 0, "seed of the random source (0: pick one and print it)")
	f.IntVar(&cfg.Keys, "keys", 16, "the Verify job's --keys")
	f.IntVar(&cfg.Count, "count", 0, "the Verify job's --count (0: rate × (events × interval + 10s))")
	f.IntVar(&cfg.Rate, "rate", 5000, "the Verify job's --rate, records per second")
	f.IntVar(&cfg.MinTMs, "min-tms", 1, "fewest TaskManagers up")
	f.IntVar(&cfg.MaxTMs, "max-tms", 4, "most TaskManagers up")
	f.IntVar(&cfg.InitialTMs, "initial-tms", 0, "TaskManagers started before the first event (0: 2, within [min-tms, max-tms])")
	f.DurationVar(&cfg.Interval, "interval", 2*time.Second, "time between events")
	f.StringSliceVar(&kinds, "kinds", []string{"start", "stop", "kill", "stop-cont"},
		"event kinds to draw from: start, stop, kill, stop-cont (TaskManagers), jm-kill, jm-stop (the JobManager, restarted at once)")
	f.StringVar(&cfg.Dir, "dir", "", "directory for logs, TIDE_HOME and output (default: a temporary one, removed if the run passes)")
	f.StringArrayVarP(&cfg.Dynamic, "dynamic", "D", nil, fmt.Sprintf("configuration `key=value` for every process (repeatable), after the defaults %v", chaos.DefaultDynamic))
	f.DurationVar(&cfg.FinishTimeout, "finish-timeout", 0, "how long to wait for the job to finish after the events (0: 60s + count/rate)")
	return cmd
}
