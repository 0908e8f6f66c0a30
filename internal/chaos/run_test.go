package chaos

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
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
		case KindSetup, KindStart:
			started[e.Target] = true
		}
	}
	for name := range started {
		if !exits[name] {
			t.Errorf("%s has no exit in the timeline", name)
		}
	}
}
