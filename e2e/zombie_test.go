package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPausedTaskManagerIsFenced stops a TaskManager with SIGSTOP past
// heartbeat.timeout, lets the job rescale without it, resumes it, and
// checks that it registers again as a fresh TaskManager and that the
// output has neither a lost nor a duplicated update.
func TestPausedTaskManagerIsFenced(t *testing.T) {
	c := newCluster(t, "-Dexecution.checkpointing.interval=300ms",
		"-Dheartbeat.interval=200ms", "-Dheartbeat.timeout=1500ms")
	out := filepath.Join(c.dir, "out")
	const count = "40000"
	jm := c.startJM("Verify", "--keys", "8", "--count", count, "--rate", "5000", "--output", out)
	id := c.jobID(t)
	c.startTM()
	tm2 := c.startTM()
	c.waitRunningAt(t, id, countSum, 2)
	time.Sleep(700 * time.Millisecond)

	tm2.signal(syscall.SIGSTOP)
	c.waitRescale(t, id, "taskmanager-lost", 2, 1)
	c.waitRunningAt(t, id, countSum, 1)
	time.Sleep(700 * time.Millisecond)
	tm2.signal(syscall.SIGCONT)

	// The zombie drops its tasks and comes back as a new registration.
	c.waitRescale(t, id, "taskmanager-joined", 1, 2)
	eventually(t, 120*time.Second, "the job to finish", func() (bool, string) {
		j, err := c.job(id)
		if err != nil {
			return jm.exited(), err.Error()
		}
		return j.State == "FINISHED", j.State
	})
	jm.wait(t, 30*time.Second)
	log, _ := os.ReadFile(tm2.log)
	if n := strings.Count(string(log), "registered with the jobmanager"); n < 2 {
		t.Errorf("the paused taskmanager registered %d times, want a fresh registration after the pause", n)
	}
	if out, err := tide(t, "verify", "--output", out, "--keys", "8", "--count", count); err != nil {
		t.Fatalf("tide verify: %v\n%s", err, out)
	}
}
