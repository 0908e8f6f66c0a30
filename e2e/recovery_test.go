package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests are the reproductions of issue 11: situations in which Tide
// used to commit output twice. Each runs real processes and ends with
// `tide verify`.

// startJMAs starts another JobManager process of the cluster, with its own
// log, for tests that run several one after the other.
func (c *cluster) startJMAs(name, job string, jobArgs ...string) *proc {
	args := append([]string{"standalone-job", "start-foreground", "-j", job}, c.dynamic...)
	return c.start(name, append(append(args, "--"), jobArgs...)...)
}

// waitCheckpoints waits until at least n checkpoints have completed and
// returns the counts.
func (c *cluster) waitCheckpoints(t *testing.T, id string, n int) checkpointCounts {
	t.Helper()
	var cp checkpointCounts
	eventually(t, 60*time.Second, fmt.Sprintf("%d completed checkpoints", n), func() (bool, string) {
		if err := c.get("/jobs/"+id+"/checkpoints", &cp); err != nil {
			return false, err.Error()
		}
		return cp.Counts.Completed >= n && cp.Latest.Completed != nil, fmt.Sprintf("%+v", cp.Counts)
	})
	return cp
}

// waitFinished waits until the job is FINISHED (or its JobManager exited).
func (c *cluster) waitFinished(t *testing.T, id string, jm *proc, d time.Duration) {
	t.Helper()
	eventually(t, d, "the job to finish", func() (bool, string) {
		j, err := c.job(id)
		if err != nil {
			if jm.exited() {
				t.Fatalf("the jobmanager exited before the job finished: %v", jm.err)
			}
			return false, err.Error()
		}
		return j.State == "FINISHED", fmt.Sprintf("%s %+v", j.State, j.Vertices)
	})
}

func verifyOutput(t *testing.T, out, keys, count string) {
	t.Helper()
	if o, err := tide(t, "verify", "--output", out, "--keys", keys, "--count", count); err != nil {
		t.Fatalf("verify %s: %v\n%s", out, err, o)
	}
}

// committed lists the committed part files of an output directory.
func committed(t *testing.T, out string) []string {
	t.Helper()
	es, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// mergeInto moves every file under from into the same place under to.
func mergeInto(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.Rename(p, dst)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(from); err != nil {
		t.Fatal(err)
	}
}

func logOf(t *testing.T, p *proc) string {
	t.Helper()
	b, err := os.ReadFile(p.log)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTaskManagerTakesEachJobManagersJob is defect 1: a TaskManager that
// outlives its JobManager and registers with one started for another job
// runs that job, with its arguments and storage, and writes nothing more
// into the first job's output. The second JobManager has another
// state.checkpoints.dir: the TaskManager writes the second job's
// checkpoints there, and nothing more under the first one.
func TestTaskManagerTakesEachJobManagersJob(t *testing.T) {
	c := newCluster(t, "-Dexecution.checkpointing.interval=1s")
	o1, o2 := filepath.Join(c.dir, "o1"), filepath.Join(c.dir, "o2")
	jm := c.startJMAs("jobmanager-1", "Verify", "--count", "0", "--rate", "2000", "--output", o1)
	id := c.jobID(t)
	tm := c.startTM()
	c.waitRunningAt(t, id, countSum, 1)
	c.waitCheckpoints(t, id, 2)
	jm.signal(syscall.SIGTERM)
	if err := jm.wait(t, 30*time.Second); err != nil {
		t.Logf("first jobmanager: %v", err)
	}
	verifyOutput(t, o1, "16", "0")
	before := committed(t, o1)
	dir1, dir2 := filepath.Join(c.home, "checkpoints"), filepath.Join(c.dir, "checkpoints-2")
	if chk := chkDirs(t, dir1, id); len(chk) == 0 {
		t.Fatalf("the first job wrote no chk-* under %s", dir1)
	}
	files1 := treeOf(t, dir1)

	c.dynamic = append(c.dynamic, "-Dstate.checkpoints.dir=file://"+dir2)
	jm2 := c.startJMAs("jobmanager-2", "Verify", "--keys", "4", "--count", "8000", "--rate", "4000", "--output", o2)
	id2 := c.jobID(t)
	if id2 == id {
		t.Fatalf("a job with other arguments has the same id %s", id)
	}
	c.waitCheckpoints(t, id2, 1)
	c.waitFinished(t, id2, jm2, 90*time.Second)
	if tm.exited() {
		t.Fatal("the taskmanager exited; it should have served the second jobmanager")
	}
	verifyOutput(t, o2, "4", "8000")
	verifyOutput(t, o1, "16", "0")
	if after := committed(t, o1); !slices.Equal(before, after) {
		t.Fatalf("the first job's output changed after its jobmanager stopped:\nbefore %v\nafter  %v", before, after)
	}
	// The storage half: the second job's checkpoints, state objects
	// included, are under the second directory only.
	if chk := chkDirs(t, dir2, id2); len(chk) == 0 || !hasStateObject(t, filepath.Join(dir2, id2)) {
		t.Fatalf("the second job's checkpoints are not under its state.checkpoints.dir %s: chk %v\n%v", dir2, chk, treeOf(t, dir2))
	}
	if after := treeOf(t, dir1); !slices.Equal(files1, after) {
		t.Fatalf("files were written under the first job's state.checkpoints.dir after the switch:\nbefore %v\nafter  %v", files1, after)
	}
}

// chkDirs lists the chk-* directories of job id under a checkpoint directory.
func chkDirs(t *testing.T, dir, id string) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(dir, id))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var chk []string
	for _, e := range es {
		if e.IsDir() && strings.HasPrefix(e.Name(), "chk-") {
			chk = append(chk, e.Name())
		}
	}
	return chk
}

