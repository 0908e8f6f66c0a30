package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

type checkpointCounts struct {
	Counts struct {
		Completed int `json:"completed"`
		Failed    int `json:"failed"`
	} `json:"counts"`
	Latest struct {
		Completed *struct {
			ID   int    `json:"id"`
			Path string `json:"external_path"`
		} `json:"completed"`
	} `json:"latest"`
}

// TestFailingCheckpointsDoNotStopTheJob sets a checkpoint timeout no
// checkpoint can meet: every checkpoint fails, and the job runs on.
func TestFailingCheckpointsDoNotStopTheJob(t *testing.T) {
	c := newCluster(t, "-Dexecution.checkpointing.interval=200ms", "-Dexecution.checkpointing.timeout=1ms")
	c.startJM("Verify", "--count", "0", "--rate", "2000", "--output", filepath.Join(c.dir, "out"))
	id := c.jobID(t)
	c.startTM()
	c.waitRunningAt(t, id, countSum, 1)
	eventually(t, 60*time.Second, "three failed checkpoints", func() (bool, string) {
		var cp checkpointCounts
		if err := c.get("/jobs/"+id+"/checkpoints", &cp); err != nil {
			return false, err.Error()
		}
		return cp.Counts.Failed >= 3, fmt.Sprintf("%+v", cp.Counts)
	})
	if j, err := c.job(id); err != nil || j.State != "RUNNING" {
		t.Fatalf("job after failed checkpoints: %+v %v", j, err)
	}
}

// TestCorruptCheckpointIsSkipped corrupts the newest checkpoint's metadata
// on disk and kills a TaskManager: the restore skips the corrupt checkpoint
// for the one before it, says so in the log, and the job runs on.
func TestCorruptCheckpointIsSkipped(t *testing.T) {
	c := newCluster(t, "-Dexecution.checkpointing.interval=3s")
	c.startJM("Verify", "--count", "0", "--rate", "2000", "--output", filepath.Join(c.dir, "out"))
	id := c.jobID(t)
	c.startTM()
	tm2 := c.startTM()
	c.waitRunningAt(t, id, countSum, 2)
	var cp checkpointCounts
	eventually(t, 60*time.Second, "two completed checkpoints", func() (bool, string) {
		if err := c.get("/jobs/"+id+"/checkpoints", &cp); err != nil {
			return false, err.Error()
		}
		return cp.Counts.Completed >= 2 && cp.Latest.Completed != nil, fmt.Sprintf("%+v", cp.Counts)
	})
	meta := filepath.Join(c.home, "checkpoints", id, fmt.Sprintf("chk-%d", cp.Latest.Completed.ID), "_metadata")
	b, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(meta, b, 0o644); err != nil {
		t.Fatal(err)
	}
	tm2.signal(syscall.SIGKILL)
	c.waitRescale(t, id, "taskmanager-lost", 2, 1)
	c.waitRunningAt(t, id, countSum, 1)
	log, _ := os.ReadFile(filepath.Join(c.dir, "jobmanager.log"))
	if !strings.Contains(string(log), "checkpoint corrupt or missing; restoring an older one") {
		t.Fatalf("the jobmanager log does not say it skipped the corrupt checkpoint %d", cp.Latest.Completed.ID)
	}
	rs, _ := c.rescales(id)
	if last := rs[len(rs)-1]; last.Checkpoint >= cp.Latest.Completed.ID || last.Checkpoint == 0 {
		t.Fatalf("restored checkpoint %d, want one older than the corrupt %d", last.Checkpoint, cp.Latest.Completed.ID)
	}
}

// TestRunLocalCluster runs the README's first command with a bounded job:
// tide run starts a JobManager and TaskManagers as processes, the job
// finishes, everything stops, and the output verifies.
func TestRunLocalCluster(t *testing.T) {
	c := newCluster(t)
	out := filepath.Join(c.dir, "out")
	p := c.start("run", append(append([]string{"run", "-j", "Verify", "--taskmanagers", "2"}, c.dynamic...),
		"--", "--keys", "8", "--count", "20000", "--output", out)...)
	if err := p.wait(t, 120*time.Second); err != nil {
		t.Fatalf("tide run: %v", err)
	}
	if o, err := tide(t, "verify", "--output", out, "--keys", "8", "--count", "20000"); err != nil {
		t.Fatalf("verify: %v\n%s", err, o)
	}
}
