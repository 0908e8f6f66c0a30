package attempt

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/scheduler"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestLifecycle runs the trace scripts in testdata. Each command steps the
// Lifecycle and prints the Ready it then has (and Advances it), unless it
// says noready: the next command's output then shows both. Commands:
//
//	new [inputs]                     a fresh Lifecycle (HasInputs with inputs)
//	deploy attempt=N [restored=C] [position=P]
//	  VERTEX/SUBTASK TM [source]     one line per task
//	status tm=TM attempt=N task=V/S state=S [done] [first=NS] [last=NS] [pos=P] [error=E] [domain=D]
//	ack attempt=N task=V/S pos=P
//	gone tm=TM [leaving] [reason=R]
//	stop attempt=N
//	job-ended
//	trigger attempt=N checkpoint=C kind=K [for=N] sources=V/S,...
//	ended attempt=N checkpoint=C kind=K [for=N] [failure=F]
//	refused attempt=N
//	tick DURATION                    advance the clock
//	rescale-started id=N trigger=T from=F to=T [failed]
//	rescale-ended id=N trigger=T from=F to=T [failed] [took=DURATION]
//	rescales                         the rescale history
//	corrupt checkpoint=C             Corrupt(C)
//	state                            Current, Running, HostsLive of each TM
//
// for= is the attempt a request is for (the Request's Attempt), default
// the attempt.
func TestLifecycle(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		h := &harness{now: t0}
		h.reset(false)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return h.run(t, d)
		})
	})
}

type harness struct {
	l   *Lifecycle
	now time.Time
	tms []string
}

func (h *harness) reset(inputs bool) {
	h.l = New(Config{HasInputs: inputs}, h.now)
	h.tms = nil
}

func (h *harness) run(t *testing.T, d *datadriven.TestData) string {
	var err error
	noready := d.HasArg("noready")
	switch d.Cmd {
	case "new":
		h.reset(d.HasArg("inputs"))
		return ""
	case "deploy":
		dep := Deployed{Attempt: h.attempt(t, d, "attempt"), Restored: checkpoint.ID(h.u64(t, d, "restored")), RestoredPosition: int64(h.u64(t, d, "position"))}
		for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				t.Fatalf("%s: task line %q: want VERTEX/SUBTASK TM [source]", d.Pos, line)
			}
			dep.Tasks = append(dep.Tasks, Task{Key: key(t, f[0]), TaskManager: f[1], Source: len(f) > 2 && f[2] == "source"})
			if !slices.Contains(h.tms, f[1]) {
				h.tms = append(h.tms, f[1])
			}
		}
		err = h.l.Step(dep)
	case "status":
		st := Status{TaskManager: h.str(d, "tm"), Attempt: h.attempt(t, d, "attempt"), Task: key(t, h.str(d, "task")),
			State: rpc.TaskState(h.str(d, "state")), SourceDone: d.HasArg("done"), FirstRecord: int64(h.u64(t, d, "first")),
			LastRecord: int64(h.u64(t, d, "last")), SourcePosition: int64(h.u64(t, d, "pos")), Error: h.str(d, "error"),
			Domain: rpc.FailureDomain(h.str(d, "domain"))}
		err = h.l.Step(st)
	case "ack":
		err = h.l.Step(Acked{Attempt: h.attempt(t, d, "attempt"), Task: key(t, h.str(d, "task")), SourcePosition: int64(h.u64(t, d, "pos"))})
	case "gone":
		err = h.l.Step(TaskManagerGone{TaskManager: h.str(d, "tm"), DataAddr: "addr-" + h.str(d, "tm"), Leaving: d.HasArg("leaving"), Reason: h.str(d, "reason")})
	case "stop":
		err = h.l.Step(Stop{Attempt: h.attempt(t, d, "attempt")})
	case "job-ended":
		err = h.l.Step(JobEnded{})
	case "trigger":
		var sources []exec.TaskKey
		for _, s := range strings.Split(h.str(d, "sources"), ",") {
			sources = append(sources, key(t, s))
		}
		err = h.l.Step(Triggered{Attempt: h.attempt(t, d, "attempt"), Checkpoint: checkpoint.ID(h.u64(t, d, "checkpoint")), Request: h.request(t, d), Sources: sources})
	case "ended":
		err = h.l.Step(CheckpointEnded{Attempt: h.attempt(t, d, "attempt"), Checkpoint: checkpoint.ID(h.u64(t, d, "checkpoint")), Request: h.request(t, d), Failure: h.str(d, "failure")})
	case "refused":
		err = h.l.Step(FinalRefused{Attempt: h.attempt(t, d, "attempt")})
	case "tick":
		dur, perr := time.ParseDuration(d.CmdArgs[0].Key)
		if perr != nil {
			t.Fatalf("%s: %v", d.Pos, perr)
		}
		h.now = h.now.Add(dur)
		h.l.Tick(h.now)
	case "rescale-started", "rescale-ended":
		rec := scheduler.RescaleRecord{ID: int(h.u64(t, d, "id")), Trigger: scheduler.Trigger(h.str(d, "trigger")),
			From: int(h.u64(t, d, "from")), To: int(h.u64(t, d, "to")), RescaleCheckpointFailed: d.HasArg("failed"), Start: h.now}
		if d.Cmd == "rescale-started" {
			err = h.l.Step(RescaleStarted{Record: rec})
		} else {
			if took := h.str(d, "took"); took != "" {
				dur, perr := time.ParseDuration(took)
				if perr != nil {
					t.Fatalf("%s: %v", d.Pos, perr)
				}
				rec.End = rec.Start.Add(dur)
			}
			err = h.l.Step(RescaleEnded{Record: rec})
		}
	case "rescales":
		var b strings.Builder
		for _, r := range h.l.Rescales() {
			fmt.Fprintf(&b, "rescale %d %s %d->%d %s restored=%d pause_ms=%d reprocessed=%d", r.Record.ID, r.Trigger(), r.Record.From, r.Record.To,
				r.Status(), r.Restored, r.PauseMs(), r.Reprocessed())
			if r.Message != "" {
				fmt.Fprintf(&b, " (%s)", r.Message)
			}
			b.WriteString("\n")
		}
		return b.String()
	case "corrupt":
		why, ok := h.l.Corrupt(checkpoint.ID(h.u64(t, d, "checkpoint")))
		return fmt.Sprintf("%v %s\n", ok, why)
	case "state":
		var b strings.Builder
		fmt.Fprintf(&b, "current=%d started=%v running=%v", h.l.Current(), h.l.Started(), h.l.Running())
		for _, tm := range h.tms {
			fmt.Fprintf(&b, " %s:%v", tm, h.l.HostsLive(tm))
		}
		if at, ok := h.l.Deadline(); ok {
			fmt.Fprintf(&b, " deadline=+%v", at.Sub(h.now))
		}
		return b.String() + "\n"
	default:
		t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	}
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
	}
	if !noready {
		for h.l.HasReady() {
			rd := h.l.Ready()
			h.l.Advance(rd)
			b.WriteString(formatReady(rd))
		}
	}
	return b.String()
}

