package stream_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

var (
	metamorphicSeed = flag.Uint64("metamorphic.seed", 0, "run TestMetamorphic with this seed only")
	metamorphicRuns = flag.Int("metamorphic.runs", 20, "seeds TestMetamorphic draws when no seed is given")
)

// TestMetamorphic runs one keyed workload under configurations drawn from a
// seed — TaskManagers and slots, checkpoint interval, network buffer size and
// credits, local recovery on or off, and a sequence of joins, leaves and
// crashes at random moments — and requires the output of an undisturbed run.
// A failure prints its seed; replay it with -metamorphic.seed.
//
// Each run is a simulated cluster in a synctest bubble (tidetest's
// Simulated): virtual time, an in-memory network with seeded latency, one
// in-memory checkpoint store. A seed reproduces exactly the configuration,
// the disturbances and their moments in virtual time, and each
// connection's latency. It does not fix the interleaving of goroutines
// runnable at the same virtual instant, which is the Go scheduler's: a
// replay runs the same scenario, not necessarily the same execution, so
// replay a failing seed a few times (-count) if it does not fail at once.
func TestMetamorphic(t *testing.T) {
	seeds := []uint64{*metamorphicSeed}
	if *metamorphicSeed == 0 {
		seeds = seeds[:0]
		for range *metamorphicRuns {
			seeds = append(seeds, rand.Uint64()>>1+1)
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) { runMetamorphic(t, seed) })
		})
	}
}

func runMetamorphic(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pick := func(vs ...string) string { return vs[r.IntN(len(vs))] }
	dyn := map[string]string{
		"taskmanager.numberOfTaskSlots":                                pick("1", "1", "2"),
		"taskmanager.network.buffer-size":                              pick("256b", "4kb", "32kb"),
		"taskmanager.network.credits-per-channel":                      pick("1", "2", "4", "8"),
		"state.backend.local-recovery":                                 pick("true", "false"),
		"execution.checkpointing.interval":                             pick("50ms", "150ms", "400ms"),
		"jobmanager.adaptive-scheduler.rescale-on-checkpoint":          pick("true", "true", "false"),
		"jobmanager.adaptive-scheduler.resource-stabilization-timeout": pick("10ms", "100ms", "300ms"),
	}
	tms := 1 + r.IntN(3)
	events := make([]string, 1+r.IntN(3))
	for i := range events {
		events[i] = pick("join", "leave", "kill")
	}
	// The draws the simulation added come from a second source, so that a
	// seed still draws the configuration and events it drew on real time.
	rx := rand.New(rand.NewPCG(seed^0x3c6ef372fe94f82b, seed))
	latency := time.Duration(rx.IntN(3)) * time.Millisecond
	fault := []string{"none", "partition", "jobmanager-restart", "write-fault", "read-fault"}[rx.IntN(5)]
	faultAt := rx.IntN(len(events) + 1)
	// The job's kind comes from a third source, for the same reason: a
	// keyed count-and-sum in processing order, or tumbling event-time
	// windows over records 300ms out of order (state and event-time timers,
	// watermarks across rescales and restores).
	kind := []string{"count-sum", "windows"}[rand.New(rand.NewPCG(seed^0x78dde6e5fd29f05b, seed)).IntN(2)]
	// A third of the count-sum draws read instead a source whose splits the
	// JobManager discovers while the job runs (a fourth source).
	if kind == "count-sum" && rand.New(rand.NewPCG(seed^0x510e527fade682d1, seed)).IntN(3) == 0 {
		kind = "enumerated"
	}
	t.Logf("seed %d (replay: go test ./stream -run TestMetamorphic -metamorphic.seed %d): %s job, %d taskmanagers, %v, events %v, latency up to %v, %s before event %d",
		seed, seed, kind, tms, dyn, events, latency, fault, faultAt)

	vs := numbers(10000)
	evs := disordered(6000, 16, 1, 300, seed)
	sink := tidetest.NewSink[string]()
	job := countSumJob(vs, 5000, sink)
	g := &growing{n: 8, per: 2000, every: 200 * time.Millisecond}
	switch kind {
	case "windows":
		job = windowJob(evs, 300*time.Millisecond, 3000, sink)
		dyn["pipeline.auto-watermark-interval"] = "10ms"
	case "enumerated":
		job = func(env *stream.Env, _ []string) error {
			sink.To(stream.Map(stream.FromSource(env, g.source()), "format", itoa), "collect")
			return nil
		}
	}
	c := tidetest.Start(t, tidetest.Config{
		Job:          job,
		TaskManagers: tms,
		Dynamic:      dyn,
		Simulated:    true,
		Latency:      latency,
		Seed:         seed,
	})
	c.WaitState(tidetest.Running, timeout)
	// The TaskManagers this run has not stopped: a killed one takes a
	// moment to be gone, so the run keeps its own list.
	live := c.TaskManagers()
	for k, ev := range append(events, "") {
		if k == faultAt && fault != "none" {
			time.Sleep(time.Duration(100+rx.IntN(400)) * time.Millisecond)
			disturb(t, c, rx, live, fault)
		}
		if ev == "" {
			break
		}
		time.Sleep(time.Duration(100+r.IntN(400)) * time.Millisecond)
		if c.State() != tidetest.Running {
			break
		}
		if ev == "join" || len(live) <= 1 {
			live = append(live, c.AddTaskManager())
			continue
		}
		i := r.IntN(len(live))
		if ev == "leave" {
			live[i].Leave()
		} else {
			live[i].Crash()
		}
		live = slices.Delete(live, i, i+1)
	}
	if len(live) == 0 {
		c.AddTaskManager()
	}
	c.WaitState(tidetest.Finished, 4*timeout)
	t.Logf("seed %d", seed)
	if kind == "enumerated" {
		got, want := sink.Values(), g.want()
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("enumerated splits differ: got %d records, want %d\n%s", len(got), len(want), diff(got, want))
		}
		return
	}
	if kind == "windows" {
		got, want := sink.Values(), windowWant(evs)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("windows differ from the reference: got %d lines, want %d\n%s", len(got), len(want), diff(got, want))
		}
		return
	}
	requireUndisturbed(t, sink, vs)
}

// disturb injects one of the faults only a simulation can: a TaskManager
// partitioned away for longer than the heartbeat timeout and then healed (a
// zombie), a JobManager restart, the next checkpoint write failing, or the
// next one or two reads of checkpoint data failing.
func disturb(t *testing.T, c *tidetest.Cluster, rx *rand.Rand, live []*tidetest.TM, fault string) {
	switch fault {
	case "partition":
		if len(live) == 0 {
			return
		}
		tm := live[rx.IntN(len(live))]
		tm.Partition()
		// Longer than heartbeat.timeout (production's 50s; virtual time),
		// so that the JobManager declares it lost while it runs on.
		time.Sleep(time.Duration(52+rx.IntN(8)) * time.Second)
		tm.Heal()
	case "jobmanager-restart":
		c.RestartJobManager()
	case "write-fault":
		c.StorageFaults().FailNextWrite(c.JobID()+"/chk-", nil)
	case "read-fault":
		c.StorageFaults().Inject(blob.Fault{Ops: blob.OpRead, Prefix: c.JobID() + "/chk-", Times: 1 + rx.IntN(2)})
	default:
		t.Fatalf("unknown fault %q", fault)
	}
}
