package rest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// vertexA is a vertex REST id the compatible backend knows; vertexB is well
// formed but unknown.
const (
	vertexA = "00112233445566778899aabbccddeeff"
	vertexB = "ffeeddccbbaa99887766554433221100"
)

// compatibleBackend fills every kind of answer the spec has: checkpoints of
// each kind, a failed and a successful savepoint, a failure history, a
// vertex with subtasks, a TaskManager with and without process metrics.
// The real cluster (TestFlinkCompatibility) shows most of them too, but
// not on cue.
func compatibleBackend() *fakeBackend {
	f := populatedBackend()
	f.details[jobA] = JobDetail{ID: jobA, Name: "Verify", State: JobRunning, StartTime: 1000, EndTime: -1,
		Duration: 5000, MaxParallelism: 128, IsStoppable: true,
		Vertices: []Vertex{{ID: vertexA, Name: "Source: numbers", Parallelism: 2, MaxParallelism: 128, Status: "RUNNING",
			StartTime: 1000, EndTime: -1, Duration: 4000, Tasks: map[string]int{"RUNNING": 2},
			Metrics: VertexMetrics{IOMetrics: IOMetrics{ReadRecords: 10, ReadRecordsComplete: true}, BusyTimeMsPerSecond: 500}}},
		StatusCounts: map[string]int{"RUNNING": 2}, Timestamps: map[string]int64{"RUNNING": 1000},
		Plan: JobPlan{Nodes: []PlanNode{{ID: vertexA, Parallelism: 2, Operator: "Source: numbers", Description: "Source: numbers"}}}}
	f.jobs[0].Tasks = map[string]int{"running": 2, "total": 2}
	done := CheckpointRecord{ID: 7, Status: CheckpointCompleted, TriggerTimestamp: 10, LatestAckTimestamp: 20,
		EndToEndDuration: 10, StateSize: 1234, ExternalPath: "file:///ck/" + jobA + "/chk-7", NumSubtasks: 2, NumAcknowledgedSubtask: 2}
	sp := done
	sp.ID, sp.IsSavepoint, sp.ExternalPath = 6, true, "file:///sp/savepoint-6"
	failedAt := int64(30)
	failed := CheckpointRecord{ID: 5, Status: CheckpointFailed, TriggerTimestamp: 10, EndToEndDuration: 20, NumSubtasks: 2,
		FailureTimestamp: &failedAt, FailureMessage: "timed out"}
	f.checkpoints[jobA] = CheckpointStats{
		Counts:  CheckpointCounts{Completed: 2, Failed: 1, InProgress: 1, Total: 4},
		Summary: CheckpointSummary{StateSize: SummarizeStats([]int64{1234, 1000}), EndToEndDuration: SummarizeStats([]int64{10, 12})},
		Latest: LatestCheckpoints{Completed: &done, Savepoint: &sp, Failed: &failed,
			Restored: &RestoredCheckpoint{ID: 4, ExternalPath: "file:///ck/chk-4", RestoreTimestamp: 30}},
		History: []CheckpointRecord{{ID: 8, Status: CheckpointInProgress, TriggerTimestamp: 40, NumSubtasks: 2}, done, sp, failed},
	}
	withTasks := done
	withTasks.Tasks = map[string]TaskCheckpointStats{vertexA: {ID: 7, Status: CheckpointCompleted, StateSize: 1234,
		NumSubtasks: 2, NumAcknowledgedSubtasks: 2, LatestAckTimestamp: 20, EndToEndDuration: 10}}
	f.cpDetails[jobA] = map[int64]CheckpointRecord{7: withTasks, 5: failed}
	f.cpConfig[jobA] = CheckpointConfig{Mode: "EXACTLY_ONCE", Interval: 1000, Timeout: 600000, MaxConcurrent: 1,
		StateBackend: "HashMapStateBackend", CheckpointStorage: "FileSystemCheckpointStorage"}
	f.jobConfig[jobA] = JobConfig{JobID: jobA, Name: "Verify", ExecutionConfig: ExecutionConfig{ExecutionMode: "PIPELINED",
		RestartStrategy: "Restart with fixed delay (1s). unlimited restart attempts.", JobParallelism: -1}}
	f.config = []ConfigEntry{{Key: "rest.port", Value: "8081"}}
	f.jobMetrics[jobA] = []Metric{{ID: "uptime", Value: "4000"}, {ID: "numRestarts", Value: "1"}}
	f.jmMetrics = []Metric{{ID: "numRegisteredTaskManagers", Value: "2"}, {ID: "taskSlotsTotal", Value: "4"}}
	sub := SubtaskDetail{Subtask: 0, Status: "RUNNING", Attempt: 3, Host: "127.0.0.1:40002", TaskManagerID: "tm-1",
		StartTime: 1000, EndTime: -1, Duration: 4000, StatusDuration: map[string]int64{"DEPLOYING": 5, "RUNNING": 3995},
		Metrics: VertexMetrics{IOMetrics: IOMetrics{ReadRecords: 5, ReadRecordsComplete: true, AccumulatedBusyTime: 100}}}
	sub2 := sub
	sub2.Subtask = 1
	f.vertices[jobA] = map[string]VertexDetail{vertexA: {ID: vertexA, Name: "Source: numbers", Parallelism: 2,
		MaxParallelism: 128, Subtasks: []SubtaskDetail{sub, sub2}}}
	f.vertexMetrics[jobA] = map[string][]Metric{vertexA: {{ID: "busyTimeMsPerSecond", Value: "500.0"},
		{ID: "0.numRecordsIn", Value: "5"}, {ID: "1.numRecordsIn", Value: "5"}}}
	tm := TaskManager{ID: "tm-1", Path: "127.0.0.1:40001", DataPort: 40002, SlotsNumber: 2, JmxPort: -1,
		Hardware: Hardware{CPUCores: 2, PhysicalMemory: 1 << 30, FreeMemory: 1 << 30}}
	f.tms = []TaskManager{tm}
	f.tmDetails["tm-1"] = TaskManagerDetail{TaskManager: tm, AllocatedSlots: []AllocatedSlot{{JobID: jobA}, {JobID: jobA}},
		Metrics: TaskManagerMetrics{HeapUsed: 1, HeapCommitted: 2, HeapMax: -1, NonHeapMax: -1,
			GarbageCollectors: []GarbageCollector{{Name: "Go", Count: 3, Time: 1}}}}
	f.tmDetails["tm-2"] = TaskManagerDetail{TaskManager: TaskManager{ID: "tm-2", JmxPort: -1}}
	f.tmMetrics["tm-1"] = []Metric{{ID: "Status.JVM.Memory.Heap.Used", Value: "1"}}
	f.savepoints[jobA] = map[string]SavepointStatus{
		"ok":      {State: SavepointSucceeded, Location: "file:///sp/savepoint-6"},
		"failed":  {State: SavepointFailed, FailureCause: "disk full"},
		"running": {State: SavepointInProgress},
	}
	task, msg, at := "count (1/2)", "panic: poison", int64(42)
	tmID := "tm-1"
	f.exceptions[jobA] = JobExceptions{RootException: &msg, Timestamp: &at,
		AllExceptions: []TaskException{{Exception: msg, Task: task, Location: "127.0.0.1:1", Timestamp: at, TaskManagerID: tmID}},
		ExceptionHistory: ExceptionHistory{Entries: []ExceptionEntry{{ExceptionInfo: ExceptionInfo{ExceptionName: "UserCodeFailure",
			Stacktrace: msg, Timestamp: at, TaskName: &task, TaskManagerID: &tmID, FailureLabels: map[string]string{"domain": "user"}},
			ConcurrentExceptions: []ExceptionInfo{{ExceptionName: "TaskManagerLost", Stacktrace: "lost", Timestamp: at}}}}}}
	return f
}

