package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/procs"
	"github.com/tide-stream/tide/internal/rest"
)

func (a *App) runCmd() *cobra.Command {
	var c common
	var job string
	var n int
	cmd := &cobra.Command{
		Use:   "run -j NAME --taskmanagers N [-Dkey=value ...] [-- job args]",
		Short: "Run a local cluster: a JobManager and N TaskManager processes, in the foreground",
		Long: "Starts the JobManager and N TaskManagers as separate OS processes on this machine, " +
			"prefixes their logs, and stops them all when the job ends or on Ctrl-C (which cancels the job; " +
			"a second Ctrl-C stops the processes at once), then prints a summary. The processes die with it. " +
			"A job that needs Kafka and is given no --bootstrap-servers (CPULoad) gets an in-memory broker (kfake) on a " +
			"free loopback port with its topics created; tide run logs its address and stops it with the cluster.",
		RunE: func(cmd *cobra.Command, args []string) error {
			jargs, err := jobArgs(cmd, args)
			if err != nil {
				return err
			}
			if n < 0 {
				return fmt.Errorf("--taskmanagers %d must not be negative", n)
			}
			conf, err := c.load()
			if err != nil {
				return err
			}
			if _, _, err := a.Jobs.CheckArgs(job, jargs); err != nil {
				kr, ok := asKafkaRequired(err)
				if !ok {
					return err
				}
				var k *embeddedKafka
				if k, jargs, err = startEmbeddedKafka(kr, jargs); err != nil {
					return err
				}
				defer func() {
					k.close()
					fmt.Fprintln(a.Stderr, "tide run: the in-memory Kafka broker stopped")
				}()
				fmt.Fprintf(a.Stderr, "tide run: %s\n", k.describe(kr.Flag))
			}
			if _, err := a.Jobs.Build(job, jargs, conf.MaxParallelism); err != nil {
				return err
			}
			return a.runLocal(cmd.Context(), &c, conf, job, jargs, n)
		},
	}
	cmd.Annotations = map[string]string{embedsKafka: "true"}
	c.bind(cmd)
	cmd.Flags().StringVarP(&job, "job-classname", "j", "", "name of the job to run")
	cmd.Flags().IntVar(&n, "taskmanagers", 1, "number of TaskManager processes")
	return cmd
}

// Bounds of the local cluster's waits.
const (
	// runLeaveWait bounds how long TaskManagers take to leave a job that is over (the
	// JobManager releases them at once); then they are told to exit at once.
	runLeaveWait = 15 * time.Second
	// runCancelWait bounds the wait for a job canceled on Ctrl-C to reach a terminal state.
	runCancelWait = 15 * time.Second
)

