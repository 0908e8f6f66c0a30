package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tide-stream/tide/internal/daemon"
	"github.com/tide-stream/tide/internal/metrics"
	"github.com/tide-stream/tide/internal/taskmanager"
)

func (a *App) taskManagerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "taskmanager",
		Short: "Run a TaskManager that offers its slots to the JobManager",
	}
	var c common
	fg := &cobra.Command{
		Use:   "start-foreground [-Dkey=value ...]",
		Short: "Run a TaskManager in the foreground",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runTaskManager(cmd.Context(), &c)
		},
	}
	c.bind(fg)
	start := &cobra.Command{
		Use:   "start [-Dkey=value ...]",
		Short: "Start a TaskManager in the background",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			conf, err := c.load()
			if err != nil {
				return err
			}
			p, err := daemon.Start(conf.Home, daemon.KindTaskManager, append([]string{"taskmanager", "start-foreground"}, c.forwardedFlags()...))
			if err != nil {
				return startFailed(err, "taskmanager")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Started taskmanager daemon (pid %d), registering with the JobManager at %s; log %s\n",
				p.PID, p.Ready["jobmanager"], p.Log)
			return nil
		},
	}
	start.Flags().AddFlagSet(fg.Flags())
	stop := &cobra.Command{
		Use:   "stop",
		Short: "Stop the most recently started TaskManager on this host (gracefully: the job rescales first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return stopDaemon(cmd, daemon.KindTaskManager, false)
		},
	}
	stopAll := &cobra.Command{
		Use:   "stop-all",
		Short: "Stop every TaskManager on this host",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return stopDaemon(cmd, daemon.KindTaskManager, true)
		},
	}
	cmd.AddCommand(fg, start, stop, stopAll)
	return cmd
}

// runTaskManager runs a TaskManager. The first SIGTERM or SIGINT starts a
// graceful decommission; a second one exits at once.
func (a *App) runTaskManager(ctx context.Context, c *common) error {
	conf, log, release, err := c.process(daemon.KindTaskManager)
	if err != nil {
		return err
	}
	defer release()
	// Tell `taskmanager stop` how long a graceful stop may take, so that it can say so and wait
	// long enough.
	if err := daemon.RecordStopTimeout(conf.Home, daemon.KindTaskManager, conf.DecommissionTimeout); err != nil {
		log.Warn("stop will not know this taskmanager's decommission timeout", "err", err)
	}
	network, restSec, err := processSecurity(conf, false, log)
	if err != nil {
		return err
	}
	tc := taskmanager.FromConfig(conf)
	tc.Network = network
	tc.Version, tc.Jobs, tc.Logger = Version, a.Jobs, log
	tm, err := taskmanager.New(tc)
	if err != nil {
		return err
	}
	reg := metrics.NewRegistry()
	defer tm.RegisterMetrics(reg)()
	stopMetrics := serveMetrics(conf, reg, conf.TaskManagerHost, true, restSec, log)
	defer stopMetrics()
	log.Info("taskmanager started", "jobmanager", tc.JobManager,
		"slots", conf.NumberOfTaskSlots, "data", tm.DataAddr(), "version", Version)
	// Up: the data plane is bound and registering begins (a JobManager that is not up yet is
	// waited for). Tell `taskmanager start` or `tide run`, if they wait.
	if err := daemon.NotifyReady(map[string]string{"jobmanager": tc.JobManager, "data": tm.DataAddr()}); err != nil {
		log.Warn("cannot report readiness to the starting process", "err", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Under `tide run`: exit at once if it is gone (kill -9), as Linux's parent-death signal
	// would already have done.
	stopWatch, err := daemon.WatchParent(func() {
		log.Error("the tide run that started this taskmanager is gone; exiting")
		cancel()
	})
	if err != nil {
		return err
	}
	defer stopWatch()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	done := make(chan error, 1)
	go func() { done <- tm.Run(ctx) }() // owner: this function, which waits on done
	for n := 0; ; {
		select {
		case err := <-done:
			return err
		case s := <-sigs:
			n++
			if n == 1 {
				log.Info("signal received: decommissioning", "signal", s)
				tm.Leave(fmt.Sprintf("signal %v", s))
				continue
			}
			log.Warn("second signal: exiting at once", "signal", s)
			cancel()
		}
	}
}
