package verify_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/examples/verify"
	"github.com/tide-stream/tide/internal/rest"
	iverify "github.com/tide-stream/tide/internal/verify"
	"github.com/tide-stream/tide/tidetest"
)

// The golden run: 8 keys, 20000 records at a rate that makes it last about
// 3 s, long enough to rescale it or kill a TaskManager in the middle.
const (
	keys  = 8
	count = 20000
	rate  = 6500
)

// timeout bounds every wait; generous for -race on two cores.
const timeout = 30 * time.Second

func verifyArgs(out string) []string {
	return []string{"--keys", fmt.Sprint(keys), "--count", fmt.Sprint(count), "--rate", fmt.Sprint(rate), "--output", out}
}

// checkOutput runs the checker of `tide verify` on out and returns the
// committed lines, sorted.
func checkOutput(t *testing.T, out string) []string {
	t.Helper()
	rep, err := iverify.Check(out, keys, count)
	if err != nil {
		t.Fatalf("verify %s: %v", out, err)
	}
	if !rep.OK() {
		t.Fatalf("verify %s failed:\n%s", out, rep)
	}
	return committedLines(t, out)
}

// committedLines returns every line of the visible files under dir, sorted.
func committedLines(t *testing.T, dir string) []string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && path != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lines = append(lines, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
		return nil
	})
	if err != nil {
		t.Fatalf("read output %s: %v", dir, err)
	}
	slices.Sort(lines)
	return lines
}

// findRescale returns the first ended rescale with trigger from -> to.
func findRescale(rs []rest.Rescale, trigger rest.RescaleTrigger, from, to int) (rest.Rescale, bool) {
	for _, r := range rs {
		if r.Trigger == trigger && r.From == from && r.To == to && r.Status == rest.RescaleCompleted {
			return r, true
		}
	}
	return rest.Rescale{}, false
}

// TestVerifyThreeWays is the golden test of STYLE.md §9: Verify runs
// straight through at parallelism 1, with a TaskManager added mid-run
// (rescale 2 -> 3 from a checkpoint taken for it), and with a TaskManager
// killed mid-run (restore 2 -> 1 from the latest checkpoint). Each run's
// committed output must pass the checker, and the three must be equal line
// for line, since Verify's output is deterministic.
func TestVerifyThreeWays(t *testing.T) {
	ways := []struct {
		name string
		run  func(t *testing.T, out string)
	}{
		{"straight", func(t *testing.T, out string) {
			c := tidetest.Start(t, tidetest.Config{Job: verify.Build, Name: "Verify", Args: verifyArgs(out), TaskManagers: 1})
			c.WaitState(tidetest.Finished, timeout)
			if rs := c.Rescales(); len(rs) != 0 {
				t.Errorf("straight run rescaled: %+v", rs)
			}
		}},
		{"rescale-2-to-3", func(t *testing.T, out string) {
			c := tidetest.Start(t, tidetest.Config{Job: verify.Build, Name: "Verify", Args: verifyArgs(out),
				TaskManagers: 2, CheckpointInterval: 200 * time.Millisecond})
			c.WaitParallelism(2, timeout)
			c.WaitCheckpoints(2, timeout)
			c.AddTaskManager()
			rs := c.WaitRescales(1, timeout)
			r, ok := findRescale(rs, rest.TriggerTaskManagerJoined, 2, 3)
			if !ok {
				t.Fatalf("no completed rescale 2 -> 3 on taskmanager-joined: %+v", rs)
			}
			if r.Checkpoint < 1 {
				t.Errorf("the rescale restored no checkpoint: %+v", r)
			}
			c.WaitState(tidetest.Finished, timeout)
		}},
		{"kill-2-to-1", func(t *testing.T, out string) {
			c := tidetest.Start(t, tidetest.Config{Job: verify.Build, Name: "Verify", Args: verifyArgs(out),
				TaskManagers: 2, CheckpointInterval: 200 * time.Millisecond})
			c.WaitParallelism(2, timeout)
			c.WaitCheckpoints(2, timeout)
			c.TaskManagers()[1].Kill()
			rs := c.WaitRescales(1, timeout)
			r, ok := findRescale(rs, rest.TriggerTaskManagerLost, 2, 1)
			if !ok {
				t.Fatalf("no completed restore 2 -> 1 on taskmanager-lost: %+v", rs)
			}
			if r.Checkpoint < 1 {
				t.Errorf("the restore after the loss restored no checkpoint: %+v", r)
			}
			c.WaitState(tidetest.Finished, timeout)
		}},
	}
	outs := make([][]string, len(ways))
	t.Run("ways", func(t *testing.T) {
		for i, w := range ways {
			t.Run(w.name, func(t *testing.T) {
				t.Parallel()
				out := t.TempDir()
				w.run(t, out)
				outs[i] = checkOutput(t, out)
			})
		}
	})
	if t.Failed() {
		return
	}
	for i := 1; i < len(ways); i++ {
		if !slices.Equal(outs[0], outs[i]) {
			t.Errorf("output of %s (%d lines) differs from %s (%d lines)", ways[i].name, len(outs[i]), ways[0].name, len(outs[0]))
		}
	}
}

