package scheduler

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// testVertices: a source capped at 2 and a map capped at 8, so a job uses at
// most 8 slots.
var testVertices = []Vertex{{ID: "source", MaxParallelism: 2}, {ID: "map", MaxParallelism: 8}}

// baseConfig is reactive, 1s stabilization, rescale on checkpoint, fixed
// delay 1s unlimited.
func baseConfig() Config {
	return Config{
		Reactive:             true,
		DefaultParallelism:   1,
		StabilizationTimeout: time.Second,
		ResourceWaitTimeout:  -1,
		RescaleOnCheckpoint:  true,
		Restart:              RestartConfig{Strategy: StrategyFixedDelay, Attempts: -1, Delay: time.Second},
	}
}

// harness drives a Scheduler with a fake clock and records its work as a
// readable trace.
type harness struct {
	t     *testing.T
	s     *Scheduler
	now   time.Time
	log   bytes.Buffer
	trace []string
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, now: t0}
	cfg.Logger = slog.New(slog.NewTextHandler(&h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.s = New(cfg, testVertices, t0)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("scheduler log:\n%s", h.log.String())
		}
	})
	return h
}

// op is one scripted action.
type op func(h *harness)

func step(ev Event) op { return func(h *harness) { h.s.Step(ev); h.drain() } }

// adv advances the fake clock by d and ticks.
func adv(d time.Duration) op {
	return func(h *harness) { h.now = h.now.Add(d); h.s.Tick(h.now); h.drain() }
}

func start() op                    { return step(Start{}) }
func slots(n int, tr Trigger) op   { return step(SlotsChanged{Available: n, Trigger: tr}) }
func running(a exec.Attempt) op    { return step(TasksRunning{Attempt: a}) }
func stopped(a exec.Attempt) op    { return step(TasksStopped{Attempt: a}) }
func finishedEv(a exec.Attempt) op { return step(TasksFinished{Attempt: a}) }
func ckptDone(a exec.Attempt, id checkpoint.ID) op {
	return step(RescaleCheckpointDone{Attempt: a, Checkpoint: id})
}
func ckptFailed(a exec.Attempt) op {
	return step(RescaleCheckpointDone{Attempt: a, Err: errors.New("declined")})
}
func taskFailed(a exec.Attempt, tr Trigger) op {
	return step(TaskFailed{Attempt: a, Reason: "boom", Retryable: true, Trigger: tr})
}
func fatalFailure(a exec.Attempt) op {
	return step(TaskFailed{Attempt: a, Reason: "bad", Retryable: false})
}
func cancelEv() op { return step(Cancel{}) }
func manual() op   { return step(Rescale{}) }
func run(h *harness, ops ...op) *harness {
	for _, o := range ops {
		o(h)
	}
	return h
}

// drain takes every pending Ready, renders it into the trace and advances.
func (h *harness) drain() {
	for h.s.HasReady() {
		rd := h.s.Ready()
		h.trace = append(h.trace, render(h.now.Sub(t0), rd)...)
		h.s.Advance(rd)
	}
}

// take returns the trace so far and clears it.
func (h *harness) take() []string {
	tr := h.trace
	h.trace = nil
	return tr
}

// expect checks the trace since the last take.
func (h *harness) expect(want ...string) {
	h.t.Helper()
	if diff := cmp.Diff(want, h.take()); diff != "" {
		h.t.Fatalf("trace mismatch (-want +got):\n%s", diff)
	}
}

func (h *harness) expectState(want State) {
	h.t.Helper()
	if got := h.s.State(); got != want {
		h.t.Fatalf("state = %v, want %v", got, want)
	}
}

// render turns a Ready into trace lines, in the Ready's field order.
func render(at time.Duration, rd Ready) []string {
	var out []string
	add := func(format string, args ...any) {
		out = append(out, fmt.Sprintf("%v ", at)+fmt.Sprintf(format, args...))
	}
	if t := rd.Transition; t != nil {
		add("%v -> %v", t.From, t.To)
	}
	if c := rd.TriggerCheckpoint; c != nil {
		add("checkpoint attempt=%d", c.Attempt)
	}
	if rd.Stop != nil {
		add("stop attempt=%d", *rd.Stop)
	}
	if d := rd.Deploy; d != nil {
		add("deploy attempt=%d slots=%d %s restore=%d", d.Attempt, d.Slots, renderParallelism(d.Parallelism), d.RestoreFrom)
	}
	if r := rd.RescaleStarted; r != nil {
		add("rescale-started #%d %s %d->%d", r.ID, r.Trigger, r.From, r.To)
	}
	if r := rd.RescaleEnded; r != nil {
		failed := ""
		if r.RescaleCheckpointFailed {
			failed = " checkpoint-failed"
		}
		add("rescale-ended #%d %s %d->%d ckpt=%d%s pause=%v", r.ID, r.Trigger, r.From, r.To, r.Checkpoint, failed, r.End.Sub(r.Start))
	}
	return out
}

func renderParallelism(p map[exec.VertexID]int) string {
	var parts []string
	for id, n := range p {
		parts = append(parts, fmt.Sprintf("%s:%d", id, n))
	}
	slices.Sort(parts)
	return "[" + strings.Join(parts, " ") + "]"
}
