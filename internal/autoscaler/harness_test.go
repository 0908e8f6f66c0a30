package autoscaler

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestPolicies runs the trace scripts in testdata. Commands:
//
//	hpa [min=N] [max=N] [target=P] [tolerance=F] [up-tolerance=F] [down-tolerance=F]
//	    [down-window=D] [up-window=D] [up-select=S] [down-select=S] [no-behavior]
//	    [up-policies=Percent:100:15s,Pods:4:15s] [down-policies=...]
//	                          a fresh hpa policy, current=min, the clock at t0
//	tide [min=N] [max=N] [drain=D] [target=F] [up=F] [pause=D] [hold=D] [sync=D]
//	                          a fresh tide policy
//	current N                 set the current count (as if set by hand)
//	tick D                    advance the clock
//	sync [dry] [figures]      one Decide at the current time with the inputs
//	                          below; applied (Applied, current=desired) unless dry
//	  tm ID [cpu=C] [req=R] [unready] [pending] [leaving] [nocpu]
//	  tms cpu=C req=R         current TaskManagers, each using C cores
//	  total cpu=C req=R       current TaskManagers sharing C cores evenly
//	  job input=R lag=L [consumed=R] [slots=N] [pause=D] [age=D] [rescaling]
//	  vertex NAME p=N [maxp=N] busy=F rate=R
//	repeat n=N every=D [dry]  N syncs D apart with the same inputs (tick D before each but the first)
//	  ...
//	_breakpoint               stop here in a debugger
func TestPolicies(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		h := &harness{now: t0}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return h.run(t, d)
		})
	})
}

type harness struct {
	p       Policy
	now     time.Time
	current int
}

func (h *harness) run(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "hpa":
		cfg := HPAConfig{Bounds: Bounds{Min: argInt(t, d, "min", 1), Max: argInt(t, d, "max", 15)}, TargetUtilization: argInt(t, d, "target", 0),
			NoBehavior: d.HasArg("no-behavior")}
		if tol := argFloat(t, d, "tolerance", 0); tol != 0 {
			cfg.ScaleUpTolerance, cfg.ScaleDownTolerance = tol, tol
		}
		cfg.ScaleUpTolerance = argFloat(t, d, "up-tolerance", cfg.ScaleUpTolerance)
		cfg.ScaleDownTolerance = argFloat(t, d, "down-tolerance", cfg.ScaleDownTolerance)
		cfg.ScaleUp.StabilizationWindow = argDur(t, d, "up-window", 0)
		cfg.ScaleDown.StabilizationWindow = argDur(t, d, "down-window", 0)
		cfg.ScaleUp.Select = Select(arg(d, "up-select"))
		cfg.ScaleDown.Select = Select(arg(d, "down-select"))
		cfg.ScaleUp.Policies = argPolicies(t, d, "up-policies")
		cfg.ScaleDown.Policies = argPolicies(t, d, "down-policies")
		p, err := NewHPA(cfg)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		h.p, h.now, h.current = p, t0, cfg.Bounds.Min
		return ""
	case "tide":
		cfg := TideConfig{Bounds: Bounds{Min: argInt(t, d, "min", 1), Max: argInt(t, d, "max", 15)}, DrainTime: argDur(t, d, "drain", 0),
			TargetUtilization: argFloat(t, d, "target", 0), ScaleUpUtilization: argFloat(t, d, "up", 0), RescalePause: argDur(t, d, "pause", 0),
			HoldDown: argDur(t, d, "hold", 0), SyncPeriod: argDur(t, d, "sync", 0)}
		p, err := NewTide(cfg)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		h.p, h.now, h.current = p, t0, cfg.Bounds.Min
		return ""
	case "current":
		n, err := strconv.Atoi(d.CmdArgs[0].Key)
		if err != nil {
			t.Fatalf("%s: %v", d.Pos, err)
		}
		h.current = n
		return ""
	case "tick":
		h.now = h.now.Add(dur(t, d.CmdArgs[0].Key))
		return ""
	case "sync":
		return h.sync(t, d, d.HasArg("dry"), d.HasArg("figures"))
	case "repeat":
		var b strings.Builder
		every := argDur(t, d, "every", 0)
		for i := range argInt(t, d, "n", 1) {
			if i > 0 {
				h.now = h.now.Add(every)
			}
			b.WriteString(h.sync(t, d, d.HasArg("dry"), false))
		}
		return b.String()
	case "_breakpoint":
		return ""
	}
	t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	return ""
}