// TestVerifyPlannedRescaleReprocessesNothing checks the promise of
// docs/design/rescale.md that a planned rescale (a TaskManager joined, rescale-on-checkpoint on)
// reprocesses nothing: the sources must stop at the rescale checkpoint.
func TestVerifyPlannedRescaleReprocessesNothing(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	c := tidetest.Start(t, tidetest.Config{Job: verify.Build, Name: "Verify", Args: verifyArgs(out),
		TaskManagers: 1, CheckpointInterval: 200 * time.Millisecond})
	c.WaitParallelism(1, timeout)
	c.WaitCheckpoints(1, timeout)
	c.AddTaskManager()
	rs := c.WaitRescales(1, timeout)
	r, ok := findRescale(rs, rest.TriggerTaskManagerJoined, 1, 2)
	if !ok {
		t.Fatalf("no completed rescale 1 -> 2 on taskmanager-joined: %+v", rs)
	}
	if r.Checkpoint < 0 {
		t.Errorf("planned rescale restored no checkpoint: %+v", r)
	}
	if r.ReprocessedRecords != 0 {
		t.Errorf("planned rescale reprocessed %d records, want 0: %+v (all: %+v)", r.ReprocessedRecords, r, rs)
	}
}

// TestVerifyRestoreFromSavepoint stops Verify with a savepoint at
// parallelism 1 and restores it in a new cluster at parallelism 2: the
// combined committed output must be exactly right. Both clusters share
// state.checkpoints.dir, as the JobManager restores savepoints only from
// under it.
func TestVerifyRestoreFromSavepoint(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	dir := "file://" + t.TempDir()
	first := tidetest.Start(t, tidetest.Config{Job: verify.Build, Name: "Verify", Args: verifyArgs(out),
		TaskManagers: 1, CheckpointInterval: 200 * time.Millisecond, CheckpointsDir: dir})
	first.WaitParallelism(1, timeout)
	first.WaitCheckpoints(1, timeout)
	loc := first.StopWithSavepoint(timeout)
	t.Logf("savepoint at %s", loc)
	first.Stop()
	if lines := committedLines(t, out); len(lines) == 0 || len(lines) >= count {
		t.Fatalf("the first run committed %d lines; want some but not all %d", len(lines), count)
	}

	second := tidetest.Start(t, tidetest.Config{Job: verify.Build, Name: "Verify", Args: verifyArgs(out),
		TaskManagers: 2, CheckpointInterval: 200 * time.Millisecond, CheckpointsDir: dir, SavepointPath: loc})
	second.WaitState(tidetest.Finished, timeout)
	if p := second.Parallelism(); p != 2 {
		t.Errorf("restored run at parallelism %d, want 2", p)
	}
	if rc := second.Checkpoints().Latest.Restored; rc == nil {
		t.Errorf("restored run reports no restored checkpoint")
	}
	checkOutput(t, out)
}
