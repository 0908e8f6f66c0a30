package rest

import (
	"testing"
)

// TestJobExceptionsShape: GET /jobs/{jobid}/exceptions has the fields of
// Flink's JobExceptionsInfoWithHistory (rest_v1_dispatcher.yml), arrays
// and maps never null, for a job that failed and one that did not.
func TestJobExceptionsShape(t *testing.T) {
	b := newFakeBackend()
	b.details[jobA] = JobDetail{ID: jobA}
	b.details[jobB] = JobDetail{ID: jobB}
	task, tm, msg, at := "count (1/2)", "tm-1#1", "panic: poison", int64(42)
	b.exceptions[jobA] = JobExceptions{RootException: &msg, Timestamp: &at,
		AllExceptions: []TaskException{{Exception: msg, Task: task, Location: "127.0.0.1:1", Timestamp: at, TaskManagerID: tm}},
		ExceptionHistory: ExceptionHistory{Entries: []ExceptionEntry{{ExceptionInfo: ExceptionInfo{ExceptionName: "UserCodeFailure",
			Stacktrace: msg, Timestamp: at, TaskName: &task, TaskManagerID: &tm, FailureLabels: map[string]string{"domain": "user"}},
			ConcurrentExceptions: []ExceptionInfo{{ExceptionName: "TaskManagerLost", Stacktrace: "lost", Timestamp: at}}}}}}
	ts := newTestServer(t, b, Config{})

	top := []string{"root-exception", "timestamp", "all-exceptions", "truncated", "exceptionHistory"}
	ex := wantKeys(t, "/exceptions", getObject(t, ts.URL+"/jobs/"+jobA+"/exceptions"), top...)
	wantKeys(t, "all-exceptions entry", array(t, "all-exceptions", ex["all-exceptions"], 1)[0],
		"exception", "task", "location", "timestamp", "taskManagerId")
	h := wantKeys(t, "exceptionHistory", ex["exceptionHistory"], "entries", "truncated")
	e := wantKeys(t, "history entry", array(t, "entries", h["entries"], 1)[0],
		"exceptionName", "stacktrace", "timestamp", "taskName", "taskManagerId", "failureLabels", "concurrentExceptions")
	if e["taskName"] != task {
		t.Errorf("history entry %v", e)
	}
	// A failure of no task has no task fields, as in Flink.
	wantKeys(t, "concurrent exception", array(t, "concurrentExceptions", e["concurrentExceptions"], 1)[0],
		"exceptionName", "stacktrace", "timestamp", "failureLabels")

	none := wantKeys(t, "/exceptions of a job that never failed", getObject(t, ts.URL+"/jobs/"+jobB+"/exceptions"), top...)
	if none["root-exception"] != nil {
		t.Errorf("root-exception %v, want null", none["root-exception"])
	}
	array(t, "all-exceptions", none["all-exceptions"], 0)
	array(t, "entries", wantKeys(t, "exceptionHistory", none["exceptionHistory"], "entries", "truncated")["entries"], 0)
}