// TestFlinkSpecShapesFake checks every endpoint of the spec's field lists
// against the fake backend's answers, which hold every kind of value.
func TestFlinkSpecShapesFake(t *testing.T) {
	ts := newTestServer(t, compatibleBackend(), Config{Version: "1.2.3"})
	c := NewSpecChecker(t)
	job := "/jobs/" + jobA
	for _, tt := range []struct{ endpoint, path string }{
		{"GET /config", "/config"},
		{"GET /overview", "/overview"},
		{"GET /jobmanager/config", "/jobmanager/config"},
		{"GET /jobmanager/metrics", "/jobmanager/metrics"},
		{"GET /jobmanager/metrics", "/jobmanager/metrics?get=taskSlotsTotal,numRegisteredTaskManagers"},
		{"GET /jobs", "/jobs"},
		{"GET /jobs/overview", "/jobs/overview"},
		{"GET /jobs/{jobid}", job},
		{"GET /jobs/{jobid}/checkpoints", job + "/checkpoints"},
		{"GET /jobs/{jobid}/checkpoints/config", job + "/checkpoints/config"},
		{"GET /jobs/{jobid}/checkpoints/details/{checkpointid}", job + "/checkpoints/details/7"},
		{"GET /jobs/{jobid}/checkpoints/details/{checkpointid}", job + "/checkpoints/details/5"},
		{"GET /jobs/{jobid}/config", job + "/config"},
		{"GET /jobs/{jobid}/exceptions", job + "/exceptions"},
		{"GET /jobs/{jobid}/plan", job + "/plan"},
		{"GET /jobs/{jobid}/metrics", job + "/metrics"},
		{"GET /jobs/{jobid}/metrics", job + "/metrics?get=numRestarts"},
		{"GET /jobs/{jobid}/savepoints/{triggerid}", job + "/savepoints/ok"},
		{"GET /jobs/{jobid}/savepoints/{triggerid}", job + "/savepoints/failed"},
		{"GET /jobs/{jobid}/savepoints/{triggerid}", job + "/savepoints/running"},
		{"GET /jobs/{jobid}/vertices/{vertexid}", job + "/vertices/" + vertexA},
		{"GET /jobs/{jobid}/vertices/{vertexid}/metrics", job + "/vertices/" + vertexA + "/metrics"},
		{"GET /jobs/{jobid}/vertices/{vertexid}/metrics", job + "/vertices/" + vertexA + "/metrics?get=0.numRecordsIn"},
		{"GET /jobs/{jobid}/vertices/{vertexid}/subtasks/metrics", job + "/vertices/" + vertexA + "/subtasks/metrics"},
		{"GET /jobs/{jobid}/vertices/{vertexid}/subtasks/metrics", job + "/vertices/" + vertexA + "/subtasks/metrics?get=numRecordsIn"},
		{"GET /jobs/{jobid}/vertices/{vertexid}/subtasks/metrics", job + "/vertices/" + vertexA + "/subtasks/metrics?get=numRecordsIn&agg=max"},
		{"GET /taskmanagers", "/taskmanagers"},
		{"GET /taskmanagers/{taskmanagerid}", "/taskmanagers/tm-1"},
		{"GET /taskmanagers/{taskmanagerid}", "/taskmanagers/tm-2"},
		{"GET /taskmanagers/{taskmanagerid}/metrics", "/taskmanagers/tm-1/metrics"},
	} {
		r := do(t, "GET", ts.URL+tt.path, "")
		if r.status != http.StatusOK {
			t.Errorf("GET %s: %d %s", tt.path, r.status, r.body)
			continue
		}
		var body any
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatalf("GET %s: %v in %s", tt.path, err, r.body)
		}
		c.CheckEndpoint(tt.endpoint, body)
	}
	for _, tt := range []struct{ endpoint, path string }{
		{"POST /jobs/{jobid}/savepoints", job + "/savepoints"},
		{"POST /jobs/{jobid}/stop", job + "/stop"},
	} {
		r := do(t, "POST", ts.URL+tt.path, "{}")
		var body any
		if err := json.Unmarshal(r.body, &body); r.status != http.StatusAccepted || err != nil {
			t.Fatalf("POST %s: %d %s", tt.path, r.status, r.body)
		}
		// The fake's request ids are not 32 hex characters; the real
		// cluster's are (TestFlinkCompatibility).
		m := body.(map[string]any)
		if _, ok := m["request-id"].(string); !ok || len(m) != 1 {
			t.Errorf("POST %s: %s, want {\"request-id\"}", tt.path, r.body)
		}
	}
}

