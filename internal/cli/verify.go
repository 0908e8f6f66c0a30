package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tide-stream/tide/internal/verify"
)

func (a *App) verifyCmd() *cobra.Command {
	var dir string
	var keys, count int
	cmd := &cobra.Command{
		Use:   "verify --output DIR --keys K --count N",
		Short: "Check the committed output of the Verify job: every count exactly once, sums right",
		Long: "Checks the committed output of the Verify job (lines key,count,sum under DIR; hidden files and " +
			"directories such as .inprogress are skipped). For every key 0..K-1 the counts must appear exactly once " +
			"with the right sums: 1..n_k for a bounded run (--count N), 1..the largest count present for an " +
			"unbounded one (--count 0), where every key must still be present. An empty output fails, and so does " +
			"a missing directory. Exits 0 if the output is exactly right, else prints the problems and exits 1.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return fmt.Errorf("--output DIR is required")
			}
			rep, err := verify.Check(dir, keys, count)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), rep.String())
			if !rep.OK() {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "output", "", "the Verify job's output directory")
	cmd.Flags().IntVar(&keys, "keys", 16, "number of keys K the job ran with")
	cmd.Flags().IntVar(&count, "count", 0, "number of records N (0: the job is unbounded; check what is there: every key present, "+
		"each key's counts 1..its largest exactly once)")
	return cmd
}
