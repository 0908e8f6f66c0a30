package attempt

import (
	"testing"

	"github.com/tide-stream/tide/internal/scheduler"
)

// TestRescaleHistoryIsBounded: a job that runs for months rescales without
// end; the Lifecycle remembers the newest HistoryLimit records, and the
// one still open.
func TestRescaleHistoryIsBounded(t *testing.T) {
	const limit = 10
	l := New(Config{HistoryLimit: limit}, t0)
	for i := 1; i <= 3*limit; i++ {
		l.Step(RescaleStarted{Record: scheduler.RescaleRecord{ID: i, Trigger: scheduler.TriggerJoined}})
		l.Step(RescaleEnded{Record: scheduler.RescaleRecord{ID: i, Trigger: scheduler.TriggerJoined}})
	}
	l.Step(RescaleStarted{Record: scheduler.RescaleRecord{ID: 3*limit + 1, Trigger: scheduler.TriggerLost}})
	rs := l.Rescales()
	if len(rs) != limit {
		t.Fatalf("%d rescales remembered, want %d", len(rs), limit)
	}
	if last := rs[len(rs)-1]; last.Status() != "IN_PROGRESS" || last.Record.ID != 3*limit+1 {
		t.Fatalf("the open rescale was dropped: %+v", last.Record)
	}
	if first := rs[0]; first.Record.ID != 2*limit+2 {
		t.Fatalf("oldest record kept is %d, want %d", first.Record.ID, 2*limit+2)
	}
}