// TestMetricQueries pins Flink's metric-query semantics: a bare array;
// without get, every id and no values; with get, the known ids asked for,
// in order, once, with string values; unknown ids left out.
func TestMetricQueries(t *testing.T) {
	ts := newTestServer(t, compatibleBackend(), Config{})
	base := ts.URL + "/jobs/" + jobA + "/vertices/" + vertexA + "/metrics"
	for _, tt := range []struct{ query, want string }{
		{"", `[{"id":"0.numRecordsIn"},{"id":"1.numRecordsIn"},{"id":"busyTimeMsPerSecond"}]`},
		{"?get=busyTimeMsPerSecond", `[{"id":"busyTimeMsPerSecond","value":"500.0"}]`},
		{"?get=1.numRecordsIn,nope,busyTimeMsPerSecond,1.numRecordsIn", `[{"id":"1.numRecordsIn","value":"5"},{"id":"busyTimeMsPerSecond","value":"500.0"}]`},
		{"?get=1.numRecordsIn&get=0.numRecordsIn", `[{"id":"1.numRecordsIn","value":"5"},{"id":"0.numRecordsIn","value":"5"}]`},
		{"?get=nope", `[]`},
		{"?get=", `[]`},
	} {
		r := do(t, "GET", base+tt.query, "")
		if got := strings.TrimSpace(string(r.body)); r.status != http.StatusOK || got != tt.want {
			t.Errorf("GET …/metrics%s = %d %s, want 200 %s", tt.query, r.status, got, tt.want)
		}
	}
}

