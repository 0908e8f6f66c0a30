package scaler

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/tide-stream/tide/internal/autoscaler"
	"github.com/tide-stream/tide/internal/metrics"
)

// maxDecisions bounds the decisions kept for the REST API.
const maxDecisions = 200

// Decisions keeps the autoscaler's recent decisions and the counts the
// metrics report; safe for concurrent use (the run loop records, scrapes
// and REST requests read).
type Decisions struct {
	policy string
	mu     sync.Mutex
	recent []DecisionRecord // oldest first, at most maxDecisions
	counts map[string]int   // by direction
	// current is the count last applied, desired the last decision's.
	current, desired int
}

// DecisionRecord is one decision as the REST API shows it.
type DecisionRecord struct {
	Time    time.Time          `json:"time"`
	Policy  string             `json:"policy"`
	Current int                `json:"current"`
	Desired int                `json:"desired"`
	Change  bool               `json:"change"`
	Applied bool               `json:"applied"`
	Reason  string             `json:"reason"`
	Figures map[string]float64 `json:"figures,omitempty"`
	Error   string             `json:"error,omitempty"`
}

// NewDecisions returns an empty record for policy, at count current.
func NewDecisions(policy string, current int) *Decisions {
	return &Decisions{policy: policy, counts: map[string]int{}, current: current, desired: current}
}

// Record adds a decision and whether it was applied.
func (d *Decisions) Record(dec autoscaler.Decision, applied bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := DecisionRecord{Time: dec.Time, Policy: d.policy, Current: dec.Current, Desired: dec.Desired, Change: dec.Change,
		Applied: applied, Reason: dec.Reason, Figures: map[string]float64{}}
	for _, f := range dec.Figures {
		r.Figures[f.Name] = f.Value
	}
	if err != nil {
		r.Error = err.Error()
	}
	if len(d.recent) == maxDecisions {
		d.recent = d.recent[1:]
	}
	d.recent = append(d.recent, r)
	dir := "hold"
	switch {
	case dec.Desired > dec.Current:
		dir = "up"
	case dec.Desired < dec.Current:
		dir = "down"
	}
	d.counts[dir]++
	d.desired = dec.Desired
	if applied {
		d.current = dec.Desired
	}
}

// ServeHTTP answers GET with the recent decisions, newest last:
// {"policy", "current", "desired", "decisions":[…]}.
func (d *Decisions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, `{"errors":["method not allowed"]}`, http.StatusMethodNotAllowed)
		return
	}
	d.mu.Lock()
	body, err := json.Marshal(struct {
		Policy    string           `json:"policy"`
		Current   int              `json:"current"`
		Desired   int              `json:"desired"`
		Decisions []DecisionRecord `json:"decisions"`
	}{d.policy, d.current, d.desired, append([]DecisionRecord{}, d.recent...)})
	d.mu.Unlock()
	if err != nil {
		http.Error(w, `{"errors":["encoding the decisions"]}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// Register feeds the autoscaler's series to reg.
func (d *Decisions) Register(reg *metrics.Registry) (remove func()) {
	rms := []func(){
		reg.Collect(metrics.AutoscalerCurrent, func(emit metrics.Emit) {
			d.mu.Lock()
			defer d.mu.Unlock()
			emit(float64(d.current), d.policy)
		}),
		reg.Collect(metrics.AutoscalerDesired, func(emit metrics.Emit) {
			d.mu.Lock()
			defer d.mu.Unlock()
			emit(float64(d.desired), d.policy)
		}),
		reg.Collect(metrics.AutoscalerDecisions, func(emit metrics.Emit) {
			d.mu.Lock()
			defer d.mu.Unlock()
			for _, dir := range []string{"up", "down", "hold"} {
				emit(float64(d.counts[dir]), d.policy, dir)
			}
		}),
	}
	return func() {
		for _, rm := range rms {
			rm()
		}
	}
}
