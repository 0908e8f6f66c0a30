// Package jobs owns the registry of the jobs compiled into a binary and the
// one way to turn a job name and its arguments into a job graph, so that
// the JobManager and every TaskManager derive the same graph.
//
// A job's build function parses its own arguments. When they ask for help
// (-h, -help or --help, as Go's flag package reads them), it returns an
// error that wraps flag.ErrHelp; if that error also has a method
// Usage() string, `tide … -j NAME -- --help` prints the text (the built-in
// jobs do so). A flag set with its default output prints its usage itself.
package jobs

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/stream"
)

// Registry maps job names to their build functions. It is safe for
// concurrent use.
type Registry struct {
	mu struct {
		sync.Mutex
		jobs map[string]stream.JobFunc
	}
}

// Register adds a job. A second registration of a name is an error.
func (r *Registry) Register(name string, build stream.JobFunc) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if name == "" || build == nil {
		return fmt.Errorf("jobs: register %q: empty name or nil build function", name)
	}
	if r.mu.jobs == nil {
		r.mu.jobs = map[string]stream.JobFunc{}
	}
	if _, dup := r.mu.jobs[name]; dup {
		return fmt.Errorf("jobs: job %q registered twice", name)
	}
	r.mu.jobs[name] = build
	return nil
}

// Names lists the registered jobs, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.mu.jobs))
	for n := range r.mu.jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// lookup returns job name's build function, or an error that lists the
// registered jobs.
func (r *Registry) lookup(name string) (stream.JobFunc, error) {
	r.mu.Lock()
	build, ok := r.mu.jobs[name]
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("unknown job %q (registered jobs: %s)", name, strings.Join(r.Names(), ", "))
	}
	return build, nil
}

// Build runs job name's build function and compiles its graph. Its errors
// name the job once: "job NAME: " and the build function's or the
// planner's error.
func (r *Registry) Build(name string, args []string, maxParallelism int) (*plan.JobGraph, error) {
	build, err := r.lookup(name)
	if err != nil {
		return nil, err
	}
	env := stream.NewEnv(maxParallelism)
	if err := build(env, slices.Clone(args)); err != nil {
		return nil, fmt.Errorf("job %s: %w", name, err)
	}
	g, err := env.Plan()
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", name, err)
	}
	jg, err := plan.Compile(g)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", name, err)
	}
	return jg, nil
}

// checkMaxParallelism is the key-group count of the throwaway environment
// CheckArgs builds in; the build function only declares operators there,
// and CheckArgs never plans them, so any valid count does.
const checkMaxParallelism = 128

// CheckArgs runs job name's build function on args in a throwaway
// environment, so that a command can answer before it starts anything.
// asked reports that the arguments ask for the job's usage: the build
// function returned an error that wraps flag.ErrHelp, and usage is that
// error's Usage() text, if it has one. Otherwise err is the error of an
// unknown job or of the build function, as Build words it; what only
// planning finds is Build's to report.
func (r *Registry) CheckArgs(name string, args []string) (usage string, asked bool, err error) {
	build, err := r.lookup(name)
	if err != nil {
		return "", false, err
	}
	berr := build(stream.NewEnv(checkMaxParallelism), slices.Clone(args))
	if berr == nil {
		return "", false, nil
	}
	if !errors.Is(berr, flag.ErrHelp) {
		return "", false, fmt.Errorf("job %s: %w", name, berr)
	}
	var u interface{ Usage() string }
	if errors.As(berr, &u) {
		usage = u.Usage()
	}
	return usage, true, nil
}