func (h *harness) request(t *testing.T, d *datadriven.TestData) checkpoint.Request {
	kinds := map[string]checkpoint.Kind{"periodic": checkpoint.KindPeriodic, "savepoint": checkpoint.KindSavepoint,
		"stop-with-savepoint": checkpoint.KindStopWithSavepoint, "rescale": checkpoint.KindRescale, "final": checkpoint.KindFinal}
	k, ok := kinds[h.str(d, "kind")]
	if !ok {
		t.Fatalf("%s: kind %q", d.Pos, h.str(d, "kind"))
	}
	r := checkpoint.Request{Kind: k}
	if k == checkpoint.KindRescale || k == checkpoint.KindFinal {
		r.Attempt = h.attempt(t, d, "attempt")
		if d.HasArg("for") {
			r.Attempt = h.attempt(t, d, "for")
		}
	}
	return r
}

func (h *harness) str(d *datadriven.TestData, k string) string {
	for _, a := range d.CmdArgs {
		if a.Key == k && len(a.Vals) > 0 {
			return strings.Join(a.Vals, ",")
		}
	}
	return ""
}

func (h *harness) attempt(t *testing.T, d *datadriven.TestData, k string) exec.Attempt {
	return exec.Attempt(h.u64(t, d, k))
}

func (h *harness) u64(t *testing.T, d *datadriven.TestData, k string) uint64 {
	s := h.str(d, k)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s: %s=%q: %v", d.Pos, k, s, err)
	}
	return n
}

func key(t *testing.T, s string) exec.TaskKey {
	v, sub, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(sub)
	if !ok || err != nil {
		t.Fatalf("task %q: want VERTEX/SUBTASK", s)
	}
	return exec.TaskKey{Vertex: exec.VertexID(v), Subtask: n}
}

func keys(ks []exec.TaskKey) string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = fmt.Sprintf("%s/%d", k.Vertex, k.Subtask)
	}
	return strings.Join(out, ",")
}

// formatReady prints a Ready one line per piece of work, in the order the
// shell performs it.
func formatReady(rd Ready) string {
	var b strings.Builder
	for _, f := range rd.Failures {
		task := "-"
		if f.Task != nil {
			task = keys([]exec.TaskKey{*f.Task})
		}
		fmt.Fprintf(&b, "failure attempt=%d name=%q task=%s tm=%q domain=%s: %s\n", f.Attempt, f.Name, task, f.TaskManager, f.Domain, f.Reason)
	}
	for _, ev := range rd.Coordinator {
		switch e := ev.(type) {
		case checkpoint.AttemptStarted:
			fmt.Fprintf(&b, "coord attempt-started %d sources=%s tasks=%s\n", e.Attempt, keys(e.Sources), keys(e.Tasks))
		case checkpoint.AttemptStopped:
			fmt.Fprintf(&b, "coord attempt-stopped %d\n", e.Attempt)
		case checkpoint.TriggerRequest:
			fmt.Fprintf(&b, "coord trigger-request %s\n", e.Request)
		default:
			fmt.Fprintf(&b, "coord %T%+v\n", ev, ev)
		}
	}
	for _, m := range rd.Messages {
		fmt.Fprintf(&b, "msg %s %s attempt=%d", m.To, m.Kind, m.Attempt)
		if m.Checkpoint != 0 {
			fmt.Fprintf(&b, " checkpoint=%d", m.Checkpoint)
		}
		if m.Kind == Trigger {
			fmt.Fprintf(&b, " tasks=%s savepoint=%v final=%v halt=%v", keys(m.Tasks), m.Savepoint, m.Final, m.Halt)
		}
		b.WriteString("\n")
	}
	for _, ev := range rd.Scheduler {
		switch e := ev.(type) {
		case scheduler.TaskFailed:
			fmt.Fprintf(&b, "sched task-failed %d retryable=%v trigger=%s: %s\n", e.Attempt, e.Retryable, e.Trigger, e.Reason)
		default:
			fmt.Fprintf(&b, "sched %T%+v\n", ev, ev)
		}
	}
	return b.String()
}
