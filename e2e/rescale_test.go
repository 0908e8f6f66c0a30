package e2e

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/exec"
)

// countSum is the REST id of the Verify job's keyed vertex, whose job graph
// id is v1-CountSum: the REST API names vertices by 32 hex characters.
var countSum = exec.VertexID("v1-CountSum").RESTID()

// topSpeed is the REST id of the TopSpeedWindowing job's window vertex.
var topSpeed = exec.VertexID("v1-top_speed").RESTID()

func hasRescale(rs []rescaleRec, trigger string, from, to int) (rescaleRec, bool) {
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		if r.Trigger == trigger && r.From == from && r.To == to && r.Status == "COMPLETED" {
			return r, true
		}
	}
	return rescaleRec{}, false
}

// waitRescale waits for a completed rescale with the given trigger and
// parallelisms.
func (c *cluster) waitRescale(t *testing.T, id, trigger string, from, to int) rescaleRec {
	t.Helper()
	var r rescaleRec
	eventually(t, 60*time.Second, fmt.Sprintf("a %s rescale %d -> %d", trigger, from, to), func() (bool, string) {
		rs, err := c.rescales(id)
		if err != nil {
			return false, err.Error()
		}
		var ok bool
		r, ok = hasRescale(rs, trigger, from, to)
		return ok, fmt.Sprintf("%+v", rs)
	})
	return r
}

// TestReactiveScaling starts TaskManagers one at a time and removes them
// three ways — SIGTERM, SIGKILL — and checks, through the REST API, that the
// job rescales each time, that a killed TaskManager is noticed long before
// heartbeat.timeout (left at its 50 s default), and that the committed
// output is still exact.
func TestReactiveScaling(t *testing.T) {
	c := newCluster(t, "-Dexecution.checkpointing.interval=500ms")
	out := filepath.Join(c.dir, "out")
	c.startJM("Verify", "--keys", "16", "--count", "0", "--rate", "5000", "--output", out)
	id := c.jobID(t)
	tm1 := c.startTM()
	c.waitRunningAt(t, id, countSum, 1)

	// Scale up: a second TaskManager joins.
	tm2 := c.startTM()
	c.waitRunningAt(t, id, countSum, 2)
	up := c.waitRescale(t, id, "taskmanager-joined", 1, 2)
	t.Logf("scale-up: pause %d ms, reprocessed %d", up.PauseMs, up.Reprocessed)

	// Scale down, gracefully: the TaskManager leaves once the job no longer needs it.
	time.Sleep(500 * time.Millisecond)
	tm2.signal(syscall.SIGTERM)
	c.waitRunningAt(t, id, countSum, 1)
	down := c.waitRescale(t, id, "taskmanager-leaving", 2, 1)
	if err := tm2.wait(t, 30*time.Second); err != nil {
		t.Fatalf("a gracefully stopped taskmanager must exit 0, got %v", err)
	}
	t.Logf("SIGTERM: pause %d ms, reprocessed %d", down.PauseMs, down.Reprocessed)
	// Planned rescales restore a checkpoint taken for them, after which the
	// sources emitted nothing: nothing is read twice.
	for _, r := range []rescaleRec{up, down} {
		if r.Reprocessed != 0 {
			t.Errorf("planned rescale %s reprocessed %d records, want 0", r.Trigger, r.Reprocessed)
		}
		// The TaskManager that stays keeps its key groups in memory (local
		// recovery): 1 -> 2 keeps 0-63 of 128, 2 -> 1 keeps them too.
		if r.LocalGroups != 64 {
			t.Errorf("planned rescale %s kept %d key groups locally, want 64 (read %d bytes)", r.Trigger, r.LocalGroups, r.Restored)
		}
	}

	// Scale down by crash: kill -9.
	tm3 := c.startTM()
	c.waitRunningAt(t, id, countSum, 2)
	time.Sleep(500 * time.Millisecond)
	killed := time.Now()
	tm3.signal(syscall.SIGKILL)
	lost := c.waitRescale(t, id, "taskmanager-lost", 2, 1)
	detect := time.UnixMilli(lost.Start).Sub(killed)
	t.Logf("SIGKILL: detected after %v, pause %d ms, reprocessed %d", detect, lost.PauseMs, lost.Reprocessed)
	// heartbeat.timeout is 50 s: anything far below it proves the loss was
	// seen on the dropped connection, not by heartbeat.
	if detect > 20*time.Second {
		t.Fatalf("kill -9 detected after %v: that is the heartbeat timeout, not the dropped connection", detect)
	}
	c.waitRunningAt(t, id, countSum, 1)

	// Let it run on, then stop everything and check the output.
	time.Sleep(time.Second)
	var cp struct {
		Counts struct{ Completed int } `json:"counts"`
	}
	if err := c.get("/jobs/"+id+"/checkpoints", &cp); err != nil || cp.Counts.Completed == 0 {
		t.Fatalf("checkpoints: %+v, %v", cp, err)
	}
	c.stopAll()
	_ = tm1
	if out, err := tide(t, "verify", "--output", out, "--keys", "16", "--count", "0"); err != nil {
		t.Fatalf("tide verify: %v\n%s", err, out)
	}
}

// TestVerifyThroughJoinsAndKills runs a bounded Verify job while
// TaskManagers join, are killed and leave, and checks that the job finishes
// and that its committed output has every count exactly once.
func TestVerifyThroughJoinsAndKills(t *testing.T) {
	// A 2 s window: the two TaskManagers started together must register
	// within it even on a loaded machine, to make one rescale.
	c := newCluster(t, "-Dexecution.checkpointing.interval=300ms",
		"-Djobmanager.adaptive-scheduler.resource-stabilization-timeout=2s")
	out := filepath.Join(c.dir, "out")
	const count = "60000"
	jm := c.startJM("Verify", "--keys", "12", "--count", count, "--rate", "8000", "--output", out)
	id := c.jobID(t)
	c.startTM()
	c.waitRunningAt(t, id, countSum, 1)
	tm2 := c.startTM()
	tm3 := c.startTM()
	c.waitRunningAt(t, id, countSum, 3)
	// Two TaskManagers joining within the stabilization window: one rescale.
	c.waitRescale(t, id, "taskmanager-joined", 1, 3)
	time.Sleep(time.Second)
	tm2.signal(syscall.SIGKILL)
	c.waitRunningAt(t, id, countSum, 2)
	time.Sleep(500 * time.Millisecond)
	tm4 := c.startTM()
	c.waitRunningAt(t, id, countSum, 3)
	time.Sleep(500 * time.Millisecond)
	tm3.signal(syscall.SIGTERM)
	time.Sleep(500 * time.Millisecond)
	tm4.signal(syscall.SIGKILL)
	eventually(t, 120*time.Second, "the job to finish", func() (bool, string) {
		j, err := c.job(id)
		if err != nil {
			return jm.exited(), err.Error()
		}
		return j.State == "FINISHED", j.State
	})
	rs, _ := c.rescales(id)
	for _, r := range rs {
		t.Logf("rescale %d: %s %d -> %d pause %d ms reprocessed %d", r.ID, r.Trigger, r.From, r.To, r.PauseMs, r.Reprocessed)
	}
	if err := jm.wait(t, 30*time.Second); err != nil {
		t.Fatalf("jobmanager of a finished job must exit 0: %v", err)
	}
	if out, err := tide(t, "verify", "--output", out, "--keys", "12", "--count", count); err != nil {
		t.Fatalf("tide verify: %v\n%s", err, out)
	} else {
		t.Log(out)
	}
}
