package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tide-stream/tide/internal/daemon"
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
			return a.runLocal(cmd.Context(), &c, job, jargs, n)
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
	// runReadyTimeout bounds the wait for a process to come up.
	runReadyTimeout = daemon.DefaultReadyTimeout
	// runLeaveWait bounds how long TaskManagers take to leave a job that is over (the
	// JobManager releases them at once); then they are told to exit at once.
	runLeaveWait = 15 * time.Second
	// runExitWait bounds each later wait for a process to exit before it is killed.
	runExitWait = 10 * time.Second
	// runCancelWait bounds the wait for a job canceled on Ctrl-C to reach a terminal state.
	runCancelWait = 15 * time.Second
)

// runLocal runs the local cluster. The JobManager starts first; once it is up (its ports are
// bound), the TaskManagers. runLocal then follows the job through the JobManager's REST API.
// When the job is over (or on Ctrl-C, which cancels it), the TaskManagers leave — the
// JobManager releases them at once, so nothing logs a lost connection — then the JobManager
// stops, and a summary is printed.
//
// Every child dies with this process, even on kill -9: see [daemon.Lifeline] and [spawner].
func (a *App) runLocal(ctx context.Context, c *common, job string, jargs []string, n int) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the tide executable: %w", err)
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	lc := newLocalCluster(exe, a.Stdout, a.Stderr, 1+n)
	defer lc.close()

	jmArgs := append([]string{"standalone-job", "start-foreground", "-j", job}, c.forwardedFlags()...)
	if len(jargs) > 0 {
		jmArgs = append(append(jmArgs, "--"), jargs...)
	}
	jm, err := lc.start("jobmanager", jmArgs)
	if err != nil {
		return err
	}
	jmReady, err := jm.waitReady()
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("tide run: %v", err)}
	}
	api, err := newRESTClient(jmReady["rest"], jmReady["job_id"])
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("tide run: the jobmanager's report: %v", err)}
	}
	var tms []*child
	for i := range n {
		tm, err := lc.start(fmt.Sprintf("taskmanager-%d", i+1), append([]string{"taskmanager", "start-foreground"}, c.forwardedFlags()...))
		if err != nil {
			return err
		}
		tms = append(tms, tm)
	}
	for _, tm := range tms {
		if _, err := tm.waitReady(); err != nil {
			return &exitError{code: 1, msg: fmt.Sprintf("tide run: %v", err)}
		}
	}
	lc.say("local cluster up: a JobManager (REST API and web UI at %s) and %d TaskManager(s); Ctrl-C cancels the job", api.base, n)

	final, canceled := lc.follow(ctx, api, jm, sigs)
	lc.stopping = true

	// The job is over (or the JobManager is gone): the TaskManagers leave first, so that the
	// JobManager releases them instead of them losing it.
	for _, tm := range tms {
		tm.signal(syscall.SIGTERM)
	}
	for _, tm := range tms {
		tm.stop(runLeaveWait)
	}
	jm.signal(syscall.SIGTERM)
	jm.stop(runExitWait)

	s := summary{job: job, jobArgs: jargs, view: final, canceled: canceled}
	lc.say("%s", s.String())
	switch {
	case final.State == rest.JobFinished, final.State == rest.JobCanceled && canceled:
		return nil
	case final.terminal():
		return &exitError{code: 1} // the summary says how it ended
	case canceled:
		return &exitError{code: 1, msg: "tide run: stopped before the job ended"}
	}
	return &exitError{code: 1, msg: fmt.Sprintf("tide run: the jobmanager exited (%v) before the job ended", jm.exitErr())}
}

