package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGettingStarted follows the seed's getting-started steps with the
// daemonizing commands: start a standalone job, start TaskManagers, stop
// one, and stop the job, checking each step through the REST API.
func TestGettingStarted(t *testing.T) {
	c := newCluster(t, "-Dexecution.checkpointing.interval=1s")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(tideBin, args...)
		cmd.Env = append(os.Environ(), "TIDE_HOME="+c.home)
		cmd.Dir = c.dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("tide %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	t.Cleanup(func() {
		for _, kind := range []string{"taskmanager", "standalone-job"} {
			cmd := exec.Command(tideBin, kind, "stop-all")
			if kind == "standalone-job" {
				cmd = exec.Command(tideBin, kind, "stop")
			}
			cmd.Env = append(os.Environ(), "TIDE_HOME="+c.home)
			cmd.Run()
		}
	})
	out := filepath.Join(c.dir, "out")
	run(append(append([]string{"standalone-job", "start", "-j", "Verify"}, c.dynamic...), "--", "--count", "0", "--rate", "2000", "--output", out)...)
	id := c.jobID(t)
	run(append([]string{"taskmanager", "start"}, c.dynamic...)...)
	c.waitRunningAt(t, id, countSum, 1)
	run(append([]string{"taskmanager", "start"}, c.dynamic...)...)
	c.waitRunningAt(t, id, countSum, 2)
	if o := run("taskmanager", "stop"); !strings.Contains(o, "Stopped") {
		t.Fatalf("taskmanager stop said: %s", o)
	}
	c.waitRunningAt(t, id, countSum, 1)
	c.waitRescale(t, id, "taskmanager-leaving", 2, 1)
	logs, _ := filepath.Glob(filepath.Join(c.home, "log", "tide-taskmanager-*.log"))
	if len(logs) < 2 {
		t.Errorf("taskmanager logs under $TIDE_HOME/log: %v", logs)
	}
	run("standalone-job", "stop")
	eventually(t, 30*time.Second, "the jobmanager to stop", func() (bool, string) {
		err := c.get("/overview", &struct{}{})
		return err != nil, "still answering"
	})
	run("taskmanager", "stop-all")
	if o, err := tide(t, "verify", "--output", out, "--keys", "16"); err != nil {
		t.Fatalf("verify: %v\n%s", err, o)
	}
}