func (h *harness) sync(t *testing.T, d *datadriven.TestData, dry, figures bool) string {
	in := Input{Time: h.now, Current: h.current}
	for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		kv := map[string]string{}
		for _, x := range f[1:] {
			k, v, _ := strings.Cut(x, "=")
			kv[k] = v
		}
		num := func(k string, def float64) float64 {
			s, ok := kv[k]
			if !ok {
				return def
			}
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%s: %s=%q: %v", d.Pos, k, s, err)
			}
			return x
		}
		has := func(k string) bool { _, ok := kv[k]; return ok }
		switch f[0] {
		case "tm":
			tm := TaskManager{ID: f[1], CPU: num("cpu", 0), HasCPU: !has("nocpu"), Request: num("req", 0.25), Ready: !has("unready")}
			if has("pending") {
				tm.Phase = Pending
			}
			if has("leaving") {
				tm.Phase = Leaving
			}
			in.TaskManagers = append(in.TaskManagers, tm)
		case "tms", "total":
			cpu := num("cpu", 0)
			if f[0] == "total" && h.current > 0 {
				cpu /= float64(h.current)
			}
			for i := range h.current {
				in.TaskManagers = append(in.TaskManagers, TaskManager{ID: fmt.Sprintf("tm%d", i+1), CPU: cpu, HasCPU: true, Request: num("req", 0.25), Ready: true})
			}
		case "job":
			age := time.Duration(num("age", 0) * float64(time.Second))
			in.Job = &JobMetrics{At: h.now.Add(-age), InputRate: num("input", 0), Lag: num("lag", 0), ConsumedRate: num("consumed", 0),
				SlotsPerTaskManager: int(num("slots", 1)), RescalePause: time.Duration(num("pause", 0) * float64(time.Second)), Rescaling: has("rescaling")}
		case "vertex":
			if in.Job == nil {
				t.Fatalf("%s: vertex before job", d.Pos)
			}
			p := int(num("p", 0))
			if p == 0 {
				p = h.current * in.Job.SlotsPerTaskManager
			}
			in.Job.Vertices = append(in.Job.Vertices, Vertex{Name: f[1], Parallelism: p, MaxParallelism: int(num("maxp", 0)),
				Busy: num("busy", 0), Rate: num("rate", 0)})
		default:
			t.Fatalf("%s: unknown input line %q", d.Pos, line)
		}
	}
	dec, err := h.p.Decide(in)
	if err != nil {
		return fmt.Sprintf("+%v error: %v\n", h.now.Sub(t0), err)
	}
	if dec.Change != (dec.Desired != dec.Current) {
		t.Fatalf("%s: Change=%v with %d->%d", d.Pos, dec.Change, dec.Current, dec.Desired)
	}
	out := fmt.Sprintf("+%v %s\n", h.now.Sub(t0), dec)
	if figures {
		for _, f := range dec.Figures {
			out += fmt.Sprintf("  %s=%.4g\n", f.Name, f.Value)
		}
	}
	if dec.Change && !dry {
		h.p.Applied(dec)
		h.current = dec.Desired
	}
	return out
}

func arg(d *datadriven.TestData, k string) string {
	for _, a := range d.CmdArgs {
		if a.Key == k && len(a.Vals) > 0 {
			return strings.Join(a.Vals, ",")
		}
	}
	return ""
}

func argInt(t *testing.T, d *datadriven.TestData, k string, def int) int {
	s := arg(d, k)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s: %s=%q: %v", d.Pos, k, s, err)
	}
	return n
}

func argFloat(t *testing.T, d *datadriven.TestData, k string, def float64) float64 {
	s := arg(d, k)
	if s == "" {
		return def
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%s: %s=%q: %v", d.Pos, k, s, err)
	}
	return x
}

func argDur(t *testing.T, d *datadriven.TestData, k string, def time.Duration) time.Duration {
	s := arg(d, k)
	if s == "" {
		return def
	}
	return dur(t, s)
}

func dur(t *testing.T, s string) time.Duration {
	x, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("duration %q: %v", s, err)
	}
	return x
}

// argPolicies parses Type:Value:Period,... .
func argPolicies(t *testing.T, d *datadriven.TestData, k string) []ScalingPolicy {
	s := arg(d, k)
	if s == "" {
		return nil
	}
	var ps []ScalingPolicy
	for _, x := range strings.Split(s, ",") {
		f := strings.Split(x, ":")
		if len(f) != 3 {
			t.Fatalf("%s: policy %q: want Type:Value:Period", d.Pos, x)
		}
		v, err := strconv.Atoi(f[1])
		if err != nil {
			t.Fatalf("%s: policy %q: %v", d.Pos, x, err)
		}
		ps = append(ps, ScalingPolicy{Type: ScalingPolicyType(f[0]), Value: v, Period: dur(t, f[2])})
	}
	return ps
}
