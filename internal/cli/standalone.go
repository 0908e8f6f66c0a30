package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/daemon"
	"github.com/tide-stream/tide/internal/jobmanager"
	"github.com/tide-stream/tide/internal/metrics"
	"github.com/tide-stream/tide/internal/rest"
)

func (a *App) standaloneJobCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "standalone-job",
		Short: "Run the JobManager of one job (application mode)",
	}
	var c common
	var job string
	fg := &cobra.Command{
		Use:   "start-foreground -j NAME [-Dkey=value ...] [-- job args]",
		Short: "Run the JobManager in the foreground",
		RunE: func(cmd *cobra.Command, args []string) error {
			jargs, err := jobArgs(cmd, args)
			if err != nil {
				return err
			}
			return a.runJobManager(cmd.Context(), &c, job, jargs)
		},
	}
	c.bind(fg)
	fg.Flags().StringVarP(&job, "job-classname", "j", "", "name of the job to run")
	start := &cobra.Command{
		Use:   "start -j NAME [-Dkey=value ...] [-- job args]",
		Short: "Start the JobManager in the background",
		RunE: func(cmd *cobra.Command, args []string) error {
			jargs, err := jobArgs(cmd, args)
			if err != nil {
				return err
			}
			conf, err := c.load()
			if err != nil {
				return err
			}
			if _, err := a.Jobs.Build(job, jargs, conf.MaxParallelism); err != nil {
				return err
			}
			fargs := append([]string{"standalone-job", "start-foreground", "-j", job}, c.forwardedFlags()...)
			if len(jargs) > 0 {
				fargs = append(append(fargs, "--"), jargs...)
			}
			p, err := daemon.Start(conf.Home, daemon.KindStandaloneJob, fargs)
			if err != nil {
				return startFailed(err, "standalone-job")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Started standalonejob daemon (pid %d): job %s, REST API %s, RPC %s; log %s\n",
				p.PID, job, p.Ready["rest"], p.Ready["rpc"], p.Log)
			return nil
		},
	}
	start.Flags().AddFlagSet(fg.Flags())
	a.jobCommand(fg, "tide standalone-job start-foreground -j Verify -- --count 0 --rate 2000\n"+
		"tide standalone-job start-foreground -j Verify -- --help")
	a.jobCommand(start, "tide standalone-job start -j Verify -Dexecution.checkpointing.interval=10s -- --count 0 --rate 2000\n"+
		"tide standalone-job start -j WordCount -Dexecution.checkpointing.interval=1s -- --lines 5000 --output wordcount-output\n"+
		"tide standalone-job start -j Verify -- --help")
	stop := &cobra.Command{
		Use:   "stop",
		Short: "Stop the most recently started JobManager on this host",
		RunE: func(cmd *cobra.Command, args []string) error {
			return stopDaemon(cmd, daemon.KindStandaloneJob, false)
		},
	}
	cmd.AddCommand(fg, start, stop)
	return cmd
}

// startFailed explains a daemon that did not come up; what is the command's name.
func startFailed(err error, what string) error {
	var serr *daemon.StartError
	if errors.As(err, &serr) && serr.Exit == "" {
		return fmt.Errorf("%w\nStop it with `tide %s stop`, or look at its log.", err, what)
	}
	return err
}

func homeDir() (string, error) {
	conf, err := config.Load(config.LoadOptions{Environ: os.Environ()})
	if err != nil {
		return "", err
	}
	return conf.Home, nil
}

// runJobManager runs a JobManager and its REST API until the job is over
// (plus a short delay for clients to read it) or a signal arrives.
func (a *App) runJobManager(ctx context.Context, c *common, job string, jargs []string) error {
	conf, log, release, err := c.process(daemon.KindStandaloneJob)
	if err != nil {
		return err
	}
	defer release()
	network, restSec, err := processSecurity(conf, true, log)
	if err != nil {
		return err
	}
	jc := jobmanager.FromConfig(conf)
	jc.Network = network
	jc.JobName, jc.JobArgs, jc.Jobs, jc.Version = job, jargs, a.Jobs, Version
	jc.ShutdownDelay, jc.Logger = 2*time.Second, log
	jm, err := jobmanager.New(jc)
	if err != nil {
		return err
	}
	rpcAddr, err := jm.Listen()
	if err != nil {
		return err
	}
	srv := rest.NewServer(rest.Config{Addr: net.JoinHostPort(conf.RESTAddress, strconv.Itoa(conf.RESTPort)), Logger: log, Version: Version,
		TLS: restSec.ServerTLS(), Auth: restSec}, jm.Backend())
	if err := srv.Start(); err != nil {
		return fmt.Errorf("rest.port: %w", err)
	}
	defer srv.Close(context.Background())
	reg := metrics.NewRegistry()
	defer jm.RegisterMetrics(reg)()
	stopMetrics := serveMetrics(conf, reg, conf.RESTAddress, false, restSec, log)
	defer stopMetrics()
	restURL := srv.Scheme() + "://" + srv.Addr()
	log.Info("jobmanager started", "job", job, "job_id", jm.JobID(), "rpc", rpcAddr, "rest", restURL,
		"rest_authenticated", restSec.Authenticated(), "scheduler", conf.SchedulerMode, "version", Version)
	// Up: both ports are bound. Tell `standalone-job start` or `tide run`, if they wait.
	if err := daemon.NotifyReady(map[string]string{"rpc": rpcAddr, "rest": restURL, "job_id": jm.JobID()}); err != nil {
		log.Warn("cannot report readiness to the starting process", "err", err)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// Under `tide run`: stop if it is gone (kill -9), as Linux's parent-death signal would
	// already have done.
	stopWatch, err := daemon.WatchParent(func() {
		log.Error("the tide run that started this jobmanager is gone; exiting")
		stop()
	})
	if err != nil {
		return err
	}
	defer stopWatch()
	if err := jm.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if st := jm.Backend().Overview(); st.JobsFailed > 0 {
		return &exitError{code: 1, msg: "job failed"}
	}
	return nil
}
