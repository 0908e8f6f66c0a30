package e2e

import (
	"fmt"
	"path/filepath"
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
