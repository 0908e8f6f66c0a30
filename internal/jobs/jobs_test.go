package jobs

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"testing"

	"github.com/tide-stream/tide/stream"
)

// usageError is what a built-in job returns for --help.
type usageError struct{ usage string }

func (e *usageError) Error() string { return flag.ErrHelp.Error() }
func (e *usageError) Unwrap() error { return flag.ErrHelp }
func (e *usageError) Usage() string { return e.usage }

// argsJob parses --n and declares nothing else; with usage it answers
// --help with a usageError, else with the flag package's bare error.
func argsJob(usage bool) stream.JobFunc {
	return func(env *stream.Env, args []string) error {
		fs := flag.NewFlagSet("Args", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		n := fs.Int("n", 1, "a number")
		if err := fs.Parse(args); err != nil {
			if usage && errors.Is(err, flag.ErrHelp) {
				return &usageError{usage: "Args: -n N\n"}
			}
			return err
		}
		if *n < 1 {
			return fmt.Errorf("--n %d must be at least 1", *n)
		}
		return errors.New("declares no operators")
	}
}

func newRegistry(t *testing.T) *Registry {
	t.Helper()
	var r Registry
	if err := r.Register("Args", argsJob(true)); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("Bare", argsJob(false)); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestBuildErrorsNameTheJobOnce pins the exact messages of an unknown job
// and of bad job arguments: the job is named once.
func TestBuildErrorsNameTheJobOnce(t *testing.T) {
	r := newRegistry(t)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"Nope", nil, `unknown job "Nope" (registered jobs: Args, Bare)`},
		{"", nil, `unknown job "" (registered jobs: Args, Bare)`},
		{"Args", []string{"--n", "0"}, "job Args: --n 0 must be at least 1"},
		{"Args", []string{"--n", "x"}, `job Args: invalid value "x" for flag -n: parse error`},
		{"Args", nil, "job Args: declares no operators"},
	} {
		_, err := r.Build(tt.name, tt.args, 128)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Build(%q, %q) error = %v, want %q", tt.name, tt.args, err, tt.want)
		}
	}
}

func TestCheckArgs(t *testing.T) {
	r := newRegistry(t)
	for _, tt := range []struct {
		name      string
		args      []string
		wantUsage string
		wantAsked bool
		wantErr   string
	}{
		{"Args", []string{"--help"}, "Args: -n N\n", true, ""},
		{"Args", []string{"-h"}, "Args: -n N\n", true, ""},
		{"Args", []string{"--n", "2", "-help"}, "Args: -n N\n", true, ""},
		{"Args", []string{"--n", "0"}, "", false, "job Args: --n 0 must be at least 1"},
		{"Args", []string{"--", "--help"}, "", false, "job Args: declares no operators"},
		{"Bare", []string{"--help"}, "", true, ""},
		{"Nope", []string{"--help"}, "", false, `unknown job "Nope" (registered jobs: Args, Bare)`},
	} {
		usage, asked, err := r.CheckArgs(tt.name, tt.args)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if usage != tt.wantUsage || asked != tt.wantAsked || gotErr != tt.wantErr {
			t.Errorf("CheckArgs(%q, %q) = %q, %v, %q; want %q, %v, %q", tt.name, tt.args, usage, asked, gotErr, tt.wantUsage, tt.wantAsked, tt.wantErr)
		}
	}
}
