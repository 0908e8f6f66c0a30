package jobmanager

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/scheduler"
)

// TestHistoriesAreBounded: a job that runs for months rescales and takes
// savepoints without end; the JobManager remembers the newest historyLimit
// of each, and every one still in progress.
func TestHistoriesAreBounded(t *testing.T) {
	jm := &JobManager{log: slog.New(slog.DiscardHandler), savepoints: map[string]*savepointReq{}}
	for i := 1; i <= 3*historyLimit; i++ {
		jm.rescaleStarted(&scheduler.RescaleRecord{ID: i, Trigger: scheduler.TriggerJoined})
		jm.rescaleEnded(&scheduler.RescaleRecord{ID: i, Trigger: scheduler.TriggerJoined})
	}
	jm.rescaleStarted(&scheduler.RescaleRecord{ID: 3*historyLimit + 1, Trigger: scheduler.TriggerLost})
	if n := len(jm.rescales); n != historyLimit {
		t.Fatalf("%d rescales remembered, want %d", n, historyLimit)
	}
	if last := jm.rescales[len(jm.rescales)-1]; last.ended || last.rec.ID != 3*historyLimit+1 {
		t.Fatalf("the open rescale was dropped: %+v", last.rec)
	}

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
