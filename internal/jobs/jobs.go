// Package jobs owns the registry of the jobs compiled into a binary and the
// one way to turn a job name and its arguments into a job graph, so that
// the JobManager and every TaskManager derive the same graph.
package jobs

import (
	"fmt"
	"slices"
	"sort"
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

// Build runs job name's build function and compiles its graph.
func (r *Registry) Build(name string, args []string, maxParallelism int) (*plan.JobGraph, error) {
	r.mu.Lock()
	build, ok := r.mu.jobs[name]
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("unknown job %q (known jobs: %v)", name, r.Names())
	}
	env := stream.NewEnv(maxParallelism)
	if err := build(env, slices.Clone(args)); err != nil {
		return nil, fmt.Errorf("build job %s: %w", name, err)
	}
	g, err := env.Plan()
	if err != nil {
		return nil, fmt.Errorf("build job %s: %w", name, err)
	}
	jg, err := plan.Compile(g)
	if err != nil {
		return nil, fmt.Errorf("compile job %s: %w", name, err)
	}
	return jg, nil
}
