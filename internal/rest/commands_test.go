package rest

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestSavepointFlow(t *testing.T) {
	f := populatedBackend()
	ts := newTestServer(t, f, Config{})
	base := ts.URL + "/jobs/" + jobA

	r := do(t, http.MethodPost, base+"/savepoints", `{"target-directory":"file:///sp","cancel-job":true}`)
	if r.status != http.StatusAccepted {
		t.Fatalf("trigger: status %d, body %s", r.status, r.body)
	}
	rid, _ := wantKeys(t, "trigger", r.object(t), "request-id")["request-id"].(string)
	if rid == "" {
		t.Fatalf("trigger: empty request-id in %s", r.body)
	}

	st := wantKeys(t, "in progress", getObject(t, base+"/savepoints/"+rid), "status", "operation")
	wantKeys(t, "status", st["status"], "id")
	if st["status"].(map[string]any)["id"] != "IN_PROGRESS" || st["operation"] != nil {
		t.Errorf("in progress = %v", st)
	}

	f.finishSavepoint(jobA, rid, SavepointStatus{State: SavepointSucceeded, Location: "file:///sp/savepoint-1"})
	st = getObject(t, base+"/savepoints/"+rid)
	op := wantKeys(t, "operation", st["operation"], "location")
	if st["status"].(map[string]any)["id"] != "COMPLETED" || op["location"] != "file:///sp/savepoint-1" {
		t.Errorf("completed = %v", st)
	}

	// A second savepoint, with no body, fails.
	r = do(t, http.MethodPost, base+"/savepoints", "")
	if r.status != http.StatusAccepted {
		t.Fatalf("trigger without body: status %d, body %s", r.status, r.body)
	}
	rid2 := r.object(t)["request-id"].(string)
	f.finishSavepoint(jobA, rid2, SavepointStatus{State: SavepointFailed, FailureCause: "checkpoint 9 declined by subtask 2"})
	st = getObject(t, base+"/savepoints/"+rid2)
	op = wantKeys(t, "operation", st["operation"], "failure-cause")
	cause := wantKeys(t, "failure-cause", op["failure-cause"], "class", "stack-trace")
	if st["status"].(map[string]any)["id"] != "COMPLETED" || cause["stack-trace"] != "checkpoint 9 declined by subtask 2" {
		t.Errorf("failed = %v", st)
	}

	want := []SavepointRequest{{TargetDirectory: "file:///sp", CancelJob: true}, {}}
	f.mu.Lock()
	defer f.mu.Unlock()
	if d := cmp.Diff(want, f.requests); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}

func TestStopWithSavepoint(t *testing.T) {
	f := populatedBackend()
	ts := newTestServer(t, f, Config{})
	base := ts.URL + "/jobs/" + jobA

	r := do(t, http.MethodPost, base+"/stop", `{"targetDirectory":"s3://b/sp","drain":true,"formatType":"CANONICAL","triggerId":"my-trigger"}`)
	if r.status != http.StatusAccepted {
		t.Fatalf("stop: status %d, body %s", r.status, r.body)
	}
	if rid := wantKeys(t, "stop", r.object(t), "request-id")["request-id"]; rid != "my-trigger" {
		t.Errorf("request-id = %v, want my-trigger", rid)
	}
	st := getObject(t, base+"/savepoints/my-trigger")
	if st["status"].(map[string]any)["id"] != "IN_PROGRESS" {
		t.Errorf("stop status = %v", st)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	want := []SavepointRequest{{TargetDirectory: "s3://b/sp", Drain: true, FormatType: "CANONICAL", TriggerID: "my-trigger"}}
	if d := cmp.Diff(want, f.requests); d != "" || f.stops != 1 {
		t.Errorf("stops = %d, requests (-want +got):\n%s", f.stops, d)
	}
}

func TestCancel(t *testing.T) {
	for _, query := range []string{"", "?mode=cancel"} {
		t.Run("query="+query, func(t *testing.T) {
			f := populatedBackend()
			ts := newTestServer(t, f, Config{})
			r := do(t, http.MethodPatch, ts.URL+"/jobs/"+jobA+query, "")
			if r.status != http.StatusAccepted {
				t.Fatalf("status %d, body %s", r.status, r.body)
			}
			wantKeys(t, "cancel", r.object(t))
			f.mu.Lock()
			defer f.mu.Unlock()
			if d := cmp.Diff([]string{jobA}, f.cancels); d != "" {
				t.Errorf("cancels (-want +got):\n%s", d)
			}
		})
	}
}
