// Package cli owns the `tide` command line: the subcommands of docs/jobs.md,
// their flags, and the translation of configuration into the process
// shells (jobmanager, taskmanager). It holds no runtime logic. The commands
// are documented in docs/jobs.md, the configuration in docs/configuration.md.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/daemon"
	"github.com/tide-stream/tide/internal/jobs"
)

// Version is the build's version; TaskManagers of another version are
// refused. Set with -ldflags "-X github.com/tide-stream/tide/internal/cli.Version=…".
var Version = "0.1.0-dev"

// App is the CLI with its job registry.
type App struct {
	Jobs   *jobs.Registry
	Stdout io.Writer
	Stderr io.Writer
}

// Run executes the command line args (without the program name) and
// returns the process exit code.
func (a *App) Run(ctx context.Context, args []string) int {
	root := a.root()
	root.SetArgs(args)
	root.SetOut(a.Stdout)
	root.SetErr(a.Stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(a.Stderr, ee.msg)
			}
			return ee.code
		}
		fmt.Fprintf(a.Stderr, "tide: %v\n", err)
		return 1
	}
	return 0
}

// exitError carries an exit code other than 1.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return fmt.Sprintf("exit %d: %s", e.code, e.msg) }

func (a *App) root() *cobra.Command {
	root := &cobra.Command{
		Use:           "tide",
		Short:         "Tide: an elastic, stateful stream processor",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	run := a.runCmd()
	a.jobCommand(run, "tide run -j Verify --taskmanagers 2 -- --keys 16 --count 100000 --output verify-output\n"+
		"tide run -j WordCount --taskmanagers 1 -Dexecution.checkpointing.interval=1s -- --lines 5000 --output wordcount-output\n"+
		"tide run -j CPULoad --taskmanagers 2 -- --partitions 2\n"+
		"tide run -j Verify -- --help")
	root.AddCommand(a.standaloneJobCmd(), a.taskManagerCmd(), run, a.verifyCmd(), a.chaosCmd(), a.datagenCmd(), a.kafkaCmd(), a.autoscalerCmd(), a.demoCmd(), a.secretsCmd())
	return root
}

// Where the repository documents what the help texts point to.
const (
	configurationDoc = "docs/configuration.md"
	jobsDoc          = "docs/jobs.md"
)

// errHelpShown ends a command that printed a job's usage, with exit code 0.
var errHelpShown = &exitError{code: 0}

// jobCommand completes a command that runs a job, `… -j NAME [-- job
// args]`, whose -j flag is named job-classname: its help lists the
// registered jobs and points to the documentation, examples are the given
// lines, and before the command runs, checkJob checks -j and answers
// `-- --help`.
func (a *App) jobCommand(cmd *cobra.Command, examples string) {
	names := "none are registered in this binary"
	if n := a.Jobs.Names(); len(n) > 0 {
		names = strings.Join(n, ", ")
	}
	if f := cmd.Flags().Lookup("job-classname"); f != nil {
		f.Usage = "the job to run (required): " + names
	}
	long := cmd.Long
	if long == "" {
		long = cmd.Short + "."
	}
	cmd.Long = long + "\n\n" +
		"Jobs (-j NAME): " + names + ". Job arguments go after --; " +
		"`-j NAME -- --help` prints a job's arguments and exits.\n\n" +
		"Configuration: -Dkey=value flags, TIDE_<KEY> environment variables and $TIDE_HOME/conf/config.yaml " +
		"(Flink's keys). Every key, its default and meaning are in " + configurationDoc + ", the built-in jobs " +
		"and their arguments in " + jobsDoc + ", in the Tide repository."
	lines := strings.Split(examples, "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	cmd.Example = strings.Join(lines, "\n")
	cmd.PreRunE = a.checkJob
}

// checkJob runs before a command that runs a job, so that it starts
// nothing when: -j is missing or names no registered job, or the job
// refuses its arguments (errors), or the arguments ask for help (-- --help:
// it prints the job's usage and ends the command with exit code 0).
func (a *App) checkJob(cmd *cobra.Command, args []string) error {
	job, err := cmd.Flags().GetString("job-classname")
	if err != nil {
		return err
	}
	if job == "" {
		names := a.Jobs.Names()
		if len(names) == 0 {
			return errors.New("-j NAME is required, but no jobs are registered in this binary")
		}
		return fmt.Errorf("-j NAME is required: the job to run, one of %s", strings.Join(names, ", "))
	}
	jargs, err := jobArgs(cmd, args)
	if err != nil {
		return err
	}
	usage, asked, err := a.Jobs.CheckArgs(job, jargs)
	if _, ok := asKafkaRequired(err); ok && cmd.Annotations[embedsKafka] != "" {
		return nil // the command starts a broker for the job
	}
	if err != nil || !asked {
		return err
	}
	fmt.Fprint(cmd.OutOrStdout(), usage)
	return errHelpShown
}

// common holds the flags every process command takes.
type common struct {
	dynamic  []string
	logLevel string
}

func (c *common) bind(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&c.dynamic, "dynamic", "D", nil, "configuration `key=value` (repeatable), e.g. -Dexecution.checkpointing.interval=10s")
	cmd.Flags().StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
}

// load reads the configuration: defaults, $TIDE_HOME/conf/config.yaml,
// TIDE_* environment variables, then -D flags.
func (c *common) load() (*config.Config, error) {
	for _, d := range c.dynamic {
		if _, _, err := config.ParseDynamic(d); err != nil {
			return nil, err
		}
	}
	return config.Load(config.LoadOptions{Environ: os.Environ(), Dynamic: c.dynamic})
}

func (c *common) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.logLevel)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl})), nil
}

// process prepares a foreground process of kind: its configuration, its
// logger on standard error (the daemon's .log file), and its pid entry
// under $TIDE_HOME so that `stop` finds it; release removes the entry.
func (c *common) process(kind daemon.Kind) (*config.Config, *slog.Logger, func(), error) {
	conf, err := c.load()
	if err != nil {
		return nil, nil, nil, err
	}
	log, err := c.logger(os.Stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	release, err := daemon.Register(conf.Home, kind)
	if err != nil {
		return nil, nil, nil, err
	}
	return conf, log, release, nil
}

// jobArgs returns the arguments after `--`.
func jobArgs(cmd *cobra.Command, args []string) ([]string, error) {
	dash := cmd.ArgsLenAtDash()
	if dash < 0 {
		if len(args) > 0 {
			return nil, fmt.Errorf("unexpected arguments %q: job arguments go after --", strings.Join(args, " "))
		}
		return nil, nil
	}
	if dash > 0 {
		return nil, fmt.Errorf("unexpected arguments %q before --", strings.Join(args[:dash], " "))
	}
	return args[dash:], nil
}

// forwardedFlags rebuilds the flags of a process command for a child.
func (c *common) forwardedFlags() []string {
	var out []string
	for _, d := range c.dynamic {
		out = append(out, "-D"+d)
	}
	if c.logLevel != "" {
		out = append(out, "--log-level", c.logLevel)
	}
	return out
}
