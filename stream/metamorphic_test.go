package stream_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tide-stream/tide/tidetest"
)

var (
	metamorphicSeed = flag.Uint64("metamorphic.seed", 0, "run TestMetamorphic with this seed only")
	metamorphicRuns = flag.Int("metamorphic.runs", 4, "seeds TestMetamorphic draws when no seed is given")
)

// TestMetamorphic runs one keyed workload under configurations drawn from a
// seed — TaskManagers and slots, checkpoint interval, network buffer size and
// credits, local recovery on or off, and a sequence of joins, leaves and
// kills at random moments — and requires the output of an undisturbed run.
// A failure prints its seed; replay it with -metamorphic.seed.
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
			runMetamorphic(t, seed)
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
	t.Logf("seed %d (replay: go test ./stream -run TestMetamorphic -metamorphic.seed %d): %d taskmanagers, %v, events %v",
		seed, seed, tms, dyn, events)

	vs := numbers(10000)
	sink := tidetest.NewSink[string]()
	c := tidetest.Start(t, tidetest.Config{
		Job:          countSumJob(vs, 5000, sink),
		TaskManagers: tms,
		Dynamic:      dyn,
	})
	c.WaitState(tidetest.Running, timeout)
	// The TaskManagers this run has not stopped: a killed one takes a
	// moment to be gone, so the run keeps its own list.
	live := c.TaskManagers()
	for _, ev := range events {
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
			live[i].Kill()
		}
		live = slices.Delete(live, i, i+1)
	}
	if len(live) == 0 {
		c.AddTaskManager()
	}
	c.WaitState(tidetest.Finished, 2*timeout)
	t.Logf("seed %d", seed)
	requireUndisturbed(t, sink, vs)
}
