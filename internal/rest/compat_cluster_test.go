package rest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/examples/verify"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/tidetest"
)

// TestFlinkCompatibility serves a real in-process cluster — the Verify job
// on two TaskManagers, checkpointing — over HTTP and checks every endpoint
// of Flink's spec that Tide serves against the spec's field lists: every
// field present with its JSON type, recursively (rest.SpecChecker), plus
// what the values must say (32-hex ids, full URIs, metric values as
// numbers in strings). It then kills a TaskManager and checks the failure
// history, and stops the job with a savepoint.
func TestFlinkCompatibility(t *testing.T) {
	c := tidetest.Start(t, tidetest.Config{Job: verify.Build, Name: "Verify",
		Args:         []string{"--keys", "8", "--count", "0", "--rate", "2000", "--output", t.TempDir()},
		TaskManagers: 2, CheckpointInterval: 200 * time.Millisecond})
	c.WaitParallelism(2, 30*time.Second)
	c.WaitCheckpoints(2, 30*time.Second)
	ts := httptest.NewServer(rest.NewServer(rest.Config{Version: "test"}, c.Backend()).Handler())
	t.Cleanup(ts.Close)
	sc := rest.NewSpecChecker(t)
	jid := c.JobID()
	job := "/jobs/" + jid

	// A savepoint through the API, so that the history holds one.
	var trig map[string]any
	httpJSON(t, "POST", ts.URL+job+"/savepoints", "{}", http.StatusAccepted, &trig)
	sc.CheckEndpoint("POST /jobs/{jobid}/savepoints", trig)
	rid, _ := trig["request-id"].(string)
	var sp map[string]any
	c.WaitFor("the savepoint", 30*time.Second, func() bool {
		httpJSON(t, "GET", ts.URL+job+"/savepoints/"+rid, "", http.StatusOK, &sp)
		sc.CheckEndpoint("GET /jobs/{jobid}/savepoints/{triggerid}", sp)
		return sp["status"].(map[string]any)["id"] == "COMPLETED"
	})
	if loc, _ := sp["operation"].(map[string]any)["location"].(string); !strings.HasPrefix(loc, "file:///") {
		t.Errorf("savepoint location %q, want a file:/// URI", loc)
	}

	// Wait until every subtask has rates and every TaskManager a process
	// sample, so that the answers below have all their parts.
	var detail map[string]any
	httpJSON(t, "GET", ts.URL+job, "", http.StatusOK, &detail)
	vertices := detail["vertices"].([]any)
	c.WaitFor("rates of every subtask and a sample of every TaskManager", 30*time.Second, func() bool {
		for _, v := range vertices {
			var ms []map[string]any
			vid := v.(map[string]any)["id"].(string)
			httpJSON(t, "GET", ts.URL+job+"/vertices/"+vid+"/metrics?get=0.busyTimeMsPerSecond,1.busyTimeMsPerSecond", "", http.StatusOK, &ms)
			if len(ms) != 2 {
				return false
			}
		}
		for _, tm := range c.Backend().TaskManagers() {
			if d, err := c.Backend().TaskManager(tm.ID); err != nil || d.Metrics.HeapUsed == 0 {
				return false
			}
		}
		return true
	})

	get := func(endpoint, path string) any {
		t.Helper()
		var body any
		httpJSON(t, "GET", ts.URL+path, "", http.StatusOK, &body)
		sc.CheckEndpoint(endpoint, body)
		return body
	}
	get("GET /config", "/config")
	ov := get("GET /overview", "/overview").(map[string]any)
	if ov["taskmanagers"] != 2.0 || ov["flink-version"] != rest.FlinkAPIVersion || ov["tide-version"] != "tidetest" {
		t.Errorf("/overview = %v", ov)
	}
	conf := get("GET /jobmanager/config", "/jobmanager/config").([]any)
	if !hasEntry(conf, "key", "execution.checkpointing.interval") {
		t.Errorf("/jobmanager/config lacks execution.checkpointing.interval: %v", conf)
	}
	get("GET /jobs", "/jobs")
	jo := get("GET /jobs/overview", "/jobs/overview").(map[string]any)["jobs"].([]any)[0].(map[string]any)
	if tasks := jo["tasks"].(map[string]any); tasks["running"] != 4.0 || tasks["total"] != 4.0 {
		t.Errorf("/jobs/overview tasks = %v, want 4 running of 4", tasks)
	}
	detail = get("GET /jobs/{jobid}", job).(map[string]any)
	plan := get("GET /jobs/{jobid}/plan", job+"/plan").(map[string]any)["plan"].(map[string]any)
	if nodes := plan["nodes"].([]any); len(nodes) != len(vertices) {
		t.Errorf("plan has %d nodes, want %d", len(nodes), len(vertices))
	}
	jc := get("GET /jobs/{jobid}/config", job+"/config").(map[string]any)
	if jc["jid"] != jid || jc["name"] != "Verify" {
		t.Errorf("/jobs/{jobid}/config = %v", jc)
	}
	cc := get("GET /jobs/{jobid}/checkpoints/config", job+"/checkpoints/config").(map[string]any)
	if cc["interval"] != 200.0 || cc["mode"] != "EXACTLY_ONCE" {
		t.Errorf("/checkpoints/config = %v", cc)
	}

	ck := get("GET /jobs/{jobid}/checkpoints", job+"/checkpoints").(map[string]any)
	latest := ck["latest"].(map[string]any)
	for _, kind := range []string{"completed", "savepoint"} {
		l, ok := latest[kind].(map[string]any)
		if !ok {
			t.Fatalf("latest.%s = %v", kind, latest[kind])
		}
		if p, _ := l["external_path"].(string); !strings.HasPrefix(p, "file:///") {
			t.Errorf("latest.%s.external_path %q, want a full file:/// URI", kind, p)
		}
		id := fmt.Sprint(int64(l["id"].(float64)))
		cd := get("GET /jobs/{jobid}/checkpoints/details/{checkpointid}", job+"/checkpoints/details/"+id).(map[string]any)
		tasks := cd["tasks"].(map[string]any)
		if len(tasks) != len(vertices) {
			t.Errorf("checkpoint %s has tasks of %d vertices, want %d: %v", id, len(tasks), len(vertices), tasks)
		}
		for vid, task := range tasks {
			tm := task.(map[string]any)
			if tm["status"] != "COMPLETED" || tm["num_acknowledged_subtasks"] != tm["num_subtasks"] || tm["num_subtasks"] == 0.0 {
				t.Errorf("checkpoint %s, vertex %s: %v", id, vid, tm)
			}
		}
	}

	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, v := range detail["vertices"].([]any) {
		vm := v.(map[string]any)
		vid := vm["id"].(string)
		if !hex32.MatchString(vid) {
			t.Errorf("vertex id %q, want 32 hex", vid)
		}
		vd := get("GET /jobs/{jobid}/vertices/{vertexid}", job+"/vertices/"+vid).(map[string]any)
		subs := vd["subtasks"].([]any)
		if len(subs) != 2 {
			t.Errorf("vertex %s (%s) has %d subtasks, want 2", vid, vm["name"], len(subs))
		}
		for _, s := range subs {
			sm := s.(map[string]any)
			if sm["status"] != "RUNNING" || sm["taskmanager-id"] == "" || sm["host"] == "" {
				t.Errorf("vertex %s subtask %v", vid, sm)
			}
		}
		ids := get("GET /jobs/{jobid}/vertices/{vertexid}/metrics", job+"/vertices/"+vid+"/metrics").([]any)
		for _, want := range []string{"numRecordsInPerSecond", "numRecordsOutPerSecond", "busyTimeMsPerSecond",
			"backPressuredTimeMsPerSecond", "idleTimeMsPerSecond", "0.numRecordsIn", "1.numRecordsOut", "1.idleTimeMsPerSecond"} {
			if !hasEntry(ids, "id", want) {
				t.Errorf("vertex %s metrics lack %s: %v", vid, want, ids)
			}
		}
		vals := get("GET /jobs/{jobid}/vertices/{vertexid}/metrics",
			job+"/vertices/"+vid+"/metrics?get=busyTimeMsPerSecond,0.numRecordsIn,noSuchMetric").([]any)
		checkMetricValues(t, vals, "busyTimeMsPerSecond", "0.numRecordsIn")
		// What the Flink Kubernetes operator's autoscaler asks.
		agg := get("GET /jobs/{jobid}/vertices/{vertexid}/subtasks/metrics",
			job+"/vertices/"+vid+"/subtasks/metrics?get=busyTimeMsPerSecond,numRecordsInPerSecond&agg=max,sum").([]any)
		if len(agg) != 2 || agg[0].(map[string]any)["id"] != "busyTimeMsPerSecond" || agg[0].(map[string]any)["max"] == nil {
			t.Errorf("vertex %s aggregated subtask metrics: %v", vid, agg)
		}
	}

	tms := get("GET /taskmanagers", "/taskmanagers").(map[string]any)["taskmanagers"].([]any)
	for _, tm := range tms {
		id := tm.(map[string]any)["id"].(string)
		// Flink's timeSinceLastHeartbeat is the last heartbeat's time.
		if last := tm.(map[string]any)["timeSinceLastHeartbeat"].(float64); time.Since(time.UnixMilli(int64(last))) > time.Minute {
			t.Errorf("taskmanager %s: timeSinceLastHeartbeat %v, want a recent Unix ms time", id, last)
		}
		d := get("GET /taskmanagers/{taskmanagerid}", "/taskmanagers/"+id).(map[string]any)
		if n := len(d["allocatedSlots"].([]any)); n != 1 {
			t.Errorf("taskmanager %s: %d allocated slots, want 1", id, n)
		}
		vals := get("GET /taskmanagers/{taskmanagerid}/metrics",
			"/taskmanagers/"+id+"/metrics?get=Status.JVM.Memory.Heap.Used,Status.JVM.CPU.Time").([]any)
		checkMetricValues(t, vals, "Status.JVM.Memory.Heap.Used", "Status.JVM.CPU.Time")
	}
	jm := get("GET /jobs/{jobid}/metrics", job+"/metrics?get=uptime,numberOfCompletedCheckpoints,lastCheckpointDuration").([]any)
	checkMetricValues(t, jm, "uptime", "numberOfCompletedCheckpoints", "lastCheckpointDuration")
	if up, _ := strconv.ParseInt(jm[0].(map[string]any)["value"].(string), 10, 64); up <= 0 {
		t.Errorf("uptime of a running job = %v", jm[0])
	}
	vals := get("GET /jobmanager/metrics", "/jobmanager/metrics?get=numRegisteredTaskManagers,taskSlotsTotal,taskSlotsAvailable").([]any)
	checkMetricValues(t, vals, "numRegisteredTaskManagers", "taskSlotsTotal", "taskSlotsAvailable")
	if v := vals[0].(map[string]any)["value"]; v != "2" {
		t.Errorf("numRegisteredTaskManagers = %v, want \"2\"", v)
	}

	// A lost TaskManager is a failure: the history shows it.
	c.TaskManagers()[1].Kill()
	c.WaitRescales(1, 30*time.Second)
	c.WaitParallelism(1, 30*time.Second)
	ex := get("GET /jobs/{jobid}/exceptions", job+"/exceptions").(map[string]any)
	if n := len(ex["exceptionHistory"].(map[string]any)["entries"].([]any)); n == 0 {
		t.Errorf("no exception after a TaskManager was killed: %v", ex)
	}
	get("GET /jobs/{jobid}", job)
	for _, v := range vertices {
		get("GET /jobs/{jobid}/vertices/{vertexid}", job+"/vertices/"+v.(map[string]any)["id"].(string))
	}

	// Bad input: Flink's error shape, no crash.
	countSum := exec.VertexID("v1-CountSum").RESTID()
	for _, tt := range []struct {
		path   string
		status int
	}{
		{job + "/vertices/v1-CountSum", http.StatusBadRequest},
		{job + "/vertices/" + strings.Repeat("0", 32), http.StatusNotFound},
		{job + "/vertices/" + strings.Repeat("0", 32) + "/metrics?get=busyTimeMsPerSecond", http.StatusNotFound},
		{"/taskmanagers/no-such-tm", http.StatusNotFound},
		{"/taskmanagers/no-such-tm/metrics", http.StatusNotFound},
		{job + "/checkpoints/details/123456", http.StatusNotFound},
		{job + "/checkpoints/details/x", http.StatusBadRequest},
	} {
		var e struct{ Errors []string }
		httpJSON(t, "GET", ts.URL+tt.path, "", tt.status, &e)
		if len(e.Errors) != 1 {
			t.Errorf("GET %s: errors %v, want one", tt.path, e.Errors)
		}
	}
	var none []any
	httpJSON(t, "GET", ts.URL+job+"/vertices/"+countSum+"/metrics?get=noSuchMetric", "", http.StatusOK, &none)
	if len(none) != 0 {
		t.Errorf("unknown metric: %v, want []", none)
	}

	var stop map[string]any
	httpJSON(t, "POST", ts.URL+job+"/stop", `{"drain":false}`, http.StatusAccepted, &stop)
	sc.CheckEndpoint("POST /jobs/{jobid}/stop", stop)
	c.WaitState(tidetest.Finished, 60*time.Second)
	get("GET /jobs/{jobid}", job)
	get("GET /jobs/overview", "/jobs/overview")
}

// httpJSON sends a request, wants status and decodes the JSON answer.
func httpJSON(t testing.TB, method, url, body string, status int, dst any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d %s, want %d", method, url, resp.StatusCode, b, status)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		t.Fatalf("%s %s: %v in %s", method, url, err, b)
	}
}

// hasEntry reports whether list holds an object whose key is value.
func hasEntry(list []any, key, value string) bool {
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && m[key] == value {
			return true
		}
	}
	return false
}

// checkMetricValues wants exactly ids, in order, each a number in a string.
func checkMetricValues(t testing.TB, vals []any, ids ...string) {
	t.Helper()
	if len(vals) != len(ids) {
		t.Errorf("metrics %v, want %v", vals, ids)
		return
	}
	for i, v := range vals {
		m := v.(map[string]any)
		s, _ := m["value"].(string)
		if _, err := strconv.ParseFloat(s, 64); m["id"] != ids[i] || err != nil {
			t.Errorf("metric %d = %v, want %s with a number in a string", i, m, ids[i])
		}
	}
}
