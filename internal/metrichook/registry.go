// Package metrichook is the runtime's metrics hook: the names of Tide's
// metrics, the Group interface through which operators and connectors
// report values, and Registry, the per-subtask implementation that keeps
// the current values for the metrics layer to export and for tests to read.
//
// The hook knows nothing of Prometheus: a reporter (the metrics layer)
// walks each subtask's Registry with Each when it is scraped, adding the
// subtask's own labels (job_id, task_name, subtask_index, tm_id). Setting a
// value is an atomic store, cheap enough for a source to do once a poll.
package metrichook

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Label is one label of a series: a name from the constants below and a
// value.
type Label struct {
	Name, Value string
}

// Gauge is a value that goes up and down. Safe for concurrent use.
type Gauge interface {
	Set(v float64)
}

// Counter is a value that only goes up. Safe for concurrent use.
type Counter interface {
	// Add adds n, which must not be negative.
	Add(n float64)
}

// Group hands out the series an operator reports. Asking twice for the
// same name and labels returns the same series; labels are matched by
// name, in any order. A name is either a gauge or a counter: asking for it
// as the other kind is a programming error and panics.
type Group interface {
	Gauge(name string, labels ...Label) Gauge
	Counter(name string, labels ...Label) Counter
}

// Kind says whether a series is a gauge or a counter.
type Kind int

const (
	KindGauge Kind = iota
	KindCounter
)

func (k Kind) String() string {
	if k == KindCounter {
		return "counter"
	}
	return "gauge"
}

// Sample is the current value of one series.
type Sample struct {
	Name   string
	Kind   Kind
	Labels []Label // sorted by name
	Value  float64
}

// Registry keeps the series of one subtask. Its zero value is not usable:
// call NewRegistry. Safe for concurrent use: series are created under mu,
// their values are atomics.
type Registry struct {
	mu struct {
		sync.Mutex
		// series by key (name and sorted labels, see key).
		series map[string]*series
		// kinds records the kind of each name.
		kinds map[string]Kind
	}
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	r := &Registry{}
	r.mu.series = map[string]*series{}
	r.mu.kinds = map[string]Kind{}
	return r
}

// series is a gauge or a counter: a float64 in an atomic.
type series struct {
	name   string
	kind   Kind
	labels []Label
	bits   atomic.Uint64
}

func (s *series) Set(v float64) { s.bits.Store(math.Float64bits(v)) }

func (s *series) Add(n float64) {
	for {
		old := s.bits.Load()
		if s.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+n)) {
			return
		}
	}
}

func (s *series) value() float64 { return math.Float64frombits(s.bits.Load()) }

// Gauge implements Group.
func (r *Registry) Gauge(name string, labels ...Label) Gauge { return r.get(name, KindGauge, labels) }

// Counter implements Group.
func (r *Registry) Counter(name string, labels ...Label) Counter {
	return r.get(name, KindCounter, labels)
}

func (r *Registry) get(name string, kind Kind, labels []Label) *series {
	labels = sorted(labels)
	k := key(name, labels)
	r.mu.Lock()
	defer r.mu.Unlock()
	if have, ok := r.mu.kinds[name]; ok && have != kind {
		panic(fmt.Sprintf("metrichook: %s is a %v, asked for as a %v (a name has one kind)", name, have, kind))
	}
	s, ok := r.mu.series[k]
	if !ok {
		s = &series{name: name, kind: kind, labels: labels}
		r.mu.series[k] = s
		r.mu.kinds[name] = kind
	}
	return s
}

// Value returns the current value of the series name with labels, and
// whether it exists.
func (r *Registry) Value(name string, labels ...Label) (float64, bool) {
	k := key(name, sorted(labels))
	r.mu.Lock()
	s, ok := r.mu.series[k]
	r.mu.Unlock()
	if !ok {
		return 0, false
	}
	return s.value(), true
}

// Each calls fn with every series' current value, ordered by name and
// labels. fn must not call back into r.
func (r *Registry) Each(fn func(Sample)) {
	r.mu.Lock()
	all := make([]*series, 0, len(r.mu.series))
	keys := make([]string, 0, len(r.mu.series))
	for k := range r.mu.series {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		all = append(all, r.mu.series[k])
	}
	r.mu.Unlock()
	for _, s := range all {
		fn(Sample{Name: s.name, Kind: s.kind, Labels: s.labels, Value: s.value()})
	}
}

// With returns a Group that adds labels to every series it hands out: the
// runtime gives each operator a group labeled with its name.
func (r *Registry) With(labels ...Label) Group {
	return labeled{r: r, labels: slices.Clone(labels)}
}

type labeled struct {
	r      *Registry
	labels []Label
}

func (l labeled) Gauge(name string, labels ...Label) Gauge {
	return l.r.get(name, KindGauge, append(slices.Clone(l.labels), labels...))
}

func (l labeled) Counter(name string, labels ...Label) Counter {
	return l.r.get(name, KindCounter, append(slices.Clone(l.labels), labels...))
}

// sorted returns labels sorted by name, as a new slice.
func sorted(labels []Label) []Label {
	out := slices.Clone(labels)
	slices.SortFunc(out, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// key identifies a series: its name and labels, joined by bytes that no
// Prometheus name or label name contains.
func key(name string, labels []Label) string {
	var b strings.Builder
	b.WriteString(name)
	for _, l := range labels {
		b.WriteByte(0)
		b.WriteString(l.Name)
		b.WriteByte(1)
		b.WriteString(l.Value)
	}
	return b.String()
}