// hasStateObject says whether a chk-* directory under dir holds an object
// other than _metadata: one a TaskManager wrote.
func hasStateObject(t *testing.T, dir string) bool {
	t.Helper()
	for _, f := range treeOf(t, dir) {
		if strings.HasPrefix(f, "chk-") && filepath.Base(f) != "_metadata" {
			return true
		}
	}
	return false
}

// treeOf lists every file under dir, relative to it, with its size.
func treeOf(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, fmt.Sprintf("%s (%d)", rel, info.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestJobManagerKilledAndRestarted is defect 3: a JobManager killed with
// kill -9 mid-run and started again with the same job resumes it from its
// latest checkpoint; the TaskManagers that kept running reconnect without
// restarting, and the output is exactly once.
func TestJobManagerKilledAndRestarted(t *testing.T) {
	c := newCluster(t, "-Dexecution.checkpointing.interval=500ms")
	out := filepath.Join(c.dir, "out")
	args := []string{"--keys", "8", "--count", "30000", "--rate", "5000", "--output", out}
	jm := c.startJMAs("jobmanager-1", "Verify", args...)
	id := c.jobID(t)
	tm1, tm2 := c.startTM(), c.startTM()
	c.waitRunningAt(t, id, countSum, 2)
	c.waitCheckpoints(t, id, 3)
	jm.signal(syscall.SIGKILL)
	jm.wait(t, 10*time.Second)

	jm2 := c.startJMAs("jobmanager-2", "Verify", args...)
	if id2 := c.jobID(t); id2 != id {
		t.Fatalf("the restarted jobmanager runs job %s, not %s", id2, id)
	}
	c.waitFinished(t, id, jm2, 120*time.Second)
	if tm1.exited() || tm2.exited() {
		t.Fatal("a taskmanager exited; both should have reconnected to the new jobmanager")
	}
	verifyOutput(t, out, "8", "30000")
	if log := logOf(t, jm2); !strings.Contains(log, "resuming the job from its latest checkpoint") {
		t.Fatalf("the restarted jobmanager does not say it resumed the job:\n%s", log)
	}
}

// TestCheckpointStoreUnreachable is defect 2, reproduction B: the checkpoint
// directory is unreachable for a few seconds while a TaskManager is killed.
// The restore waits for it instead of starting from empty state, and the
// output is exactly once.
func TestCheckpointStoreUnreachable(t *testing.T) {
	c := newCluster(t, "-Dexecution.checkpointing.interval=500ms")
	out := filepath.Join(c.dir, "out")
	args := []string{"--keys", "8", "--count", "40000", "--rate", "5000", "--output", out}
	jm := c.startJM("Verify", args...)
	id := c.jobID(t)
	c.startTM()
	tm2 := c.startTM()
	c.waitRunningAt(t, id, countSum, 2)
	c.waitCheckpoints(t, id, 2)

	// The directory goes away, as an unmounted volume or a store that is
	// down: its checkpoints read as not found. Writes meanwhile may create
	// it again; what they wrote is kept when it comes back.
	dir := filepath.Join(c.home, "checkpoints")
	away := dir + ".away"
	if err := os.Rename(dir, away); err != nil {
		t.Fatal(err)
	}
	tm2.signal(syscall.SIGKILL)
	time.Sleep(4 * time.Second)
	mergeInto(t, away, dir)
	c.waitFinished(t, id, jm, 120*time.Second)
	verifyOutput(t, out, "8", "40000")
	rs, err := c.rescales(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Trigger == "taskmanager-lost" && r.Checkpoint == 0 {
			t.Fatalf("the restore after the loss started from empty state: %+v", rs)
		}
	}
}

// TestCorruptCheckpointFailsTheJob is defect 2: the newest checkpoint's
// metadata is corrupted on disk and a TaskManager is killed. Its output may
// be committed, so restoring an older checkpoint would emit it twice: the
// job fails with a reason that says so, the output stays exactly once, and
// a JobManager started again refuses to resume it.
func TestCorruptCheckpointFailsTheJob(t *testing.T) {
	c := newCluster(t, "-Dexecution.checkpointing.interval=1s")
	out := filepath.Join(c.dir, "out")
	args := []string{"--count", "0", "--rate", "2000", "--output", out}
	jm := c.startJMAs("jobmanager-1", "Verify", args...)
	id := c.jobID(t)
	c.startTM()
	tm2 := c.startTM()
	c.waitRunningAt(t, id, countSum, 2)
	cp := c.waitCheckpoints(t, id, 2)
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
	if err := jm.wait(t, 60*time.Second); err == nil {
		t.Fatal("the jobmanager exited 0; the job should have failed")
	}
	log := logOf(t, jm)
	for _, want := range []string{"the checkpoint to restore is corrupt; failing the job", "would repeat output", "state=FAILED"} {
		if !strings.Contains(log, want) {
			t.Errorf("the jobmanager log does not say %q", want)
		}
	}
	verifyOutput(t, out, "16", "0")

	jm2 := c.startJMAs("jobmanager-2", "Verify", args...)
	if err := jm2.wait(t, 30*time.Second); err == nil {
		t.Fatal("a jobmanager started again resumed from a corrupt checkpoint")
	}
	if log := logOf(t, jm2); !strings.Contains(log, fmt.Sprintf("latest checkpoint %d cannot be restored", cp.Latest.Completed.ID)) {
		t.Fatalf("the second jobmanager does not say why it cannot start:\n%s", log)
	}
	verifyOutput(t, out, "16", "0")
}

// TestSavepointWithMissingStateFailsTheStart is defect 2, reproduction A: a
// savepoint one of whose state files was deleted cannot be restored, and
// the start says so instead of running the job from empty state.
func TestSavepointWithMissingStateFailsTheStart(t *testing.T) {
	c := newCluster(t)
	out := filepath.Join(c.dir, "out")
	args := []string{"--keys", "8", "--count", "0", "--rate", "4000", "--output", out}
	jm := c.startJMAs("jobmanager-1", "Verify", args...)
	id := c.jobID(t)
	c.startTM()
	c.waitRunningAt(t, id, countSum, 1)
	time.Sleep(time.Second)
	loc := c.savepoint(t, id, "stop", map[string]any{})
	jm.wait(t, 60*time.Second)
	dir := strings.TrimSuffix(strings.TrimPrefix(loc, "file://"), "/_metadata")
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	deleted := ""
	for _, e := range es {
		if e.Name() != "_metadata" {
			deleted = filepath.Join(dir, e.Name())
			break
		}
	}
	if deleted == "" {
		t.Fatalf("savepoint %s has no state file", dir)
	}
	if err := os.Remove(deleted); err != nil {
		t.Fatal(err)
	}
	c.dynamic = append(c.dynamic, "-Dexecution.savepoint.path="+loc)
	jm2 := c.startJMAs("jobmanager-2", "Verify", args...)
	if err := jm2.wait(t, 30*time.Second); err == nil {
		t.Fatal("the jobmanager started from a savepoint with a missing state file")
	}
	log := logOf(t, jm2)
	if !strings.Contains(log, "cannot be restored") || !strings.Contains(log, filepath.Base(deleted)) {
		t.Fatalf("the start does not say which state file is missing:\n%s", log)
	}
	verifyOutput(t, out, "8", "0")
}

// TestJobManagerRestartedWhileTheStoreIsAway: the JobManager is killed and
// started again while the checkpoint directory is away (an unmounted
// volume): it finds an empty directory, which looks like a job that never
// ran. The TaskManagers that ran the job say otherwise when they register,
// and it stops instead of running the job over its committed output. Once
// the directory is back, a JobManager resumes the job, exactly once.
func TestJobManagerRestartedWhileTheStoreIsAway(t *testing.T) {
	c := newCluster(t, "-Dexecution.checkpointing.interval=500ms")
	out := filepath.Join(c.dir, "out")
	args := []string{"--keys", "8", "--count", "30000", "--rate", "5000", "--output", out}
	jm := c.startJMAs("jobmanager-1", "Verify", args...)
	id := c.jobID(t)
	c.startTM()
	c.startTM()
	c.waitRunningAt(t, id, countSum, 2)
	c.waitCheckpoints(t, id, 2)
	jm.signal(syscall.SIGKILL)
	jm.wait(t, 10*time.Second)

	dir := filepath.Join(c.home, "checkpoints")
	away := dir + ".away"
	if err := os.Rename(dir, away); err != nil {
		t.Fatal(err)
	}
	jm2 := c.startJMAs("jobmanager-2", "Verify", args...)
	if err := jm2.wait(t, 60*time.Second); err == nil {
		t.Fatal("the jobmanager that found an empty checkpoint directory ran the job to the end")
	}
	if log := logOf(t, jm2); !strings.Contains(log, "is not the directory the job ran with") {
		t.Fatalf("the jobmanager does not say why it stopped:\n%s", log)
	}
	mergeInto(t, away, dir)

	jm3 := c.startJMAs("jobmanager-3", "Verify", args...)
	c.waitFinished(t, id, jm3, 120*time.Second)
	verifyOutput(t, out, "8", "30000")
}

// TestJobManagerRestartedWhileTheStoreFails: the JobManager is killed and
// started again while its checkpoint storage returns errors (here every
// access under the job's directory fails: it is a file) for a few seconds,
// rather than reading as empty. The JobManager waits for the store, logging
// its retries at WARN, and resumes the job once it is back; the
// TaskManagers, left running, reconnect; no third JobManager is needed,
// and the output is exactly once.
func TestJobManagerRestartedWhileTheStoreFails(t *testing.T) {
	c := newCluster(t, "-Dexecution.checkpointing.interval=500ms")
	out := filepath.Join(c.dir, "out")
	args := []string{"--keys", "8", "--count", "30000", "--rate", "5000", "--output", out}
	jm := c.startJMAs("jobmanager-1", "Verify", args...)
	id := c.jobID(t)
	tm1, tm2 := c.startTM(), c.startTM()
	c.waitRunningAt(t, id, countSum, 2)
	c.waitCheckpoints(t, id, 2)
	jm.signal(syscall.SIGKILL)
	jm.wait(t, 10*time.Second)

	dir := filepath.Join(c.home, "checkpoints", id)
	away := dir + ".away"
	if err := os.Rename(dir, away); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	jm2 := c.startJMAs("jobmanager-2", "Verify", args...)
	eventually(t, 30*time.Second, "the jobmanager to retry the store", func() (bool, string) {
		if jm2.exited() {
			t.Fatalf("the jobmanager gave up at once on a failing store: %v\n%s", jm2.err, logOf(t, jm2))
		}
		return strings.Contains(logOf(t, jm2), "checkpoint storage failed; retrying"), ""
	})
	time.Sleep(3 * time.Second)
	if jm2.exited() {
		t.Fatalf("the jobmanager gave up while the store was failing: %v\n%s", jm2.err, logOf(t, jm2))
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(away, dir); err != nil {
		t.Fatal(err)
	}

	c.waitFinished(t, id, jm2, 120*time.Second)
	if tm1.exited() || tm2.exited() {
		t.Fatal("a taskmanager exited; both should have reconnected to the restarted jobmanager")
	}
	verifyOutput(t, out, "8", "30000")
	log := logOf(t, jm2)
	if !strings.Contains(log, "resuming the job from its latest checkpoint") {
		t.Fatalf("the restarted jobmanager does not say it resumed the job:\n%s", log)
	}
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "checkpoint storage failed; retrying") &&
			(!strings.Contains(l, "level=WARN") || !strings.Contains(l, "attempt=") || !strings.Contains(l, "retry_in=")) {
			t.Errorf("a retry is not logged at WARN with its attempt and next delay: %s", l)
		}
	}
}
