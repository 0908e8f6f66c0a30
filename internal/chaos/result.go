package chaos

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/verify"
)

// Event is one entry of a run's timeline.
type Event struct {
	// At is the time since the run started.
	At time.Duration
	// Kind is the event, or KindCont, KindExit, KindSetup for observations.
	Kind Kind
	// Chaos is set for the events drawn at random (those Config.Events counts).
	Chaos bool
	// Target names the process, e.g. "taskmanager-3"; PID is its pid.
	Target string
	PID    int
	// Detail adds what is worth knowing: a pause's length, an exit status.
	Detail string
}

func (e Event) String() string {
	var b strings.Builder
	if e.At != 0 {
		fmt.Fprintf(&b, "%8.3fs  ", e.At.Seconds())
	}
	fmt.Fprintf(&b, "%-9s", e.Kind)
	if e.Target != "" {
		fmt.Fprintf(&b, " %s", e.Target)
		if e.PID != 0 {
			fmt.Fprintf(&b, " (pid %d)", e.PID)
		}
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	return b.String()
}

// Result is the outcome of a chaos run.
type Result struct {
	// Seed is the seed of the run's random source.
	Seed uint64
	// Dir holds the logs, TIDE_HOME and the job's output.
	Dir string
	// Config is the configuration the run used, defaults filled in.
	Config Config
	// JobID is the job's id; FinalState the last state the REST API showed.
	JobID      string
	FinalState rest.JobState
	// Duration is the run's wall time, from the JobManager's start to the
	// check.
	Duration time.Duration
	// Events is the timeline: every chaos event and observation, in order.
	Events []Event
	// Rescales are the job's rescales as GET /jobs/:id/rescales of each
	// JobManager last showed them, the JobManagers in the order they ran (a
	// JobManager started again lists only its own).
	Rescales []Rescale
	// JobManagerRestarts counts the JobManagers started again after a
	// jm-kill or jm-stop.
	JobManagerRestarts int
	// Report is the Verify checker's report, nil if the check did not run.
	Report *verify.Report
	// Anomalies lists what went wrong besides the verdict: a process that
	// exited on its own, a JobManager that exited before the job finished,
	// a failed REST poll streak.
	Anomalies []string
	// Failure says why the run failed; "" when it passed.
	Failure string
}

// Rescale is one of the job's rescales and the JobManager that ran it.
type Rescale struct {
	rest.Rescale
	// JobManager names the JobManager process whose REST API showed the
	// rescale: "jobmanager", then "jobmanager-2", … (see jmName). Each
	// numbers its rescales from 1; a rescale its JobManager did not live to
	// end stays IN_PROGRESS.
	JobManager string
}

// jmName names the JobManager process started n-th: "jobmanager" for the
// first, "jobmanager-2" for the second, …; it is also the name of its log.
func jmName(n int) string {
	if n <= 1 {
		return "jobmanager"
	}
	return fmt.Sprintf("jobmanager-%d", n)
}

// Passed reports whether the job finished and its output checked OK.
func (r *Result) Passed() bool {
	return r.Failure == "" && r.FinalState == rest.JobFinished && r.Report != nil && r.Report.OK()
}

// WriteSummary writes the verdict, the checker's report, the timeline and
// the rescales.
func (r *Result) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "\n== verify\n")
	if r.Report != nil {
		fmt.Fprint(w, r.Report.String())
		if !strings.HasSuffix(r.Report.String(), "\n") {
			fmt.Fprintln(w)
		}
	} else {
		fmt.Fprintln(w, "not run")
	}
	fmt.Fprintf(w, "\n== events (%d", len(r.Events))
	if r.JobManagerRestarts > 0 {
		fmt.Fprintf(w, "; JobManager restarts %d", r.JobManagerRestarts)
	}
	fmt.Fprintln(w, ")")
	for _, e := range r.Events {
		fmt.Fprintln(w, e.String())
	}
	fmt.Fprintf(w, "\n== rescales (%d)\n", len(r.Rescales))
	// pause_ms is -1 where it is unknown (no records before or after: a
	// JobManager's first deployment, a rescale in progress).
	var total, worst, paused int64
	lastJM := jmName(r.JobManagerRestarts + 1)
	for i, rs := range r.Rescales {
		if r.JobManagerRestarts > 0 && (i == 0 || rs.JobManager != r.Rescales[i-1].JobManager) {
			fmt.Fprintf(w, "-- %s\n", rs.JobManager)
		}
		end := "-"
		if rs.End > 0 {
			end = fmt.Sprintf("%dms", rs.End-rs.Start)
		}
		fmt.Fprintf(w, "#%-3d %-20s %d -> %d  checkpoint %-4d pause_ms %-6d reprocessed %-7d took %-8s %s",
			rs.ID, rs.Trigger, rs.From, rs.To, rs.Checkpoint, rs.PauseMs, rs.ReprocessedRecords, end, rs.Status)
		if rs.Message != "" {
			fmt.Fprintf(w, " (%s)", rs.Message)
		}
		if rs.Status == rest.RescaleInProgress && rs.JobManager != lastJM {
			fmt.Fprint(w, " (its JobManager went away before it ended)")
		}
		fmt.Fprintln(w)
		if rs.PauseMs >= 0 {
			total += rs.PauseMs
			worst = max(worst, rs.PauseMs)
			paused++
		}
	}
	if paused > 0 {
		fmt.Fprintf(w, "pause_ms total %d, max %d, mean %d (over the %d rescales that measured one)\n", total, worst, total/paused, paused)
	}
	if len(r.Anomalies) > 0 {
		fmt.Fprintf(w, "\n== anomalies (%d)\n", len(r.Anomalies))
		for _, a := range r.Anomalies {
			fmt.Fprintln(w, a)
		}
	}
	verdict := "PASSED"
	if !r.Passed() {
		verdict = "FAILED"
		if r.Failure != "" {
			verdict += ": " + r.Failure
		}
	}
	fmt.Fprintf(w, "\nchaos seed %d: %s in %s (job %s %s); logs in %s\n",
		r.Seed, verdict, r.Duration.Round(100*time.Millisecond), r.JobID, r.FinalState, r.Dir)
}
