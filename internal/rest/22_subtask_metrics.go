package rest

import (
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// aggregatedMetric is one entry of GET
// /jobs/{jobid}/vertices/{vertexid}/subtasks/metrics: a subtask metric
// aggregated over the subtasks. Flink's spec calls the answer
// AggregatedMetricsResponseBody, an object; Flink sends a bare array of
// these, with numbers (not strings) for the aggregates it was asked for.
type aggregatedMetric struct {
	ID  string   `json:"id"`
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	Avg *float64 `json:"avg,omitempty"`
	Sum *float64 `json:"sum,omitempty"`
}

// aggregations are the values of agg, Flink's AggregationMode.
var aggregations = []string{"min", "max", "avg", "sum"}

// handleSubtaskMetrics serves GET
// /jobs/{jobid}/vertices/{vertexid}/subtasks/metrics[?get=a,b][&agg=min,max][&subtasks=0,2-3]:
// the per-subtask metrics of a vertex ("0.busyTimeMsPerSecond", …)
// aggregated over its subtasks, as Flink's AggregatingSubtasksMetricsHandler
// answers (the Flink Kubernetes operator's autoscaler reads it). Without
// get it lists the metric ids; agg defaults to all four aggregates.
func (s *Server) handleSubtaskMetrics(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	vid, err := vertexIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	q := r.URL.Query()
	aggs, err := parseAggregations(q["agg"])
	if err != nil {
		return 0, nil, err
	}
	subtasks, err := parseSubtaskRanges(q["subtasks"])
	if err != nil {
		return 0, nil, err
	}
	ms, err := s.backend.VertexMetrics(id, vid)
	if err != nil {
		return 0, nil, wrapVertex(err, id, vid)
	}
	// Group the subtask metrics by name.
	values := map[string][]float64{}
	for _, m := range ms {
		idx, name, ok := strings.Cut(m.ID, ".")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(idx)
		if err != nil || (subtasks != nil && !subtasks(i)) {
			continue
		}
		// NaN and infinities (a rate over no time) have no JSON number:
		// they are left out like values that do not parse.
		v, err := strconv.ParseFloat(m.Value, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		values[name] = append(values[name], v)
	}
	gets, asked := q["get"]
	if !asked {
		out := []Metric{}
		for _, name := range slices.Sorted(maps.Keys(values)) {
			out = append(out, Metric{ID: name})
		}
		return http.StatusOK, out, nil
	}
	out := []aggregatedMetric{}
	seen := map[string]bool{}
	for _, g := range gets {
		for _, name := range strings.Split(g, ",") {
			name = strings.TrimSpace(name)
			vs, ok := values[name]
			if !ok || seen[name] {
				continue
			}
			seen[name] = true
			out = append(out, aggregateMetric(name, vs, aggs))
		}
	}
	return http.StatusOK, out, nil
}

// aggregateMetric computes the asked aggregates of vs (not empty, all
// finite). A sum (or an average) beyond the float64 range is left out
// rather than sent as a number JSON cannot hold.
func aggregateMetric(name string, vs []float64, aggs map[string]bool) aggregatedMetric {
	sum := 0.0
	for _, v := range vs {
		sum += v
	}
	lo, hi := slices.Min(vs), slices.Max(vs)
	avg := sum / float64(len(vs))
	m := aggregatedMetric{ID: name}
	if aggs["min"] {
		m.Min = &lo
	}
	if aggs["max"] {
		m.Max = &hi
	}
	if aggs["avg"] && !math.IsInf(avg, 0) {
		m.Avg = &avg
	}
	if aggs["sum"] && !math.IsInf(sum, 0) {
		m.Sum = &sum
	}
	return m
}

// parseAggregations reads agg (comma-separated, repeatable, any case);
// none means all.
func parseAggregations(raw []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, r := range raw {
		for _, a := range strings.Split(r, ",") {
			a = strings.ToLower(strings.TrimSpace(a))
			if !slices.Contains(aggregations, a) {
				return nil, badRequestf("invalid agg %q: want min, max, avg or sum", truncate(a, 32))
			}
			out[a] = true
		}
	}
	if len(out) == 0 {
		for _, a := range aggregations {
			out[a] = true
		}
	}
	return out, nil
}

// parseSubtaskRanges reads subtasks ("1,3,5-9", repeatable) into a
// membership test; nil when absent (every subtask).
func parseSubtaskRanges(raw []string) (func(int) bool, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	type span struct{ lo, hi int }
	var spans []span
	for _, r := range raw {
		for _, part := range strings.Split(r, ",") {
			part = strings.TrimSpace(part)
			lo, hi, isRange := strings.Cut(part, "-")
			a, errA := strconv.Atoi(lo)
			b := a
			var errB error
			if isRange {
				b, errB = strconv.Atoi(hi)
			}
			if errA != nil || errB != nil || a < 0 || b < a {
				return nil, badRequestf("invalid subtasks %q: want indexes and ranges like 1,3,5-9", truncate(part, 32))
			}
			spans = append(spans, span{a, b})
		}
	}
	return func(i int) bool {
		return slices.ContainsFunc(spans, func(s span) bool { return s.lo <= i && i <= s.hi })
	}, nil
}
