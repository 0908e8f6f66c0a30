package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tide-stream/tide/internal/daemon"
)

// stopWait bounds how long `stop` waits for a process to exit after SIGTERM.
const stopWait = 60 * time.Second

// stopDaemon is `standalone-job stop`, `taskmanager stop` and `taskmanager stop-all`: SIGTERM
// to the newest instance of kind (or all of them), then wait for them to exit.
func stopDaemon(cmd *cobra.Command, kind daemon.Kind, all bool) error {
	home, err := homeDir()
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	ps, err := daemon.StopWithOptions(home, kind, daemon.StopOptions{
		Wait: stopWait,
		All:  all,
		Skipped: func(s daemon.Skipped) {
			fmt.Fprintf(stderr, "tide: %s\n", s)
		},
	})
	if err != nil && (!all || len(ps) == 0) {
		return err
	}
	for _, p := range ps {
		fmt.Fprintf(cmd.OutOrStdout(), "Stopped %s (pid %d)\n", kind, p.PID)
	}
	return err
}
