package scheduler

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLegalEdges(t *testing.T) {
	want := map[string]bool{
		"Created->WaitingForResources": true, "Created->Canceled": true,
		"WaitingForResources->Executing": true, "WaitingForResources->Failed": true, "WaitingForResources->Canceled": true,
		"WaitingForResources->Finished": true,
		"Executing->Restarting":         true, "Executing->Canceling": true, "Executing->Finished": true, "Executing->Failed": true,
		"Restarting->Executing": true, "Restarting->WaitingForResources": true, "Restarting->Canceling": true,
		"Restarting->Canceled": true, "Restarting->Finished": true,
		"Canceling->Canceled": true, "Canceling->Finished": true,
	}
	for from := Created; from <= Canceled; from++ {
		for to := Created; to <= Canceled; to++ {
			edge := fmt.Sprintf("%v->%v", from, to)
			if got := legal(from, to); got != want[edge] {
				t.Errorf("legal(%s) = %v, want %v", edge, got, want[edge])
			}
		}
		if from.Terminal() != (from == Finished || from == Failed || from == Canceled) {
			t.Errorf("%v.Terminal() = %v", from, from.Terminal())
		}
	}
}

func TestIllegalTransitionPanicsNamingTheEdge(t *testing.T) {
	s := New(baseConfig(), testVertices, t0)
	defer func() {
		r := recover()
		msg, _ := r.(string)
		if !strings.Contains(msg, "[Created -> Finished]") {
			t.Fatalf("panic = %v, want one naming [Created -> Finished]", r)
		}
	}()
	s.becomeFinished("test")
}

func TestStateNames(t *testing.T) {
	for st, want := range map[State][2]string{
		Created: {"Created", "CREATED"}, WaitingForResources: {"WaitingForResources", "CREATED"},
		Executing: {"Executing", "RUNNING"}, Restarting: {"Restarting", "RESTARTING"},
		Canceling: {"Canceling", "CANCELLING"}, Finished: {"Finished", "FINISHED"},
		Failed: {"Failed", "FAILED"}, Canceled: {"Canceled", "CANCELED"}, State(42): {"State(42)", "UNKNOWN"},
	} {
		if got := [2]string{st.String(), st.JobStatus()}; got != want {
			t.Errorf("State %d: got %v, want %v", int(st), got, want)
		}
	}
}

func TestTimeDoesNotGoBack(t *testing.T) {
	h := run(newHarness(t, baseConfig()), start(), slots(1, TriggerJoined))
	h.take()
	h.s.Tick(t0.Add(-time.Hour))
	h.s.Tick(t0.Add(999 * time.Millisecond))
	if h.s.State() != WaitingForResources {
		t.Fatalf("state = %v, want WaitingForResources", h.s.State())
	}
}

func TestConfig(t *testing.T) {
	if err := baseConfig().Validate(); err != nil {
		t.Fatalf("Validate(base) = %v", err)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("Validate(zero) = %v", err)
	}
	bad := Config{
		DefaultParallelism:   -1,
		StabilizationTimeout: -time.Second,
		ScalingIntervalMin:   -time.Second,
		Restart:              RestartConfig{Strategy: "sometimes", Attempts: -2, Delay: -1, Multiplier: 0.5},
	}
	err := bad.Validate()
	for _, want := range []string{"parallelism.default", "resource-stabilization-timeout", "scaling-interval.min",
		`unknown strategy "sometimes"`, "attempts: -2", "negative delay", "multiplier"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(bad) = %v, want it to mention %q", err, want)
		}
	}
	d := Config{}.withDefaults()
	if d.Restart.Strategy != StrategyFixedDelay || d.Restart.Attempts != -1 || d.Restart.Delay != time.Second ||
		d.DefaultParallelism != 1 || d.Logger == nil {
		t.Fatalf("withDefaults = %+v", d)
	}
	e := Config{Restart: RestartConfig{Strategy: StrategyExponentialDelay}}.withDefaults().Restart
	if e.InitialBackoff != time.Second || e.MaxBackoff != time.Minute || e.Multiplier != 1.5 {
		t.Fatalf("exponential defaults = %+v", e)
	}
}

func TestVerticesWithoutCap(t *testing.T) {
	h := newHarness(t, baseConfig())
	h.s = New(baseConfig(), []Vertex{{ID: "a", MaxParallelism: 0}, {ID: "b", MaxParallelism: 3}}, t0)
	run(h, slots(200, TriggerJoined), start(), adv(time.Second))
	if got := h.s.Parallelism(); got["a"] != 200 || got["b"] != 3 {
		t.Fatalf("Parallelism = %v, want a:200 b:3", got)
	}
}

// TestStepRefusesWhatMeansNothing: Step refuses an event of another attempt,
// one that means nothing in the state, and any event after the end, with
// an error and no change, as the other cores' Step does.
func TestStepRefusesWhatMeansNothing(t *testing.T) {
	h := newHarness(t, baseConfig())
	run(h, start(), slots(2, TriggerJoined), adv(time.Second))
	if h.s.State() != Executing {
		t.Fatalf("state %s, want Executing", h.s.State())
	}
	if err := h.s.Step(TasksRunning{Attempt: 7}); err == nil {
		t.Fatal("an event of another attempt accepted")
	}
	if err := h.s.Step(Start{}); err == nil {
		t.Fatal("Start accepted while Executing")
	}
	if h.s.State() != Executing {
		t.Fatal("a refused event changed the scheduler")
	}
	if err := h.s.Step(TasksRunning{Attempt: h.s.Attempt()}); err != nil {
		t.Fatalf("the running attempt's event refused: %v", err)
	}
	run(h, cancelEv(), stopped(h.s.Attempt()))
	if !h.s.State().Terminal() {
		t.Fatalf("state %s after cancel, want terminal", h.s.State())
	}
	if err := h.s.Step(SlotsChanged{Available: 3, Trigger: TriggerJoined}); err == nil {
		t.Fatal("an event accepted after the end")
	}
}
