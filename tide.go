// Package tide is what a program that embeds Tide calls: Register its jobs,
// then Main. The `tide` binary is such a program, with the built-in jobs.
//
//	func main() {
//		tide.Register("MyJob", myjob.Build)
//		tide.Main()
//	}
//
// Every process of a cluster (the JobManager and every TaskManager) runs the
// same binary, so every process can build the same job graph from the job's
// name and arguments.
package tide

import (
	"context"
	"fmt"
	"os"

	"github.com/tide-stream/tide/internal/cli"
	"github.com/tide-stream/tide/internal/jobs"
	"github.com/tide-stream/tide/stream"
)

// registry is the binary's job registry. It is the one piece of package
// state in Tide, because the tide.Register/tide.Main contract (docs/jobs.md,
// "Your own jobs") needs it; it is written only by Register, before Main.
var registry jobs.Registry

// Register makes a job available under name to `tide standalone-job -j name`
// and `tide run -j name`. Registering a name twice is reported by Main.
func Register(name string, build stream.JobFunc) {
	if err := registry.Register(name, build); err != nil {
		registrationErrs = append(registrationErrs, err)
	}
}

var registrationErrs []error

// Main runs the tide command line with the registered jobs and exits.
func Main() {
	for _, err := range registrationErrs {
		fmt.Fprintf(os.Stderr, "tide: %v\n", err)
	}
	if len(registrationErrs) > 0 {
		os.Exit(2)
	}
	app := &cli.App{Jobs: &registry, Stdout: os.Stdout, Stderr: os.Stderr}
	os.Exit(app.Run(context.Background(), os.Args[1:]))
}
