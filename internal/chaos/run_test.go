package chaos

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// buildTide builds the tide binary into a temporary directory, from the
// module root that `go env GOMOD` names.
func buildTide(t *testing.T) string {
	t.Helper()
	mod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(mod)))
	bin := filepath.Join(t.TempDir(), "tide")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/tide")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/tide: %v\n%s", err, out)
	}
	return bin
}

// TestRunShort runs a short chaos run on real processes; it must pass.
func TestRunShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tide and runs a cluster of processes")
	}
	bin := buildTide(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out bytes.Buffer
	cfg := Config{
		Events: 6, Interval: time.Second, Rate: 2000, Count: 14000, Seed: 1,
		Dir: dir, Executable: bin, FinishTimeout: 45 * time.Second,
	}
	res, err := Run(ctx, cfg, &out)
	t.Logf("output:\n%s", out.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.Passed() {
		t.Fatalf("seed %d failed: %s (logs in %s)", res.Seed, res.Failure, res.Dir)
	}
	chaos := 0
	for _, e := range res.Events {
		if e.Chaos {
			chaos++
		}
	}
	if chaos != 6 {
		t.Errorf("%d chaos events in the timeline, want 6", chaos)
	}
	if !strings.HasPrefix(out.String(), "chaos seed 1 ") {
		t.Errorf("the output does not start with the seed: %.80q", out.String())
	}
	// No process outlives Run: every one has an exit in the timeline.
	exits := map[string]bool{}
	started := map[string]bool{}
	for _, e := range res.Events {
		switch e.Kind {
		case KindExit:
			exits[e.Target] = true
		case KindSetup, KindStart, KindRestart:
			started[e.Target] = true
		}
	}
	for name := range started {
		if !exits[name] {
			t.Errorf("%s has no exit in the timeline", name)
		}
	}
}

// TestRunJobManagerRestarts runs a short chaos run whose events are a
// jm-stop and a jm-kill (seed 1 draws them in that order): each JobManager
// is started again with its own log, resumes the job, and the output is
// exactly once.
func TestRunJobManagerRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tide and runs a cluster of processes")
	}
	bin := buildTide(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out bytes.Buffer
	cfg := Config{
		Events: 2, Interval: 2 * time.Second, Rate: 2000, Count: 16000, Seed: 1,
		Kinds: JobManagerKinds, Dir: dir, Executable: bin, FinishTimeout: 45 * time.Second,
	}
	res, err := Run(ctx, cfg, &out)
	t.Logf("output:\n%s", out.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.Passed() {
		t.Fatalf("seed %d failed: %s (logs in %s)", res.Seed, res.Failure, res.Dir)
	}
	var kinds []Kind
	restarted := map[string]bool{}
	exits := map[string]bool{}
	for _, e := range res.Events {
		switch {
		case e.Chaos:
			kinds = append(kinds, e.Kind)
		case e.Kind == KindRestart:
			restarted[e.Target] = true
		case e.Kind == KindExit:
			exits[e.Target] = true
		}
	}
	if !slices.Equal(kinds, []Kind{KindJMStop, KindJMKill}) {
		t.Fatalf("chaos events %v, want [jm-stop jm-kill]", kinds)
	}
	if res.JobManagerRestarts != 2 || !restarted["jobmanager-2"] || !restarted["jobmanager-3"] {
		t.Fatalf("%d JobManager restarts, restarted %v; want 2: jobmanager-2 and jobmanager-3", res.JobManagerRestarts, restarted)
	}
	for _, name := range []string{"jobmanager", "jobmanager-2", "jobmanager-3"} {
		if !exits[name] {
			t.Errorf("%s has no exit in the timeline", name)
		}
		b, err := os.ReadFile(filepath.Join(dir, "logs", name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		if name != "jobmanager" && !strings.Contains(string(b), "resuming the job from") {
			t.Errorf("logs/%s.log does not say it resumed the job", name)
		}
	}
	if !strings.Contains(out.String(), "JobManager restarts 2") {
		t.Error("the summary does not count the JobManager restarts")
	}
}