// TestSubtaskMetricAggregates pins Flink's aggregated subtask metrics: the
// per-subtask metrics by name, aggregated over the subtasks asked for.
func TestSubtaskMetricAggregates(t *testing.T) {
	f := compatibleBackend()
	f.vertexMetrics[jobA][vertexA] = []Metric{{ID: "busyTimeMsPerSecond", Value: "900.0"},
		{ID: "0.busyTimeMsPerSecond", Value: "100.0"}, {ID: "1.busyTimeMsPerSecond", Value: "900.0"},
		{ID: "2.busyTimeMsPerSecond", Value: "500.0"}, {ID: "0.numRecordsIn", Value: "7"}}
	ts := newTestServer(t, f, Config{})
	base := ts.URL + "/jobs/" + jobA + "/vertices/" + vertexA + "/subtasks/metrics"
	for _, tt := range []struct {
		query  string
		status int
		want   string
	}{
		{"", 200, `[{"id":"busyTimeMsPerSecond"},{"id":"numRecordsIn"}]`},
		{"?get=busyTimeMsPerSecond", 200, `[{"id":"busyTimeMsPerSecond","min":100,"max":900,"avg":500,"sum":1500}]`},
		{"?get=busyTimeMsPerSecond&agg=max", 200, `[{"id":"busyTimeMsPerSecond","max":900}]`},
		{"?get=busyTimeMsPerSecond&agg=MIN,avg&subtasks=1-2", 200, `[{"id":"busyTimeMsPerSecond","min":500,"avg":700}]`},
		{"?get=nope,numRecordsIn", 200, `[{"id":"numRecordsIn","min":7,"max":7,"avg":7,"sum":7}]`},
		{"?get=busyTimeMsPerSecond&agg=median", 400, `{"errors":["invalid agg \"median\": want min, max, avg or sum"]}`},
		{"?get=busyTimeMsPerSecond&subtasks=3-1", 400, `{"errors":["invalid subtasks \"3-1\": want indexes and ranges like 1,3,5-9"]}`},
	} {
		r := do(t, "GET", base+tt.query, "")
		if got := strings.TrimSpace(string(r.body)); r.status != tt.status || got != tt.want {
			t.Errorf("GET …/subtasks/metrics%s = %d %s, want %d %s", tt.query, r.status, got, tt.status, tt.want)
		}
	}
}