// runLocal runs the local cluster. The JobManager starts first; once it is up (its ports are
// bound), the TaskManagers. runLocal then follows the job through the JobManager's REST API.
// When the job is over (or on Ctrl-C, which cancels it), the TaskManagers leave — the
// JobManager releases them at once, so nothing logs a lost connection — then the JobManager
// stops, and a summary is printed.
//
// Every child dies with this process, even on kill -9: see package procs.
func (a *App) runLocal(ctx context.Context, c *common, conf *config.Config, job string, jargs []string, n int) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the tide executable: %w", err)
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	lc := &localCluster{procs.New(exe, "tide run: ", a.Stdout, a.Stderr), false}
	defer lc.Close()

	jmArgs := append([]string{"standalone-job", "start-foreground", "-j", job}, c.forwardedFlags()...)
	if len(jargs) > 0 {
		jmArgs = append(append(jmArgs, "--"), jargs...)
	}
	jm, err := lc.Start("jobmanager", jmArgs)
	if err != nil {
		return err
	}
	jmReady, err := jm.WaitReady()
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("tide run: %v", err)}
	}
	api, err := newRESTClient(conf, jmReady["rest"], jmReady["job_id"])
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("tide run: the jobmanager's report: %v", err)}
	}
	var tms []*procs.Child
	for i := range n {
		tm, err := lc.Start(fmt.Sprintf("taskmanager-%d", i+1), append([]string{"taskmanager", "start-foreground"}, c.forwardedFlags()...))
		if err != nil {
			return err
		}
		tms = append(tms, tm)
	}
	for _, tm := range tms {
		if _, err := tm.WaitReady(); err != nil {
			return &exitError{code: 1, msg: fmt.Sprintf("tide run: %v", err)}
		}
	}
	lc.Say("local cluster up: a JobManager (REST API and web UI at %s) and %d TaskManager(s); Ctrl-C cancels the job", api.base, n)

	final, canceled := lc.follow(ctx, api, jm, sigs)
	lc.stopping = true

	// The job is over (or the JobManager is gone): the TaskManagers leave first, so that the
	// JobManager releases them instead of them losing it.
	for _, tm := range tms {
		tm.Signal(syscall.SIGTERM)
	}
	for _, tm := range tms {
		tm.Stop(runLeaveWait)
	}
	jm.Signal(syscall.SIGTERM)
	jm.Stop(procs.ExitWait)

	s := summary{job: job, jobArgs: jargs, view: final, canceled: canceled}
	lc.Say("%s", s.String())
	switch {
	case final.State == rest.JobFinished, final.State == rest.JobCanceled && canceled:
		return nil
	case final.terminal():
		return &exitError{code: 1} // the summary says how it ended
	case canceled:
		return &exitError{code: 1, msg: "tide run: stopped before the job ended"}
	}
	return &exitError{code: 1, msg: fmt.Sprintf("tide run: the jobmanager exited (%v) before the job ended", jm.ExitErr())}
}

// follow polls the job until it reaches a terminal state or the JobManager exits, and returns
// the last view of it and whether the user canceled it. The first signal cancels the job
// through the REST API (or, if that fails or the job does not end within runCancelWait,
// stops the JobManager); a second one stops the JobManager at once.
func (lc *localCluster) follow(ctx context.Context, api *restClient, jm *procs.Child, sigs <-chan os.Signal) (jobView, bool) {
	var last jobView
	canceled := false
	var cancelDeadline <-chan time.Time
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-lc.Exits():
			jmGone := false
			for _, ch := range lc.TakeExits() {
				lc.reportExit(ch)
				jmGone = jmGone || ch == jm
			}
			if jmGone {
				return last, canceled
			}
		case <-ctx.Done():
			jm.Signal(syscall.SIGTERM)
			return last, canceled
		case s := <-sigs:
			if !canceled {
				canceled = true
				lc.Say("%v: canceling the job (again to stop at once)", s)
				if err := api.cancel(); err != nil {
					lc.Say("cannot cancel the job through the REST API (%v); stopping the jobmanager", err)
					jm.Signal(syscall.SIGTERM)
				}
				cancelDeadline = time.After(runCancelWait)
				continue
			}
			lc.Say("%v: stopping at once", s)
			jm.Signal(syscall.SIGTERM)
			return last, canceled
		case <-cancelDeadline:
			lc.Say("the job did not end within %v of being canceled; stopping the jobmanager", runCancelWait)
			jm.Signal(syscall.SIGTERM)
			cancelDeadline = nil
		case <-tick.C:
			v, err := api.view()
			if err != nil {
				continue // the JobManager may be busy; its exit comes through lc.exits
			}
			last = v
			if v.terminal() {
				return last, canceled
			}
		}
	}
}

// localCluster is the processes of one `tide run`; stopping is set once runLocal stops the
// cluster: exits are expected from then on.
type localCluster struct {
	*procs.Cluster
	stopping bool
}

// reportExit says that a child exited while the cluster was running.
func (lc *localCluster) reportExit(ch *procs.Child) {
	if !lc.stopping {
		lc.Say("%s exited (%v)", ch.Name(), ch.ExitErr())
	}
}
