package stream_test

import (
	"flag"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/pki"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/tidetest"
)

var simSeed = flag.Uint64("sim.seed", 0, "run the TestSim scenarios with this seed only")

// The TestSim scenarios run a whole cluster — JobManager, TaskManagers,
// tasks — in one synctest bubble on virtual time (tidetest's Simulated),
// disturb it once (a TaskManager joins, crashes, leaves, becomes a zombie;
// the JobManager restarts; the checkpoint store fails a write or a read)
// and require the output of an undisturbed run: every record exactly once.
//
// A seed draws when the disturbance happens (in virtual time), which
// TaskManager it hits and each connection's latency; a failure prints it,
// and -sim.seed replays it. Virtual time makes that schedule exact; the
// order in which goroutines runnable at the same instant run is the Go
// scheduler's, so a replay repeats the scenario, not every interleaving.

// simulate runs scenario in a synctest bubble with a seed (-sim.seed, or a
// fresh one) and a source drawn from it.
func simulate(t *testing.T, scenario func(t *testing.T, r *rand.Rand, seed uint64)) {
	seed := *simSeed
	if seed == 0 {
		seed = rand.Uint64()>>1 + 1
	}
	t.Logf("seed %d (replay: go test ./stream -run '%s$' -sim.seed %d)", seed, t.Name(), seed)
	synctest.Test(t, func(t *testing.T) {
		scenario(t, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seed)
	})
	if t.Failed() {
		t.Logf("failed with seed %d", seed)
	}
}

// simJob starts a simulated cluster running a keyed count-and-sum over n
// numbers at rate records/s, checkpointing every 100ms, with up to 2ms of
// seeded latency per connection.
func simJob(t *testing.T, r *rand.Rand, seed uint64, n int, rate float64, tms int, dyn map[string]string) (*tidetest.Cluster, *tidetest.Sink[string], []int64) {
	vs := numbers(n)
	sink := tidetest.NewSink[string]()
	c := tidetest.Start(t, tidetest.Config{
		Job:                countSumJob(vs, rate, sink),
		TaskManagers:       tms,
		CheckpointInterval: 100 * time.Millisecond,
		Dynamic:            dyn,
		Simulated:          true,
		Latency:            time.Duration(r.IntN(3)) * time.Millisecond,
		Seed:               seed,
	})
	return c, sink, vs
}

// pause sleeps 100-500ms of virtual time, drawn from r: when the scenario's
// disturbance happens.
func pause(r *rand.Rand) { time.Sleep(time.Duration(100+r.IntN(400)) * time.Millisecond) }

// requireRescale fails unless the job had a completed rescale with trigger.
func requireRescale(t *testing.T, c *tidetest.Cluster, trigger rest.RescaleTrigger) {
	t.Helper()
	for _, r := range c.Rescales() {
		if r.Trigger == trigger && r.Status == rest.RescaleCompleted {
			return
		}
	}
	t.Errorf("no completed %s rescale: %+v", trigger, c.Rescales())
}

// requireUnfinished fails if the job had committed every record already:
// the disturbance came too late to test anything.
func requireUnfinished(t *testing.T, sink *tidetest.Sink[string], vs []int64) {
	t.Helper()
	if n := sink.Len(); n >= len(vs) {
		t.Fatalf("the job committed all %d records before the disturbance; slow the source down", n)
	}
}

func TestSimJoin(t *testing.T) {
	simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
		c, sink, vs := simJob(t, r, seed, 6000, 2000, 1, nil)
		c.WaitParallelism(1, timeout)
		pause(r)
		requireUnfinished(t, sink, vs)
		c.AddTaskManager()
		c.WaitParallelism(2, timeout)
		c.WaitState(tidetest.Finished, timeout)
		requireRescale(t, c, rest.TriggerTaskManagerJoined)
		requireUndisturbed(t, sink, vs)
	})
}

// TestSimSecured runs the internal plane on mutual TLS and the shared
// secret (what `tide secrets create` writes, made in the bubble so that the
// certificates are valid on its virtual clock). A TaskManager with another
// secret and one with a certificate of another CA try to join and are never
// registered; a member joins and another crashes, and the output is exact.
func TestSimSecured(t *testing.T) {
	simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
		secrets := func(name string) map[string]string {
			f, err := pki.Create(pki.Options{Dir: filepath.Join(t.TempDir(), name)})
			if err != nil {
				t.Fatal(err)
			}
			dyn := map[string]string{}
			for _, kv := range f.InternalDynamic() {
				k, v, _ := strings.Cut(kv, "=")
				dyn[k] = v
			}
			return dyn
		}
		dyn, other := secrets("cluster"), secrets("other")
		c, sink, vs := simJob(t, r, seed, 6000, 2000, 1, dyn)
		c.WaitParallelism(1, timeout)
		wrongSecret := maps.Clone(dyn)
		wrongSecret["security.internal.token-file"] = other["security.internal.token-file"]
		otherCA := maps.Clone(other)
		otherCA["security.internal.token-file"] = dyn["security.internal.token-file"]
		c.AddTaskManagerWith(wrongSecret)
		c.AddTaskManagerWith(otherCA)
		pause(r)
		requireUnfinished(t, sink, vs)
		if n := c.Overview().TaskManagers; n != 1 {
			t.Fatalf("%d taskmanagers registered, want the member only", n)
		}
		c.AddTaskManager()
		c.WaitParallelism(2, timeout)
		tms := c.TaskManagers()
		[]*tidetest.TM{tms[0], tms[3]}[r.IntN(2)].Crash()
		c.WaitState(tidetest.Finished, timeout)
		requireRescale(t, c, rest.TriggerTaskManagerJoined)
		requireUndisturbed(t, sink, vs)
	})
}

