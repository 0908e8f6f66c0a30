package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func (a *App) runCmd() *cobra.Command {
	var c common
	var job string
	var n int
	cmd := &cobra.Command{
		Use:   "run -j NAME --taskmanagers N [-Dkey=value ...] [-- job args]",
		Short: "Run a local cluster: a JobManager and N TaskManager processes, in the foreground",
		Long: "Starts the JobManager and N TaskManagers as separate OS processes on this machine, " +
			"prefixes their logs, and stops them all on Ctrl-C or when the job ends.",
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
			if _, err := a.Jobs.Build(job, jargs, conf.MaxParallelism); err != nil {
				return err
			}
			return a.runLocal(cmd.Context(), &c, job, jargs, n)
		},
	}
	c.bind(cmd)
	cmd.Flags().StringVarP(&job, "job-classname", "j", "", "name of the job to run")
	cmd.Flags().IntVar(&n, "taskmanagers", 1, "number of TaskManager processes")
	return cmd
}

// runLocal starts the processes and supervises them.
func (a *App) runLocal(ctx context.Context, c *common, job string, jargs []string, n int) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the tide executable: %w", err)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var wg sync.WaitGroup
	var mu sync.Mutex // serializes writes to Stderr from the log forwarders
	startProc := func(name string, args []string) (*exec.Cmd, error) {
		cmd := exec.Command(exe, args...)
		cmd.Env = os.Environ()
		out, err := cmd.StderrPipe()
		if err != nil {
			return nil, err
		}
		cmd.Stdout = a.Stdout
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		wg.Add(1)
		go func() { // owner: runLocal, which waits for wg
			defer wg.Done()
			prefixLines(out, name, a.Stderr, &mu)
		}()
		return cmd, nil
	}
	jmArgs := append([]string{"standalone-job", "start-foreground", "-j", job}, c.forwardedFlags()...)
	if len(jargs) > 0 {
		jmArgs = append(append(jmArgs, "--"), jargs...)
	}
	jm, err := startProc("jobmanager", jmArgs)
	if err != nil {
		return err
	}
	jmDone := make(chan error, 1)
	go func() { jmDone <- jm.Wait() }() // owner: runLocal, which reads jmDone
	var tms []*exec.Cmd
	for i := 0; i < n; i++ {
		tm, err := startProc(fmt.Sprintf("taskmanager-%d", i+1), append([]string{"taskmanager", "start-foreground"}, c.forwardedFlags()...))
		if err != nil {
			jm.Process.Signal(syscall.SIGTERM)
			return err
		}
		tms = append(tms, tm)
	}
	var jmErr error
	select {
	case <-ctx.Done():
		fmt.Fprintln(a.Stderr, "stopping the local cluster")
		jm.Process.Signal(syscall.SIGTERM)
		jmErr = <-jmDone
	case jmErr = <-jmDone:
	}
	for _, tm := range tms {
		// Twice: the first asks for a graceful leave, the second exits at once,
		// since the job is over.
		tm.Process.Signal(syscall.SIGTERM)
		time.Sleep(50 * time.Millisecond)
		tm.Process.Signal(syscall.SIGTERM)
	}
	for _, tm := range tms {
		waitOrKill(tm, 10*time.Second)
	}
	wg.Wait()
	if jmErr != nil && ctx.Err() == nil {
		return &exitError{code: 1, msg: fmt.Sprintf("jobmanager exited: %v", jmErr)}
	}
	return nil
}

func waitOrKill(cmd *exec.Cmd, d time.Duration) {
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }() // owner: waitOrKill
	select {
	case <-done:
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
	}
}

func prefixLines(r io.Reader, name string, w io.Writer, mu *sync.Mutex) {
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
			mu.Lock()
			fmt.Fprintf(w, "[%s] %s\n", name, pending[:i])
			mu.Unlock()
			pending = pending[i+1:]
		}
		if err != nil {
			if len(pending) > 0 {
				mu.Lock()
				fmt.Fprintf(w, "[%s] %s\n", name, pending)
				mu.Unlock()
			}
			return
		}
	}
}
