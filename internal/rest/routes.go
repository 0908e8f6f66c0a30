package rest

import (
	"net/http"
	"strings"
)

// apiFunc handles one API endpoint. It returns the status and the value to
// encode as JSON, or an error that writeError turns into a JSON error
// response (see statusOf).
type apiFunc func(r *http.Request) (status int, body any, err error)

// routes registers every endpoint. The patterns use Go 1.22 ServeMux syntax;
// more specific patterns win, so /jobs/overview beats /jobs/{jobid}.
func (s *Server) routes() {
	s.api("GET /overview", s.handleOverview)
	s.api("GET /config", s.handleConfig)
	s.api("GET /jobs", s.handleJobs)
	s.api("GET /jobs/overview", s.handleJobsOverview)
	s.api("GET /jobs/{jobid}", s.handleJobDetail)
	s.api("PATCH /jobs/{jobid}", s.handleJobCancel)
	s.api("GET /jobs/{jobid}/checkpoints", s.handleJobCheckpoints)
	s.api("GET /jobs/{jobid}/rescales", s.handleJobRescales)
	s.api("GET /jobs/{jobid}/exceptions", s.handleJobExceptions)
	s.api("POST /jobs/{jobid}/savepoints", s.handleSavepointTrigger)
	s.api("GET /jobs/{jobid}/savepoints/{triggerid}", s.handleSavepointStatus)
	s.api("POST /jobs/{jobid}/stop", s.handleJobStop)
	s.api("GET /jobs/{jobid}/checkpoints/config", s.handleCheckpointConfig)
	s.api("GET /jobs/{jobid}/checkpoints/details/{checkpointid}", s.handleCheckpointDetail)
	s.api("GET /jobs/{jobid}/config", s.handleJobConfig)
	s.api("GET /jobs/{jobid}/plan", s.handleJobPlan)
	s.api("GET /jobs/{jobid}/metrics", s.handleJobMetrics)
	s.api("GET /jobs/{jobid}/vertices/{vertexid}", s.handleVertexDetail)
	s.api("GET /jobs/{jobid}/vertices/{vertexid}/metrics", s.handleVertexMetrics)
	s.api("GET /jobs/{jobid}/vertices/{vertexid}/subtasks/metrics", s.handleSubtaskMetrics)
	s.api("GET /jobmanager/config", s.handleJobManagerConfig)
	s.api("GET /jobmanager/metrics", s.handleJobManagerMetrics)
	s.api("GET /taskmanagers", s.handleTaskManagers)
	s.api("GET /taskmanagers/{taskmanagerid}", s.handleTaskManagerDetail)
	s.api("GET /taskmanagers/{taskmanagerid}/metrics", s.handleTaskManagerMetrics)
	s.mux.HandleFunc("GET /{$}", s.handleWebUI)
	s.mux.HandleFunc("GET /ui/{file...}", s.handleUIAsset)
}

// api registers an apiFunc under pattern.
func (s *Server) api(pattern string, f apiFunc) {
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, body, err := f(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeJSON(w, r, status, body)
	}))
}

// dispatch routes r through the mux, but answers unknown paths (404) and
// wrong methods (405, with Allow) with JSON errors instead of the mux's plain
// text.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	// No pattern matched. The mux's own handler knows whether another method
	// would have matched; ask it without letting it write the response.
	probe := &probeWriter{header: make(http.Header)}
	h.ServeHTTP(probe, r)
	switch probe.status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", probe.header.Get("Allow"))
		s.writeErrorStatus(w, r, http.StatusMethodNotAllowed,
			"method "+shorten(r.Method)+" not allowed for "+shorten(r.URL.Path)+"; allowed: "+probe.header.Get("Allow"))
	case http.StatusNotFound:
		s.writeErrorStatus(w, r, http.StatusNotFound, "not found: "+shorten(r.URL.Path))
	default:
		// A redirect to a cleaned path: let the mux send it.
		s.mux.ServeHTTP(w, r)
	}
}

// probeWriter records the status and headers a handler writes and discards
// the body.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header { return p.header }

func (p *probeWriter) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

func (p *probeWriter) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

// shorten bounds what an error echoes of a request: a client's 64 KiB
// path is not worth sending back.
func shorten(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