// follow polls the job until it reaches a terminal state or the JobManager exits, and returns
// the last view of it and whether the user canceled it. The first signal cancels the job
// through the REST API (or, if that fails or the job does not end within runCancelWait,
// stops the JobManager); a second one stops the JobManager at once.
func (lc *localCluster) follow(ctx context.Context, api *restClient, jm *child, sigs <-chan os.Signal) (jobView, bool) {
	var last jobView
	canceled := false
	var cancelDeadline <-chan time.Time
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case ch := <-lc.exits:
			lc.reportExit(ch)
			if ch == jm {
				return last, canceled
			}
		case <-ctx.Done():
			jm.signal(syscall.SIGTERM)
			return last, canceled
		case s := <-sigs:
			if !canceled {
				canceled = true
				lc.say("%v: canceling the job (again to stop at once)", s)
				if err := api.cancel(); err != nil {
					lc.say("cannot cancel the job through the REST API (%v); stopping the jobmanager", err)
					jm.signal(syscall.SIGTERM)
				}
				cancelDeadline = time.After(runCancelWait)
				continue
			}
			lc.say("%v: stopping at once", s)
			jm.signal(syscall.SIGTERM)
			return last, canceled
		case <-cancelDeadline:
			lc.say("the job did not end within %v of being canceled; stopping the jobmanager", runCancelWait)
			jm.signal(syscall.SIGTERM)
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

// localCluster is the processes of one `tide run`. Its methods are called by runLocal's
// goroutine only. It starts two goroutines per child, a log forwarder and a waiter, which end
// once the child has exited and its stderr is drained; close waits for them.
type localCluster struct {
	exe    string
	stdout io.Writer
	stderr *syncWriter
	sp     *spawner
	wg     sync.WaitGroup
	kids   []*child
	// exits receives each child once it has exited; its capacity is the number of children,
	// so that the waiters never block.
	exits chan *child
	// stopping is set once runLocal stops the cluster: exits are expected from then on.
	stopping bool
}

func newLocalCluster(exe string, stdout, stderr io.Writer, children int) *localCluster {
	return &localCluster{exe: exe, stdout: stdout, stderr: &syncWriter{w: stderr}, sp: newSpawner(),
		exits: make(chan *child, children)}
}

// reportExit says that a child exited while the cluster was running.
func (lc *localCluster) reportExit(ch *child) {
	if !lc.stopping {
		lc.say("%s exited (%v)", ch.name, ch.exitErr())
	}
}

// say prints one line of tide run's own to standard error.
func (lc *localCluster) say(format string, args ...any) {
	lc.stderr.printf("tide run: "+format+"\n", args...)
}

// child is one process of the local cluster.
type child struct {
	name     string
	cmd      *exec.Cmd
	ready    *daemon.ReadyPipe
	lifeline *daemon.Lifeline
	done     chan struct{} // closed once the process has exited; err is set before
	err      error
}

// start starts exe with args as name, its stderr prefixed with [name] on ours.
func (lc *localCluster) start(name string, args []string) (*child, error) {
	ch := &child{name: name, done: make(chan struct{})}
	var err error
	if ch.ready, err = daemon.NewReadyPipe(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if ch.lifeline, err = daemon.NewLifeline(); err != nil {
		ch.ready.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		ch.ready.Close()
		ch.lifeline.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(lc.exe, args...)
	cmd.Env = os.Environ()
	cmd.Stdout = lc.stdout
	cmd.Stderr = pw
	// Its own process group: a Ctrl-C in the terminal reaches only us, and we decide.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	ch.ready.Attach(cmd)
	ch.lifeline.Attach(cmd)
	ch.cmd = cmd
	err = lc.sp.start(cmd)
	pw.Close()
	ch.ready.Started()
	ch.lifeline.Started()
	if err != nil {
		pr.Close()
		ch.ready.Close()
		ch.lifeline.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if len(lc.kids) == cap(lc.exits) {
		panic("localCluster: more children than the capacity of exits") // invariant of newLocalCluster's caller
	}
	lc.kids = append(lc.kids, ch)
	lc.wg.Add(2)
	go func() { // owner: lc, whose close waits; ends at EOF, once the child and its descendants exited
		defer lc.wg.Done()
		defer pr.Close()
		prefixLines(pr, name, lc.stderr)
	}()
	go func() { // owner: lc, whose close kills the child if need be and waits
		defer lc.wg.Done()
		ch.err = cmd.Wait()
		close(ch.done)
		lc.exits <- ch
	}()
	return ch, nil
}

// close kills what is still running, waits for every goroutine, and stops the spawner.
func (lc *localCluster) close() {
	for _, ch := range lc.kids {
		ch.signal(syscall.SIGKILL)
	}
	lc.wg.Wait()
	for _, ch := range lc.kids {
		ch.ready.Close()
		ch.lifeline.Close()
	}
	lc.sp.close()
}

// waitReady waits until the child reports that it is up, or fails.
func (ch *child) waitReady() (map[string]string, error) {
	details, err := ch.ready.Wait(time.Now().Add(runReadyTimeout))
	if err == nil {
		return details, nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, fmt.Errorf("%s did not report that it is up within %v", ch.name, runReadyTimeout)
	}
	// It closed the pipe without a report: it is exiting.
	select {
	case <-ch.done:
		return nil, fmt.Errorf("%s exited (%v) before it was up; see its log above", ch.name, ch.exitErr())
	case <-time.After(runExitWait):
		return nil, fmt.Errorf("%s closed its readiness pipe without reporting that it is up: %v", ch.name, err)
	}
}

func (ch *child) exited() bool {
	select {
	case <-ch.done:
		return true
	default:
		return false
	}
}

// exitErr is how the child ended; call it once done is closed.
func (ch *child) exitErr() error {
	if ch.err == nil {
		return fmt.Errorf("exit status 0")
	}
	return ch.err
}

func (ch *child) signal(sig syscall.Signal) {
	if !ch.exited() {
		_ = ch.cmd.Process.Signal(sig)
	}
}

// stop waits up to d for the child to exit after it was asked to; then asks again (a second
// SIGTERM makes a TaskManager exit at once), and finally kills it.
func (ch *child) stop(d time.Duration) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		select {
		case <-ch.done:
			return
		case <-time.After(d):
			ch.signal(sig)
			d = runExitWait
		}
	}
	<-ch.done
}

// spawner starts the children from one goroutine locked to its OS thread for as long as the
// local cluster runs. Linux's parent-death signal (prctl PR_SET_PDEATHSIG, which
// [daemon.Lifeline] sets) fires when the *thread* that forked the child exits, not the process
// (prctl(2); golang/go#27505). The Go runtime ends a thread when a goroutine locked to it exits
// without unlocking, so a child forked from an arbitrary goroutine's thread could be killed
// while tide run is alive and well. A locked, long-lived thread cannot be ended that way, and
// when tide run dies it dies with it, which is the point.
type spawner struct {
	reqs chan spawnRequest
	done chan struct{}
}

type spawnRequest struct {
	cmd *exec.Cmd
	err chan<- error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnRequest), done: make(chan struct{})}
	go s.run() // owner: the spawner, whose close ends it and waits for done
	return s
}

