package rest

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
)

// Metric queries, as Flink's AbstractMetricsHandler answers them:
//
//	GET …/metrics              [{"id":"a"},{"id":"b"},…]  every available id
//	GET …/metrics?get=a,b,zz   [{"id":"a","value":"1"},{"id":"b","value":"2"}]
//
// The answer is a JSON array. Flink's spec says
// MetricCollectionResponseBody is {"metrics":[…]}, but Flink serializes it
// with its own serializer as the bare array, and its clients (the web UI,
// the Kubernetes operator) read the array: Tide sends what Flink sends.
// Values are strings. An id that is not available is left out, as Flink
// does; get may be repeated, and each holds a comma-separated list.
//
// Flink answers [] for a vertex or TaskManager it does not know; Tide
// answers 404 with Flink's error shape, so that a typo is not mistaken for
// a metric that has not been reported yet.

// handleJobManagerMetrics serves GET /jobmanager/metrics.
func (s *Server) handleJobManagerMetrics(r *http.Request) (int, any, error) {
	return http.StatusOK, queryMetrics(r, s.backend.JobManagerMetrics()), nil
}

// handleJobMetrics serves GET /jobs/{jobid}/metrics.
func (s *Server) handleJobMetrics(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	ms, err := s.backend.JobMetrics(id)
	if err != nil {
		return 0, nil, wrapJob(err, id)
	}
	return http.StatusOK, queryMetrics(r, ms), nil
}

// handleVertexMetrics serves GET /jobs/{jobid}/vertices/{vertexid}/metrics.
func (s *Server) handleVertexMetrics(r *http.Request) (int, any, error) {
	id, err := jobIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	vid, err := vertexIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	ms, err := s.backend.VertexMetrics(id, vid)
	if err != nil {
		return 0, nil, wrapVertex(err, id, vid)
	}
	return http.StatusOK, queryMetrics(r, ms), nil
}

// handleTaskManagerMetrics serves GET /taskmanagers/{taskmanagerid}/metrics.
func (s *Server) handleTaskManagerMetrics(r *http.Request) (int, any, error) {
	tmID, err := taskManagerIDParam(r)
	if err != nil {
		return 0, nil, err
	}
	ms, err := s.backend.TaskManagerMetrics(tmID)
	if err != nil {
		return 0, nil, wrapTaskManager(err, tmID)
	}
	return http.StatusOK, queryMetrics(r, ms), nil
}

// queryMetrics answers a metric query over all: without get, every id
// (sorted); with get, the requested ones that exist, in the order asked,
// each once, with their values.
func queryMetrics(r *http.Request, all []Metric) []Metric {
	gets, asked := r.URL.Query()["get"]
	out := []Metric{}
	if !asked {
		for _, m := range all {
			out = append(out, Metric{ID: m.ID})
		}
		slices.SortFunc(out, func(a, b Metric) int { return cmp.Compare(a.ID, b.ID) })
		return slices.CompactFunc(out, func(a, b Metric) bool { return a.ID == b.ID })
	}
	byID := make(map[string]string, len(all))
	for _, m := range all {
		byID[m.ID] = m.Value
	}
	seen := map[string]bool{}
	for _, g := range gets {
		for _, id := range strings.Split(g, ",") {
			id = strings.TrimSpace(id)
			v, ok := byID[id]
			if !ok || seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, Metric{ID: id, Value: v})
		}
	}
	return out
}
