package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tide-stream/tide/internal/daemon"
)

// stopWait bounds how long `stop` waits for a process to exit after SIGTERM, unless the
// process declared that it may take longer (a TaskManager: its decommission timeout).
const stopWait = 60 * time.Second

// stopProgressEvery is how often `stop` says that it is still waiting.
const stopProgressEvery = 5 * time.Second

// stopDaemon is `standalone-job stop`, `taskmanager stop` and `taskmanager stop-all`: SIGTERM
// to the newest instance of kind (or all of them), then wait for them to exit, saying what it
// waits for.
func stopDaemon(cmd *cobra.Command, kind daemon.Kind, all bool) error {
	home, err := homeDir()
	if err != nil {
		return err
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	var started time.Time
	ps, err := daemon.StopWithOptions(home, kind, daemon.StopOptions{
		Wait: stopWait,
		All:  all,
		Skipped: func(s daemon.Skipped) {
			fmt.Fprintf(stderr, "tide: %s\n", s)
		},
		Signalled: func(p daemon.Process) {
			started = time.Now()
			sayStopping(stdout, kind, p)
		},
		WaitingEvery: stopProgressEvery,
		Waiting: func(pending []daemon.Process, elapsed time.Duration) {
			for _, p := range pending {
				sayWaiting(stdout, kind, p, elapsed)
			}
		},
	})
	if err != nil && (!all || len(ps) == 0) {
		return err
	}
	took := ""
	if d := time.Since(started); !started.IsZero() && d >= time.Second {
		took = fmt.Sprintf(" after %v", d.Round(100*time.Millisecond))
	}
	for _, p := range ps {
		fmt.Fprintf(stdout, "Stopped %s (pid %d)%s\n", kind, p.PID, took)
	}
	return err
}

// sayStopping says what stopping p involves.
func sayStopping(w io.Writer, kind daemon.Kind, p daemon.Process) {
	if kind != daemon.KindTaskManager || p.StopTimeout <= 0 {
		fmt.Fprintf(w, "Stopping %s (pid %d)\n", kind, p.PID)
		return
	}
	fmt.Fprintf(w, "Stopping %s (pid %d): it hands its work over first (decommission): it tells the JobManager "+
		"it is leaving and keeps serving until the job has rescaled without it, for at most %v "+
		"(its taskmanager.decommission.timeout). `tide taskmanager stop` again makes it exit at once.\n",
		kind, p.PID, p.StopTimeout)
}

// sayWaiting says that p is still stopping.
func sayWaiting(w io.Writer, kind daemon.Kind, p daemon.Process, elapsed time.Duration) {
	elapsed = elapsed.Round(time.Second)
	switch {
	case kind == daemon.KindTaskManager && p.StopTimeout > 0 && elapsed <= p.StopTimeout:
		fmt.Fprintf(w, "Waiting for %s (pid %d) to hand its work over: %v of at most %v\n", kind, p.PID, elapsed, p.StopTimeout)
	default:
		fmt.Fprintf(w, "Waiting for %s (pid %d) to exit: %v\n", kind, p.PID, elapsed)
	}
}
