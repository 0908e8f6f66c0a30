package cli

import "github.com/spf13/cobra"

func (a *App) chaosCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "chaos",
		Short:  "Run the Verify job through random TaskManager starts, stops and kills, then verify its output",
		Hidden: true,
	}
}
