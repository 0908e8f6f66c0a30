package jobmanager

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/tide-stream/tide/internal/rest"
)

// TestSavepointHistoryIsBounded: a job that runs for months takes
// savepoints without end; the JobManager remembers the newest historyLimit,
// and every one still in progress. (The rescale history is bounded in
// internal/attempt.)
func TestSavepointHistoryIsBounded(t *testing.T) {
	jm := &JobManager{log: slog.New(slog.DiscardHandler), savepoints: map[string]*savepointReq{}}
	add := func(id string, st rest.SavepointState) {
		jm.savepoints[id] = &savepointReq{status: rest.SavepointStatus{State: st}}
		jm.savepointOrder = append(jm.savepointOrder, id)
		jm.forgetOldSavepoints()
	}
	add("pending", rest.SavepointInProgress)
	for i := range 3 * historyLimit {
		add(fmt.Sprint(i), rest.SavepointSucceeded)
	}
	if n := len(jm.savepoints); n != historyLimit {
		t.Fatalf("%d savepoint requests remembered, want %d", n, historyLimit)
	}
	if _, ok := jm.savepoints["pending"]; !ok {
		t.Fatal("the savepoint in progress was forgotten")
	}
	if _, ok := jm.savepoints[fmt.Sprint(3*historyLimit-1)]; !ok {
		t.Fatal("the newest savepoint was forgotten")
	}
}
