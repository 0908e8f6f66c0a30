// Package metrics owns Tide's Prometheus metrics: every series is declared
// once (series.go: name, type, help, labels), each process has one
// Registry with client_golang's standard process and Go collectors, and
// Serve exposes it on metrics.reporter.prom.port.
//
// Components feed it without metric plumbing of their own: a component
// keeps the numbers it needs anyway (a subtask's time split and record
// counts in atomics, the JobManager's published view) and registers a
// Collect function for the series it knows, which the registry calls at
// scrape time. Nothing is done per record, and a component that is gone
// simply stops reporting its series.
package metrics

import (
	"fmt"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Emit reports one sample of a series: its value and its label values,
// in the order of the series' Labels.
type Emit func(value float64, labelValues ...string)

// CollectFunc reports the current samples of one series. It is called at
// scrape time, from the scraping goroutine, and must not block.
type CollectFunc func(emit Emit)

// Registry is one process's metrics.
type Registry struct {
	reg *prometheus.Registry

	mu   sync.Mutex
	next uint64
	fns  map[*Series][]registered
}

type registered struct {
	id uint64
	fn CollectFunc
}

// NewRegistry returns a registry with the process and Go collectors.
func NewRegistry() *Registry {
	r := &Registry{reg: prometheus.NewRegistry(), fns: map[*Series][]registered{}}
	r.reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	r.reg.MustRegister(collector{r})
	return r
}

// Collect adds fn as a source of s's samples. Several functions may feed
// one series (the subtasks of a TaskManager, say); their samples must
// differ in their label values. The returned function removes fn.
func (r *Registry) Collect(s *Series, fn CollectFunc) (remove func()) {
	if !slices.Contains(All, s) {
		panic(fmt.Sprintf("metrics: series %q is not declared in All", s.Name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	id := r.next
	r.fns[s] = append(r.fns[s], registered{id: id, fn: fn})
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.fns[s] = slices.DeleteFunc(r.fns[s], func(x registered) bool { return x.id == id })
	}
}

// Gatherer is the registry for promhttp and tests.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// collector exports the registered functions' samples.
type collector struct{ r *Registry }

var descs = func() map[*Series]*prometheus.Desc {
	m := map[*Series]*prometheus.Desc{}
	for _, s := range All {
		m[s] = prometheus.NewDesc(s.Name, s.Help, s.Labels, nil)
	}
	return m
}()

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, s := range All {
		ch <- descs[s]
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	c.r.mu.Lock()
	fns := make(map[*Series][]registered, len(c.r.fns))
	for s, f := range c.r.fns {
		fns[s] = slices.Clone(f)
	}
	c.r.mu.Unlock()
	for _, s := range All {
		d := descs[s]
		vt := prometheus.GaugeValue
		if s.Kind == Counter {
			vt = prometheus.CounterValue
		}
		for _, x := range fns[s] {
			x.fn(func(v float64, lvs ...string) {
				m, err := prometheus.NewConstMetric(d, vt, v, lvs...)
				if err != nil {
					m = prometheus.NewInvalidMetric(d, fmt.Errorf("metrics: %s: %w", s.Name, err))
				}
				ch <- m
			})
		}
	}
}
