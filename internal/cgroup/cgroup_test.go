package cgroup

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPodArithmetic(t *testing.T) {
	if got := v1Quota(500); got != "50000" {
		t.Errorf("v1 quota of 500m: %s", got)
	}
	if got := v1Quota(0); got != "-1" {
		t.Errorf("v1 quota without a limit: %s", got)
	}
	if got := v2Max(250); got != "25000 100000" {
		t.Errorf("v2 max of 250m: %s", got)
	}
	// Kubernetes: 250m -> 256 shares -> weight 10.
	if got := v2Weight(250); got != 10 {
		t.Errorf("v2 weight of 250m: %d", got)
	}
}

// TestNoController: a root without a cpu controller gives ErrUnavailable.
func TestNoController(t *testing.T) {
	if _, err := Open(t.TempDir(), "tide"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Open = %v, want ErrUnavailable", err)
	}
	if _, err := Open(t.TempDir(), "a/b"); err == nil {
		t.Fatal("a name with a slash is accepted")
	}
}

// TestRealLimit runs a CPU-bound child in a real cgroup with a 200m limit
// for a second and checks that it used about 0.2 s of CPU, then removes
// the cgroups. It needs a writable cpu controller (root on Linux).
func TestRealLimit(t *testing.T) {
	g, err := Open("/sys/fs/cgroup", fmt.Sprintf("tide-cgroup-test-%d", os.Getpid()))
	if errors.Is(err, ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := g.Close(); err != nil {
			t.Error(err)
		}
	}()
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := g.Add("burner", cmd.Process.Pid, CPU{RequestMilli: 100, LimitMilli: 200}); err != nil {
		_ = cmd.Process.Kill()
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	used := cpuSeconds(t, cmd.Process.Pid)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if err := g.Remove("burner"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(g.Dir(), "burner")); !os.IsNotExist(err) {
		t.Errorf("the child cgroup is still there: %v", err)
	}
	// A 0.2-core quota for about a second: well under half a core even
	// with the time before Add; unlimited it would use a whole core.
	if used > 0.5 {
		t.Errorf("the child used %.2f s of CPU in about 1 s under a 200m limit", used)
	}
	t.Logf("used %.2f s of CPU in about 1 s under a 200m limit (cgroup v%d)", used, g.Version())
}

// cpuSeconds reads a process's user+system CPU time from /proc.
func cpuSeconds(t *testing.T, pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // clock ticks; 100 per second on Linux
}