// TestSubtaskMetricAggregatesNonFinite: a subtask value that is NaN or
// infinite is left out, and an aggregate beyond the float64 range too,
// rather than failing the whole answer (JSON has no such numbers).
func TestSubtaskMetricAggregatesNonFinite(t *testing.T) {
	f := compatibleBackend()
	f.vertexMetrics[jobA][vertexA] = []Metric{
		{ID: "0.rate", Value: "NaN"}, {ID: "1.rate", Value: "2"}, {ID: "2.rate", Value: "+Inf"},
		{ID: "0.big", Value: "1e308"}, {ID: "1.big", Value: "1e308"}, {ID: "0.nan", Value: "NaN"}}
	ts := newTestServer(t, f, Config{})
	base := ts.URL + "/jobs/" + jobA + "/vertices/" + vertexA + "/subtasks/metrics"
	for query, want := range map[string]string{
		"":                 `[{"id":"big"},{"id":"rate"}]`,
		"?get=rate,nan":    `[{"id":"rate","min":2,"max":2,"avg":2,"sum":2}]`,
		"?get=big&agg=sum": `[{"id":"big"}]`,
		"?get=big":         `[{"id":"big","min":1e+308,"max":1e+308}]`,
	} {
		r := do(t, "GET", base+query, "")
		if got := strings.TrimSpace(string(r.body)); r.status != http.StatusOK || got != want {
			t.Errorf("GET …/subtasks/metrics%s = %d %s, want 200 %s", query, r.status, got, want)
		}
	}
}

// TestFlinkErrorShapes: bad ids and unknown things are Flink's
// {"errors":[…]} with 400 or 404, naming what was wrong.
func TestFlinkErrorShapes(t *testing.T) {
	f := compatibleBackend()
	f.details[jobB] = JobDetail{ID: jobB} // known, but takes no checkpoints
	ts := newTestServer(t, f, Config{})
	job := "/jobs/" + jobA
	for _, tt := range []struct {
		path   string
		status int
		want   string
	}{
		{job + "/vertices/" + vertexB, 404, "job " + jobA + ": vertex " + vertexB + ": not found"},
		{job + "/vertices/" + vertexB + "/metrics?get=busyTimeMsPerSecond", 404, "job " + jobA + ": vertex " + vertexB + ": not found"},
		{job + "/vertices/v1-CountSum", 400, `invalid vertex id "v1-CountSum"`},
		{job + "/vertices/V0112233445566778899AABBCCDDEEFF/metrics", 400, "invalid vertex id"},
		{"/jobs/xyz/vertices/" + vertexA, 400, `invalid job id "xyz"`},
		{"/jobs/" + strings.Repeat("e", 32) + "/vertices/" + vertexA, 404, "job " + strings.Repeat("e", 32) + ": not found"},
		{"/taskmanagers/nope", 404, "taskmanager nope: not found"},
		{"/taskmanagers/nope/metrics", 404, "taskmanager nope: not found"},
		{"/taskmanagers/" + strings.Repeat("x", 300), 400, "invalid taskmanager id"},
		{job + "/checkpoints/details/99", 404, "job " + jobA + ": checkpoint 99: not found"},
		{job + "/checkpoints/details/-1", 400, `invalid checkpoint id "-1"`},
		{job + "/checkpoints/details/chk-7", 400, `invalid checkpoint id "chk-7"`},
		{"/jobs/" + jobB + "/checkpoints/config", 404, "checkpointing is not enabled"},
		{"/jobs/" + strings.Repeat("e", 32) + "/config", 404, "not found"},
		{"/jobs/" + strings.Repeat("e", 32) + "/plan", 404, "not found"},
	} {
		r := do(t, "GET", ts.URL+tt.path, "")
		var body struct {
			Errors []string `json:"errors"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil || r.status != tt.status || len(body.Errors) != 1 ||
			!strings.Contains(body.Errors[0], tt.want) {
			t.Errorf("GET %s = %d %s, want %d {\"errors\":[…%s…]}", tt.path, r.status, r.body, tt.status, tt.want)
		}
	}
}
