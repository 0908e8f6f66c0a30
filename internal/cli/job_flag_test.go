package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// jobCommands are the commands that run a job.
var jobCommands = [][]string{
	{"standalone-job", "start"},
	{"standalone-job", "start-foreground"},
	{"run"},
}

// assertNothingStarted checks that a command left no trace of a process in
// TIDE_HOME: no pid file, no log. (A foreground JobManager makes its pid
// directory before it builds the job; an empty directory is no trace.)
func assertNothingStarted(t *testing.T, cmd string) {
	t.Helper()
	var files []string
	err := filepath.WalkDir(os.Getenv("TIDE_HOME"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) > 0 {
		t.Errorf("tide %s started something: TIDE_HOME holds %v", cmd, files)
	}
}

// TestJobCommandErrors pins the exact messages for a missing -j, an unknown
// job and bad job arguments; each names the job once.
func TestJobCommandErrors(t *testing.T) {
	for _, c := range jobCommands {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{nil, "tide: -j NAME is required: the job to run, one of CPULoad, Throughput, TopSpeedWindowing, Verify, WordCount\n"},
			{[]string{"-j", "Nope"}, `tide: unknown job "Nope" (registered jobs: CPULoad, Throughput, TopSpeedWindowing, Verify, WordCount)` + "\n"},
			{[]string{"-j", "Verify", "--", "--keys", "0"}, "tide: job Verify: --keys 0 must be at least 1\n"},
			{[]string{"-j", "Verify", "--", "--keys", "x"}, `tide: job Verify: invalid value "x" for flag -keys: parse error` + "\n"},
			{[]string{"-j", "WordCount", "--", "--bogus"}, "tide: job WordCount: flag provided but not defined: -bogus\n"},
		} {
			args := append(append([]string{}, c...), tt.args...)
			name := strings.Join(args, " ")
			t.Run(name, func(t *testing.T) {
				code, stdout, stderr := runApp(t, args...)
				if code != 1 || stderr != tt.want {
					t.Errorf("tide %s: exit %d, stderr %q; want exit 1, stderr %q (stdout %q)", name, code, stderr, tt.want, stdout)
				}
				assertNothingStarted(t, name)
			})
		}
	}
}

// TestKafkaRequiredOutsideRun: a job that needs Kafka and is given no
// --bootstrap-servers is refused by the commands that do not start a broker
// for it, naming the flag and the topic.
func TestKafkaRequiredOutsideRun(t *testing.T) {
	for _, c := range jobCommands {
		if c[0] == "run" {
			continue
		}
		args := append(append([]string{}, c...), "-j", "CPULoad", "--", "--topic", "in")
		name := strings.Join(args, " ")
		code, stdout, stderr := runApp(t, args...)
		want := "tide: job CPULoad: --bootstrap-servers is required: the Kafka bootstrap servers of topic(s) in"
		if code != 1 || !strings.HasPrefix(stderr, want) {
			t.Errorf("tide %s: exit %d, stderr %q; want exit 1 and %q (stdout %q)", name, code, stderr, want, stdout)
		}
		assertNothingStarted(t, name)
	}
}

// TestJobUsage: `-j NAME -- --help` prints the job's usage, every argument
// in it, and exits 0 without starting anything.
func TestJobUsage(t *testing.T) {
	flags := map[string][]string{
		"Verify":     {"-keys", "-count", "-rate", "-output", "-splits"},
		"WordCount":  {"-input", "-lines", "-rate", "-output"},
		"Throughput": {"-records", "-keys", "-stateful", "-work", "-rate", "-splits", "-progress", "-state-bytes-per-key"},
		"CPULoad":    {"-topic", "-bootstrap-servers", "-group-id", "-iterations", "-partitions", "-start", "-log-interval", "-bounded"},
	}
	for _, c := range jobCommands {
		for job, want := range flags {
			for _, help := range []string{"--help", "-h"} {
				args := append(append([]string{}, c...), "-j", job, "--", help)
				name := strings.Join(args, " ")
				t.Run(name, func(t *testing.T) {
					code, stdout, stderr := runApp(t, args...)
					if code != 0 || stderr != "" || !strings.HasPrefix(stdout, job+": ") {
						t.Fatalf("tide %s: exit %d, stderr %q, stdout:\n%s\nwant exit 0 and the job's usage", name, code, stderr, stdout)
					}
					for _, f := range want {
						if !regexp.MustCompile(`(?m)^  ` + f + `( |$)`).MatchString(stdout) {
							t.Errorf("tide %s: usage does not list %s:\n%s", name, f, stdout)
						}
					}
					assertNothingStarted(t, name)
				})
			}
		}
	}
}

// TestJobCommandHelp: the help of a command that runs a job lists the
// registered jobs, says how to get a job's arguments and points to the
// documentation.
func TestJobCommandHelp(t *testing.T) {
	for _, c := range jobCommands {
		args := append(append([]string{}, c...), "--help")
		code, stdout, _ := runApp(t, args...)
		for _, want := range []string{
			"Jobs (-j NAME): CPULoad, Throughput, TopSpeedWindowing, Verify, WordCount.",
			"`-j NAME -- --help` prints a job's arguments",
			"the job to run (required): CPULoad, Throughput, TopSpeedWindowing, Verify, WordCount",
			"docs/configuration.md", "docs/jobs.md",
		} {
			if code != 0 || !strings.Contains(stdout, want) {
				t.Errorf("tide %s: exit %d, output does not contain %q:\n%s", strings.Join(args, " "), code, want, stdout)
			}
		}
	}
}
