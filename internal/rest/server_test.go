package rest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	jobA = "0123456789abcdef0123456789abcdef"
	// jobB is well formed but unknown to the fake backend.
	jobB = "ffffffffffffffffffffffffffffffff"
)

// newTestServer serves a Server over b on a loopback httptest server.
func newTestServer(t *testing.T, b Backend, cfg Config) *httptest.Server {
	t.Helper()
	s := NewServer(cfg, b)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// populatedBackend returns a fake backend with one running job.
func populatedBackend() *fakeBackend {
	f := newFakeBackend()
	f.overview = Overview{TaskManagers: 2, SlotsTotal: 4, SlotsAvailable: 1, JobsRunning: 1}
	f.jobs = []JobSummary{{ID: jobA, Name: "Verify", State: JobRunning, StartTime: 1000, EndTime: -1, Duration: 5000, LastModification: 2000}}
	f.details[jobA] = JobDetail{
		ID: jobA, Name: "Verify", State: JobRunning, StartTime: 1000, EndTime: -1, Duration: 5000,
		Attempt: 3, MaxParallelism: 128, IsStoppable: true,
		Vertices: []Vertex{{ID: "v1", Name: "Source: numbers", Parallelism: 3, MaxParallelism: 128, Status: "RUNNING"}},
	}
	done := CheckpointRecord{ID: 7, Status: CheckpointCompleted, TriggerTimestamp: 10, LatestAckTimestamp: 20,
		EndToEndDuration: 10, StateSize: 1234, ExternalPath: "file:///ck/" + jobA + "/chk-7", NumSubtasks: 3, NumAcknowledgedSubtask: 3}
	f.checkpoints[jobA] = CheckpointStats{
		Counts:  CheckpointCounts{Completed: 7, Failed: 1, InProgress: 1, Restored: 2, Total: 9},
		Latest:  LatestCheckpoints{Completed: &done, Restored: &RestoredCheckpoint{ID: 5, ExternalPath: "file:///ck/chk-5", RestoreTimestamp: 30}},
		History: []CheckpointRecord{{ID: 8, Status: CheckpointInProgress, TriggerTimestamp: 40, NumSubtasks: 3}, done},
	}
	f.rescales[jobA] = []Rescale{{ID: 1, Trigger: TriggerTaskManagerJoined, From: 2, To: 3, Checkpoint: 6,
		Start: 100, End: 350, PauseMs: 250, ReprocessedRecords: 0, Status: RescaleCompleted}}
	f.tms = []TaskManager{{ID: "tm-1", Path: "127.0.0.1:40001", DataPort: 40002, SlotsNumber: 2, FreeSlots: 0, TimeSinceLastHeartbeat: 1700000000000, HeartbeatAge: 120}}
	return f
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request and reads the whole response.
func do(t *testing.T, method, url, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, url, err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// object decodes r's body as a JSON object.
func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want application/json; body %s", ct, r.body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return m
}

// getObject GETs url and expects 200 with a JSON object.
func getObject(t *testing.T, url string) map[string]any {
	t.Helper()
	r := do(t, http.MethodGet, url, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %s", url, r.status, r.body)
	}
	return r.object(t)
}

// wantKeys fails unless m has exactly the keys want.
func wantKeys(t *testing.T, what string, v any, want ...string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: got %T (%v), want a JSON object", what, v, v)
	}
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	want = append([]string{}, want...)
	slices.Sort(got)
	slices.Sort(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("%s keys (-want +got):\n%s", what, d)
	}
	return m
}

// array returns v as a JSON array of length n.
func array(t *testing.T, what string, v any, n int) []any {
	t.Helper()
	a, ok := v.([]any)
	if !ok {
		t.Fatalf("%s: got %T (%v), want a JSON array", what, v, v)
	}
	if len(a) != n {
		t.Fatalf("%s: %d elements, want %d: %v", what, len(a), n, a)
	}
	return a
}

func TestReadEndpointShapes(t *testing.T) {
	ts := newTestServer(t, populatedBackend(), Config{Version: "1.2.3"})

	ov := wantKeys(t, "/overview", getObject(t, ts.URL+"/overview"),
		"taskmanagers", "slots-total", "slots-available", "jobs-running", "jobs-finished",
		"jobs-cancelled", "jobs-failed", "tide-version", "flink-version", "flink-commit",
		"slots-free-and-blocked", "taskmanagers-blocked")
	if ov["tide-version"] != "1.2.3" || ov["slots-total"] != 4.0 || ov["taskmanagers"] != 2.0 {
		t.Errorf("/overview = %v", ov)
	}

	cfg := wantKeys(t, "/config", getObject(t, ts.URL+"/config"),
		"refresh-interval", "timezone-name", "timezone-offset", "tide-version", "features",
		"flink-version", "flink-revision")
	if cfg["tide-version"] != "1.2.3" {
		t.Errorf("/config tide-version = %v", cfg["tide-version"])
	}

	jobs := wantKeys(t, "/jobs", getObject(t, ts.URL+"/jobs"), "jobs")
	j := wantKeys(t, "/jobs[0]", array(t, "/jobs.jobs", jobs["jobs"], 1)[0], "id", "status")
	if j["id"] != jobA || j["status"] != "RUNNING" {
		t.Errorf("/jobs[0] = %v", j)
	}

	jo := wantKeys(t, "/jobs/overview", getObject(t, ts.URL+"/jobs/overview"), "jobs")
	j = wantKeys(t, "/jobs/overview[0]", array(t, "jobs", jo["jobs"], 1)[0],
		"jid", "name", "state", "start-time", "end-time", "duration", "last-modification", "tasks")
	if j["end-time"] != -1.0 || j["name"] != "Verify" {
		t.Errorf("/jobs/overview[0] = %v", j)
	}

	d := wantKeys(t, "/jobs/{jobid}", getObject(t, ts.URL+"/jobs/"+jobA),
		"jid", "name", "state", "start-time", "end-time", "duration", "now", "attempt",
		"maxParallelism", "isStoppable", "vertices", "status-counts", "timestamps", "plan")
	if d["attempt"] != 3.0 || d["now"].(float64) < float64(time.Now().Add(-time.Hour).UnixMilli()) {
		t.Errorf("/jobs/{jobid} = %v", d)
	}
	v := wantKeys(t, "vertex", array(t, "vertices", d["vertices"], 1)[0],
		"id", "name", "parallelism", "maxParallelism", "status", "metrics", "start-time", "end-time", "duration", "tasks")
	if v["parallelism"] != 3.0 {
		t.Errorf("vertex = %v", v)
	}

	ck := wantKeys(t, "/checkpoints", getObject(t, ts.URL+"/jobs/"+jobA+"/checkpoints"), "counts", "latest", "history", "summary")
	wantKeys(t, "counts", ck["counts"], "completed", "failed", "in_progress", "restored", "total")
	latest := wantKeys(t, "latest", ck["latest"], "completed", "restored", "savepoint", "failed")
	baseKeys := []string{"id", "status", "is_savepoint", "trigger_timestamp", "latest_ack_timestamp",
		"end_to_end_duration", "state_size", "num_subtasks", "num_acknowledged_subtasks",
		"className", "checkpoint_type", "savepointFormat", "checkpointed_size", "alignment_buffered",
		"persisted_data", "tasks"}
	recordKeys := append(slices.Clone(baseKeys), "external_path", "discarded")
	c := wantKeys(t, "latest.completed", latest["completed"], recordKeys...)
	if c["external_path"] != "file:///ck/"+jobA+"/chk-7" || c["state_size"] != 1234.0 {
		t.Errorf("latest.completed = %v", c)
	}
	wantKeys(t, "latest.restored", latest["restored"], "id", "external_path", "restore_timestamp", "is_savepoint")
	for _, h := range array(t, "history", ck["history"], 2) {
		keys := baseKeys
		if h.(map[string]any)["status"] == "COMPLETED" {
			keys = recordKeys
		}
		wantKeys(t, "history entry", h, keys...)
	}

	rs := wantKeys(t, "/rescales", getObject(t, ts.URL+"/jobs/"+jobA+"/rescales"), "rescales")
	r := wantKeys(t, "rescale", array(t, "rescales", rs["rescales"], 1)[0],
		"id", "trigger", "from", "to", "checkpoint", "start", "end", "pause_ms", "reprocessed_records", "status", "restored_bytes", "local_key_groups")
	if r["trigger"] != "taskmanager-joined" || r["pause_ms"] != 250.0 {
		t.Errorf("rescale = %v", r)
	}

	tms := wantKeys(t, "/taskmanagers", getObject(t, ts.URL+"/taskmanagers"), "taskmanagers")
	tm := wantKeys(t, "taskmanager", array(t, "taskmanagers", tms["taskmanagers"], 1)[0],
		"id", "path", "dataPort", "slotsNumber", "freeSlots", "timeSinceLastHeartbeat", "heartbeatAge", "leaving",
		"jmxPort", "blocked", "hardware", "memoryConfiguration")
	if tm["slotsNumber"] != 2.0 || tm["heartbeatAge"] != 120.0 || tm["timeSinceLastHeartbeat"] != 1700000000000.0 {
		t.Errorf("taskmanager = %v", tm)
	}
}

// An empty cluster shows empty arrays and null latest checkpoints, never
// a JSON null where a list is expected.
func TestEmptyBackendShapes(t *testing.T) {
	f := newFakeBackend()
	f.details[jobA] = JobDetail{ID: jobA, State: JobCreated}
	f.checkpoints[jobA] = CheckpointStats{}
	ts := newTestServer(t, f, Config{})

	tests := []struct{ path, key string }{
		{"/jobs", "jobs"},
		{"/jobs/overview", "jobs"},
		{"/taskmanagers", "taskmanagers"},
		{"/jobs/" + jobA + "/rescales", "rescales"},
		{"/jobs/" + jobA, "vertices"},
		{"/jobs/" + jobA + "/checkpoints", "history"},
	}
	for _, tt := range tests {
		m := getObject(t, ts.URL+tt.path)
		array(t, tt.path+" "+tt.key, m[tt.key], 0)
	}
	ck := getObject(t, ts.URL+"/jobs/"+jobA+"/checkpoints")
	latest := wantKeys(t, "latest", ck["latest"], "completed", "restored", "savepoint", "failed")
	if latest["completed"] != nil || latest["restored"] != nil || latest["savepoint"] != nil || latest["failed"] != nil {
		t.Errorf("latest = %v, want nulls", latest)
	}
	if v := getObject(t, ts.URL+"/overview")["tide-version"]; v != "dev" {
		t.Errorf("default tide-version = %v, want dev", v)
	}
}

func TestErrorResponses(t *testing.T) {
	big := `{"target-directory":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	tests := []struct {
		name         string
		method, path string
		body         string
		setup        func(*fakeBackend)
		wantStatus   int
		wantMsg      string // substring of errors[0]
		wantAllow    string
	}{
		{name: "unknown path", method: "GET", path: "/nope", wantStatus: 404, wantMsg: "not found: /nope"},
		{name: "unknown nested path", method: "GET", path: "/jobs/" + jobA + "/nope", wantStatus: 404, wantMsg: "not found"},
		{name: "unknown job", method: "GET", path: "/jobs/" + jobB, wantStatus: 404, wantMsg: "job " + jobB + ": not found"},
		{name: "unknown job checkpoints", method: "GET", path: "/jobs/" + jobB + "/checkpoints", wantStatus: 404, wantMsg: "not found"},
		{name: "unknown job rescales", method: "GET", path: "/jobs/" + jobB + "/rescales", wantStatus: 404, wantMsg: "not found"},
		{name: "unknown savepoint request", method: "GET", path: "/jobs/" + jobA + "/savepoints/nope", wantStatus: 404, wantMsg: `savepoint request "nope": not found`},
		{name: "cancel unknown job", method: "PATCH", path: "/jobs/" + jobB, wantStatus: 404, wantMsg: "not found"},
		{name: "wrong method", method: "DELETE", path: "/overview", wantStatus: 405, wantMsg: "DELETE not allowed", wantAllow: "GET, HEAD"},
		{name: "wrong method on job", method: "POST", path: "/jobs/" + jobA, wantStatus: 405, wantAllow: "GET, HEAD, PATCH"},
		{name: "GET stop", method: "GET", path: "/jobs/" + jobA + "/stop", wantStatus: 405, wantAllow: "POST"},
		{name: "uppercase job id", method: "GET", path: "/jobs/" + strings.ToUpper(jobA), wantStatus: 400, wantMsg: "32 lowercase hexadecimal"},
		{name: "short job id", method: "GET", path: "/jobs/abc/rescales", wantStatus: 400, wantMsg: `invalid job id "abc"`},
		{name: "bad job id on savepoint", method: "POST", path: "/jobs/xyz/savepoints", wantStatus: 400, wantMsg: "invalid job id"},
		{name: "malformed body", method: "POST", path: "/jobs/" + jobA + "/savepoints", body: `{"target-directory":`, wantStatus: 400, wantMsg: "malformed JSON body"},
		{name: "wrong type", method: "POST", path: "/jobs/" + jobA + "/stop", body: `{"drain":"yes"}`, wantStatus: 400, wantMsg: "malformed JSON body"},
		{name: "unknown field", method: "POST", path: "/jobs/" + jobA + "/stop", body: `{"target-directory":"x"}`, wantStatus: 400, wantMsg: "unknown field"},
		{name: "trailing data", method: "POST", path: "/jobs/" + jobA + "/savepoints", body: `{} {}`, wantStatus: 400, wantMsg: "trailing data"},
		{name: "body too large", method: "POST", path: "/jobs/" + jobA + "/savepoints", body: big, wantStatus: 413, wantMsg: "larger than 1048576 bytes"},
		{name: "bad cancel mode", method: "PATCH", path: "/jobs/" + jobA + "?mode=stop", wantStatus: 400, wantMsg: `unsupported mode "stop"`},
		{
			name: "conflict", method: "POST", path: "/jobs/" + jobA + "/savepoints",
			setup:      func(f *fakeBackend) { f.cmdErr = &ConflictError{Msg: "job is not running"} },
			wantStatus: 409, wantMsg: "job is not running",
		},
		{
			name: "backend bad request", method: "POST", path: "/jobs/" + jobA + "/stop",
			setup:      func(f *fakeBackend) { f.cmdErr = &BadRequestError{Msg: "bad target"} },
			wantStatus: 400, wantMsg: "bad target",
		},
		{
			name: "backend failure", method: "PATCH", path: "/jobs/" + jobA,
			setup:      func(f *fakeBackend) { f.cmdErr = io.ErrUnexpectedEOF },
			wantStatus: 500, wantMsg: "unexpected EOF",
		},
		{
			name: "command timeout", method: "POST", path: "/jobs/" + jobA + "/savepoints",
			setup:      func(f *fakeBackend) { f.blockCommands = true },
			wantStatus: 503, wantMsg: "timed out waiting for the JobManager",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := populatedBackend()
			if tt.setup != nil {
				tt.setup(f)
			}
			ts := newTestServer(t, f, Config{CommandTimeout: 50 * time.Millisecond})
			r := do(t, tt.method, ts.URL+tt.path, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			m := wantKeys(t, "error body", r.object(t), "errors")
			msgs := array(t, "errors", m["errors"], 1)
			if msg, _ := msgs[0].(string); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("errors[0] = %q, want it to contain %q", msg, tt.wantMsg)
			}
			if got := r.header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

func TestPanicBecomes500JSON(t *testing.T) {
	for _, method := range []string{"Overview", "Jobs", "Job"} {
		t.Run(method, func(t *testing.T) {
			f := populatedBackend()
			f.panicOn = method
			var logs bytes.Buffer
			ts := newTestServer(t, f, Config{Logger: newTestLogger(&logs)})
			path := map[string]string{"Overview": "/overview", "Jobs": "/jobs", "Job": "/jobs/" + jobA}[method]
			r := do(t, http.MethodGet, ts.URL+path, "")
			if r.status != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500; body %s", r.status, r.body)
			}
			m := wantKeys(t, "error body", r.object(t), "errors")
			msg := array(t, "errors", m["errors"], 1)[0].(string)
			if strings.Contains(msg, "goroutine") || strings.Contains(msg, "exploded") || strings.Contains(msg, ".go:") {
				t.Errorf("error %q leaks panic details", msg)
			}
			if !strings.Contains(logs.String(), "exploded") || !strings.Contains(logs.String(), "goroutine") {
				t.Errorf("log lacks the panic and its stack:\n%s", logs.String())
			}
			// The server keeps serving.
			f.mu.Lock()
			f.panicOn = ""
			f.mu.Unlock()
			getObject(t, ts.URL+path)
		})
	}
}

func TestHeadOverview(t *testing.T) {
	ts := newTestServer(t, populatedBackend(), Config{})
	if r := do(t, http.MethodHead, ts.URL+"/overview", ""); r.status != http.StatusOK || len(r.body) != 0 {
		t.Errorf("HEAD /overview: status %d, body %q", r.status, r.body)
	}
}
