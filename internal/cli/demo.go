package cli

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/tide-stream/tide/internal/cgroup"
	"github.com/tide-stream/tide/internal/demo"
)

func (a *App) demoCmd() *cobra.Command {
	var (
		cfg                demo.Config
		policy, report     string
		compare            bool
		cpuRequest, cpuLim string
	)
	cmd := &cobra.Command{
		Use:   "demo [--duration D] [--policy hpa|tide | --compare] [--report DIR]",
		Short: "Reproduce the seed's experiment on this machine and report it",
		Long: "Runs the Flink Reactive Mode demo on one machine with nothing installed: an in-memory Kafka broker, " +
			"`tide datagen` with the seed's bursts compressed --speedup times (rates kept), the CPULoad job in reactive " +
			"mode (web UI at http://127.0.0.1:--rest-port meanwhile) and the autoscaler with the local driver, " +
			"TaskManagers in cgroups with a pod's CPU request and limit — for --duration per policy. It writes " +
			"DIR/report.html (the seed's four panels over time, rescales marked, and a summary table), a chart per " +
			"panel, DIR/summary.json and the processes' logs in DIR/processes.log. --compare runs the hpa and tide policies one after the other on the same load.",
		Example: "  tide demo --duration 16m --compare --report demo-report\n  tide demo --duration 5m --policy tide",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := parseCores(cpuRequest)
			if err != nil {
				return fmt.Errorf("--cpu-request: %w", err)
			}
			lim, err := parseCores(cpuLim)
			if err != nil {
				return fmt.Errorf("--cpu-limit: %w", err)
			}
			cfg.CPU = cgroup.CPU{RequestMilli: int(req * 1000), LimitMilli: int(lim * 1000)}
			cfg.Policies = []string{policy}
			if compare {
				cfg.Policies = []string{"hpa", "tide"}
			}
			if cfg.Exe, err = os.Executable(); err != nil {
				return fmt.Errorf("find the tide executable: %w", err)
			}
			// The processes' log lines go to a file beside the report.
			if err := os.MkdirAll(report, 0o755); err != nil {
				return fmt.Errorf("--report: %w", err)
			}
			logFile, err := os.Create(filepath.Join(report, "processes.log"))
			if err != nil {
				return fmt.Errorf("--report: %w", err)
			}
			defer logFile.Close()
			// The autoscaler's decisions go there too, at info.
			cfg.Stderr = logFile
			cfg.Log = slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo})).With("component", "demo")
			bar := progressbar.NewOptions64(int64(cfg.Duration.Seconds())*int64(len(cfg.Policies)),
				progressbar.OptionSetWriter(a.Stderr), progressbar.OptionSetDescription("demo"),
				progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionThrottle(time.Second))
			var before time.Duration
			last := ""
			cfg.Progress = func(p string, done time.Duration) {
				if p != last && last != "" {
					before += cfg.Duration
				}
				last = p
				bar.Describe("demo: policy " + p)
				_ = bar.Set64(int64((before + done).Seconds()))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			fmt.Fprintf(a.Stderr, "tide demo: %v per policy %v, the seed's load %v× faster; web UI at http://127.0.0.1:%d\n",
				cfg.Duration, cfg.Policies, cfg.Speedup, cfg.RESTPort)
			runs, err := demo.RunAll(ctx, cfg)
			_ = bar.Finish()
			if len(runs) > 0 {
				if werr := demo.Write(report, runs); werr != nil {
					return werr
				}
				abs, _ := filepath.Abs(filepath.Join(report, "report.html"))
				fmt.Fprintf(a.Stderr, "\ntide demo: report at %s\n", abs)
				for _, r := range runs {
					s := r.Summarize()
					fmt.Fprintf(a.Stderr, "  %s: peak lag %.0f records (%.2f s of input), %.0f TaskManager-seconds, %d rescales, %d ms paused\n",
						s.Policy, s.PeakLagRecords, s.PeakLagSeconds, s.TaskManagerSeconds, s.Rescales, s.PauseMsTotal)
				}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.DurationVar(&cfg.Duration, "duration", 16*time.Minute, "length of each run (one period of the seed's load at --speedup 10 is 15.7m)")
	f.Float64Var(&cfg.Speedup, "speedup", 10, "compress the seed's 157-minute load this many times, keeping its rates")
	f.StringVar(&policy, "policy", "tide", "autoscaling policy: hpa or tide")
	f.BoolVar(&compare, "compare", false, "run hpa, then tide, on the same load, and report them side by side")
	f.StringVar(&report, "report", "tide-demo-report", "directory of the report")
	f.IntVar(&cfg.Iterations, "iterations", 1700, "CPULoad's iterations per record (1700: about 75 µs, the seed's cost per record on Flink)")
	f.IntVar(&cfg.Min, "min", 1, "fewest TaskManagers")
	f.IntVar(&cfg.Max, "max", 8, "most TaskManagers")
	f.StringVar(&cpuRequest, "cpu-request", "250m", "each TaskManager's CPU request (the seed's pods)")
	f.StringVar(&cpuLim, "cpu-limit", "500m", "each TaskManager's CPU limit (the seed's pods)")
	f.IntVar(&cfg.TargetCPU, "target-cpu", 35, "hpa: target CPU utilization, percent of the request (the seed's)")
	f.IntVar(&cfg.RESTPort, "rest-port", 8081, "the JobManager's REST port: the web UI, live during the run")
	return cmd
}
