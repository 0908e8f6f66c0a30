package chaos

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tide-stream/tide/internal/rest"
)

// TestSummaryJobManagerRestarts: the summary counts the JobManager
// restarts and lists the rescales of each JobManager under its name,
// noting one that its JobManager did not live to end.
func TestSummaryJobManagerRestarts(t *testing.T) {
	rs := func(id int64, jm string, status rest.RescaleStatus) Rescale {
		return Rescale{Rescale: rest.Rescale{ID: id, Trigger: "taskmanager-lost", From: 2, To: 1, End: -1, Status: status}, JobManager: jm}
	}
	r := &Result{
		Seed: 7, JobID: "j", FinalState: rest.JobFinished, JobManagerRestarts: 2,
		Events: []Event{{Kind: KindJMKill, Chaos: true, Target: "jobmanager", PID: 1, Detail: "SIGKILL"}},
		Rescales: []Rescale{
			rs(1, "jobmanager", rest.RescaleCompleted), rs(2, "jobmanager", rest.RescaleInProgress),
			rs(1, "jobmanager-3", rest.RescaleInProgress),
		},
	}
	var b bytes.Buffer
	r.WriteSummary(&b)
	out := b.String()
	for _, want := range []string{
		"== events (1; JobManager restarts 2)",
		"-- jobmanager\n#1 ",
		"IN_PROGRESS (its JobManager went away before it ended)\n-- jobmanager-3\n#1 ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary lacks %q:\n%s", want, out)
		}
	}
	// The last JobManager's rescale in progress is only in progress.
	if strings.Count(out, "went away") != 1 {
		t.Errorf("want one rescale noted as left by its JobManager:\n%s", out)
	}
	one := &Result{Rescales: []Rescale{rs(1, "jobmanager", rest.RescaleCompleted)}}
	b.Reset()
	one.WriteSummary(&b)
	if strings.Contains(b.String(), "-- jobmanager") || strings.Contains(b.String(), "restarts") {
		t.Errorf("a run without JobManager restarts names its JobManager:\n%s", b.String())
	}
}

// TestSummaryPauseTotals: an unknown pause_ms (-1) counts toward neither
// the total nor the mean.
func TestSummaryPauseTotals(t *testing.T) {
	r := &Result{Rescales: []Rescale{
		{Rescale: rest.Rescale{ID: 1, Trigger: "initial", PauseMs: -1, Status: rest.RescaleCompleted}},
		{Rescale: rest.Rescale{ID: 2, PauseMs: 300, Status: rest.RescaleCompleted}},
		{Rescale: rest.Rescale{ID: 3, PauseMs: 100, Status: rest.RescaleCompleted}},
	}}
	var b bytes.Buffer
	r.WriteSummary(&b)
	if want := "pause_ms total 400, max 300, mean 200 (over the 2 rescales that measured one)"; !strings.Contains(b.String(), want) {
		t.Errorf("the summary lacks %q:\n%s", want, b.String())
	}
	b.Reset()
	(&Result{Rescales: r.Rescales[:1]}).WriteSummary(&b)
	if strings.Contains(b.String(), "pause_ms total") {
		t.Errorf("totals of no measured pause:\n%s", b.String())
	}
}
