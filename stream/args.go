package stream

import (
	"flag"
	"io"
	"strings"
)

// ParseFlags parses a job's arguments with fs, which prints nothing itself.
// For -h or --help it returns a *UsageError whose text is about followed by
// fs's flags: `tide … -j NAME -- --help` prints it and exits 0.
func ParseFlags(fs *flag.FlagSet, about string, args []string) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if err == flag.ErrHelp {
		var b strings.Builder
		b.WriteString(strings.TrimRight(about, "\n") + "\n\nArguments (after --):\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		return &UsageError{Text: b.String()}
	}
	return err
}

// UsageError answers -h and --help with the job's usage. It wraps
// flag.ErrHelp.
type UsageError struct{ Text string }

func (e *UsageError) Error() string { return flag.ErrHelp.Error() }
func (e *UsageError) Unwrap() error { return flag.ErrHelp }

// Usage returns the job's usage, for the command line to print.
func (e *UsageError) Usage() string { return e.Text }
