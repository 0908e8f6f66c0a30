package cli

import (
	"bytes"
	"context"
	"testing"

	"github.com/tide-stream/tide/examples/cpuload"
	"github.com/tide-stream/tide/examples/throughput"
	"github.com/tide-stream/tide/examples/topspeed"
	"github.com/tide-stream/tide/examples/verify"
	"github.com/tide-stream/tide/examples/wordcount"
	"github.com/tide-stream/tide/internal/jobs"
	"github.com/tide-stream/tide/stream"
)

// testJobs returns a registry with the built-in jobs, as cmd/tide registers
// them.
func testJobs(t *testing.T) *jobs.Registry {
	t.Helper()
	var r jobs.Registry
	for _, j := range []struct {
		name  string
		build stream.JobFunc
	}{{"Verify", verify.Build}, {"Throughput", throughput.Build}, {"WordCount", wordcount.Build}, {"TopSpeedWindowing", topspeed.Build}, {"CPULoad", cpuload.Build}} {
		if err := r.Register(j.name, j.build); err != nil {
			t.Fatal(err)
		}
	}
	return &r
}

// runApp runs the command line args (without the program name) in process
// and returns its exit code, standard output and standard error.
func runApp(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("TIDE_HOME", t.TempDir())
	var out, errb bytes.Buffer
	app := &App{Jobs: testJobs(t), Stdout: &out, Stderr: &errb}
	code = app.Run(context.Background(), args)
	return code, out.String(), errb.String()
}