func TestSimCrash(t *testing.T) {
	simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
		c, sink, vs := simJob(t, r, seed, 6000, 2000, 2, nil)
		c.WaitParallelism(2, timeout)
		c.WaitCheckpoints(1, timeout)
		pause(r)
		requireUnfinished(t, sink, vs)
		c.TaskManagers()[r.IntN(2)].Crash()
		c.WaitState(tidetest.Finished, timeout)
		requireRescale(t, c, rest.TriggerTaskManagerLost)
		requireUndisturbed(t, sink, vs)
	})
}

func TestSimLeave(t *testing.T) {
	simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
		c, sink, vs := simJob(t, r, seed, 6000, 2000, 3, nil)
		c.WaitParallelism(3, timeout)
		pause(r)
		requireUnfinished(t, sink, vs)
		leaving := c.TaskManagers()[r.IntN(3)]
		leaving.Leave()
		leaving.Wait(timeout)
		if err := leaving.Err(); err != nil {
			t.Errorf("the leaving taskmanager exited with %v", err)
		}
		c.WaitState(tidetest.Finished, timeout)
		requireRescale(t, c, rest.TriggerTaskManagerLeaving)
		requireUndisturbed(t, sink, vs)
	})
}

// TestSimZombie partitions a TaskManager away while it runs: the
// JobManager loses its heartbeats and restarts the job without it, while
// its tasks run on, cut off. Healed, it learns its registration is gone,
// drops its tasks and joins again as a new TaskManager; nothing it did as
// a zombie may reach the output.
func TestSimZombie(t *testing.T) {
	simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
		c, sink, vs := simJob(t, r, seed, 12000, 2000, 2, nil)
		c.WaitParallelism(2, timeout)
		c.WaitCheckpoints(1, timeout)
		pause(r)
		requireUnfinished(t, sink, vs)
		zombie := c.TaskManagers()[r.IntN(2)]
		zombie.Partition()
		// Lost after heartbeat.timeout (production's 50s, virtual).
		c.WaitTaskManagers(1, 2*time.Minute)
		c.WaitParallelism(1, timeout)
		pause(r)
		zombie.Heal()
		c.WaitTaskManagers(2, timeout)
		c.WaitState(tidetest.Finished, timeout)
		requireRescale(t, c, rest.TriggerTaskManagerLost)
		requireUndisturbed(t, sink, vs)
	})
}

func TestSimJobManagerRestart(t *testing.T) {
	simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
		c, sink, vs := simJob(t, r, seed, 6000, 2000, 2, nil)
		c.WaitParallelism(2, timeout)
		c.WaitCheckpoints(1, timeout)
		pause(r)
		requireUnfinished(t, sink, vs)
		c.RestartJobManager()
		c.WaitState(tidetest.Finished, timeout)
		requireUndisturbed(t, sink, vs)
	})
}

// TestSimCheckpointWriteFails fails one write of checkpoint state: that
// checkpoint fails, the job goes on, and the output is exact.
func TestSimCheckpointWriteFails(t *testing.T) {
	simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
		c, sink, vs := simJob(t, r, seed, 6000, 2000, 2, nil)
		c.WaitParallelism(2, timeout)
		pause(r)
		requireUnfinished(t, sink, vs)
		faults := c.StorageFaults()
		faults.FailNextWrite(c.JobID()+"/chk-", nil)
		c.WaitFor("a failed checkpoint", timeout, func() bool { return c.Checkpoints().Counts.Failed > 0 })
		c.WaitState(tidetest.Finished, timeout)
		if n := faults.Pending(); n != 0 {
			t.Errorf("%d storage faults did not fire", n)
		}
		requireUndisturbed(t, sink, vs)
	})
}

// TestSimRestoreReadFails crashes a TaskManager with local recovery off, so
// that the restore reads the checkpoint from the store, and fails the first
// one to three reads of it (the seed says how many; today the first is the
// JobManager's read of the metadata): the restore is tried again until it
// reads, and the output is exact.
func TestSimRestoreReadFails(t *testing.T) {
	simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
		c, sink, vs := simJob(t, r, seed, 6000, 2000, 2, map[string]string{"state.backend.local-recovery": "false"})
		c.WaitParallelism(2, timeout)
		c.WaitCheckpoints(1, timeout)
		pause(r)
		requireUnfinished(t, sink, vs)
		faults := c.StorageFaults()
		faults.Inject(blob.Fault{Ops: blob.OpRead, Prefix: c.JobID() + "/chk-", Times: 1 + r.IntN(3)})
		c.TaskManagers()[r.IntN(2)].Crash()
		c.WaitState(tidetest.Finished, timeout)
		if n := faults.Pending(); n != 0 {
			t.Errorf("the read faults did not all fire: the restore read less than expected from the store")
		}
		requireUndisturbed(t, sink, vs)
	})
}