func (s *spawner) run() {
	defer close(s.done)
	runtime.LockOSThread()
	// Unlock before returning: the children have exited by then, and a locked goroutine that
	// returns would take its thread down with it.
	defer runtime.UnlockOSThread()
	for req := range s.reqs {
		req.err <- req.cmd.Start()
	}
}

// start runs cmd.Start on the spawner's thread.
func (s *spawner) start(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	s.reqs <- spawnRequest{cmd: cmd, err: errc}
	return <-errc
}

func (s *spawner) close() {
	close(s.reqs)
	<-s.done
}

// syncWriter serializes whole writes from several goroutines.
type syncWriter struct {
	mu sync.Mutex // guards w
	w  io.Writer
}

func (s *syncWriter) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format, args...)
}

// prefixLines copies r to w line by line, each prefixed with [name].
func prefixLines(r io.Reader, name string, w *syncWriter) {
	buf := make([]byte, 64<<10)
	var pending []byte
	for {
		n, err := r.Read(buf)
		pending = append(pending, buf[:n]...)
		for {
			i := strings.IndexByte(string(pending), '\n')
			if i < 0 {
				break
			}
			w.printf("[%s] %s\n", name, pending[:i])
			pending = pending[i+1:]
		}
		if err != nil {
			if len(pending) > 0 {
				w.printf("[%s] %s\n", name, pending)
			}
			return
		}
	}
}
