package rest

import (
	"cmp"
	"math"
	"net/http"
	"slices"
	"time"
)

// handleVertexDetail serves GET /jobs/{jobid}/vertices/{vertexid}: a
// vertex with each of its subtasks and their aggregate (Flink's
// JobVertexDetailsInfo).
func (s *Server) handleVertexDetail(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	vid, err := vertexIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	v, err := s.backend.Vertex(id, vid)
	if err != nil {
		return 0, nil, wrapVertex(err, id, vid)
	}
	if v.Now == 0 {
		v.Now = time.Now().UnixMilli()
	}
	v.Subtasks = slices.Clone(nonNil(v.Subtasks)) // the Backend's slice is not ours to modify
	for i := range v.Subtasks {
		v.Subtasks[i].StatusDuration = nonNilMap(v.Subtasks[i].StatusDuration)
	}
	v.Aggregated = aggregateSubtasks(v.Subtasks)
	return http.StatusOK, v, nil
}

// ioMetricNames are the IOMetrics that Flink aggregates over subtasks, with
// how to read each.
var ioMetricNames = []struct {
	name string
	get  func(IOMetrics) int64
}{
	{"read-bytes", func(m IOMetrics) int64 { return m.ReadBytes }},
	{"write-bytes", func(m IOMetrics) int64 { return m.WriteBytes }},
	{"read-records", func(m IOMetrics) int64 { return m.ReadRecords }},
	{"write-records", func(m IOMetrics) int64 { return m.WriteRecords }},
	{"accumulated-backpressured-time", func(m IOMetrics) int64 { return m.AccumulatedBackpressuredTime }},
	{"accumulated-idle-time", func(m IOMetrics) int64 { return m.AccumulatedIdleTime }},
	{"accumulated-busy-time", func(m IOMetrics) int64 { return int64(m.AccumulatedBusyTime) }},
}

// aggregateSubtasks computes Flink's "aggregated": per IO metric and per
// state's duration, its statistics over the subtasks. A state only some
// subtasks went through counts 0 for the others, as in Flink.
func aggregateSubtasks(subs []SubtaskDetail) AggregatedDetail {
	out := AggregatedDetail{Metrics: map[string]map[string]int64{}, StatusDuration: map[string]map[string]int64{}}
	vals := make([]int64, len(subs))
	for _, m := range ioMetricNames {
		for i, s := range subs {
			vals[i] = m.get(s.Metrics.IOMetrics)
		}
		out.Metrics[m.name] = aggregate(vals)
	}
	states := map[string]bool{}
	for _, s := range subs {
		for st := range s.StatusDuration {
			states[st] = true
		}
	}
	for st := range states {
		for i, s := range subs {
			vals[i] = s.StatusDuration[st]
		}
		out.StatusDuration[st] = aggregate(vals)
	}
	return out
}

// aggregate returns min, max, avg, sum, median, p25, p75 and p95 of vs
// (all 0 for none), the statistics Flink's AggregatedTaskDetailsInfo has.
func aggregate(vs []int64) map[string]int64 {
	out := map[string]int64{"min": 0, "max": 0, "avg": 0, "sum": 0, "median": 0, "p25": 0, "p75": 0, "p95": 0}
	if len(vs) == 0 {
		return out
	}
	sorted := slices.Clone(vs)
	slices.Sort(sorted)
	var sum int64
	for _, v := range sorted {
		sum += v
	}
	out["min"], out["max"], out["sum"] = sorted[0], sorted[len(sorted)-1], sum
	out["avg"] = sum / int64(len(sorted))
	for k, p := range map[string]float64{"median": 0.5, "p25": 0.25, "p75": 0.75, "p95": 0.95} {
		out[k] = int64(math.Round(percentile(sorted, p)))
	}
	return out
}

// percentile estimates the p-th quantile (0 < p < 1) of sorted values as
// Flink's histograms do (Apache Commons Math's default: position p·(n+1),
// interpolated between neighbours, clamped to the ends).
func percentile(sorted []int64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	pos := p * float64(n+1)
	switch {
	case pos < 1:
		return float64(sorted[0])
	case pos >= float64(n):
		return float64(sorted[n-1])
	}
	lo := math.Floor(pos)
	d := pos - lo
	a, b := float64(sorted[int(lo)-1]), float64(sorted[int(lo)])
	return a + d*(b-a)
}

// SummarizeStats summarizes values as Flink's StatsSummaryDto: min, max and
// average over all of them, percentiles estimated as Flink's checkpoint
// statistics do. All fields are 0 for no values.
func SummarizeStats(values []int64) StatsSummary {
	if len(values) == 0 {
		return StatsSummary{}
	}
	sorted := slices.Clone(values)
	slices.SortFunc(sorted, cmp.Compare[int64])
	var sum int64
	for _, v := range sorted {
		sum += v
	}
	return StatsSummary{Min: sorted[0], Max: sorted[len(sorted)-1], Avg: sum / int64(len(sorted)),
		P50: percentile(sorted, 0.5), P90: percentile(sorted, 0.9), P95: percentile(sorted, 0.95),
		P99: percentile(sorted, 0.99), P999: percentile(sorted, 0.999)}
}
