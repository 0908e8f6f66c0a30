package metrics

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const envLimitChild = "TIDE_METRICS_LIMIT_CHILD"

// TestMain lets the test binary run as the child of TestRealCgroupLimit:
// it waits for a line on stdin (sent once it is in the cgroup), then
// prints its LimitCores.
func TestMain(m *testing.M) {
	if os.Getenv(envLimitChild) != "" {
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		fmt.Println(NewCPU().LimitCores())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRealCgroupLimit puts a child process into a real cgroup v1 cpu
// group with a quota of half a core, as a pod's limit or the local
// autoscaler driver does, and checks that it reads 0.5. It needs a
// writable cgroup v1 cpu controller (root on these machines).
func TestRealCgroupLimit(t *testing.T) {
	base := "/sys/fs/cgroup/cpu"
	if _, err := os.Stat(filepath.Join(base, "cpu.cfs_quota_us")); err != nil {
		t.Skip("no cgroup v1 cpu controller")
	}
	dir := filepath.Join(base, fmt.Sprintf("tide-metrics-test-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot create a cgroup: %v", err)
	}
	defer func() {
		if err := os.Remove(dir); err != nil {
			t.Errorf("removing the cgroup: %v", err)
		}
	}()
	write := func(name, v string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("cpu.cfs_period_us", "100000")
	write("cpu.cfs_quota_us", "50000")

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envLimitChild+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	write("cgroup.procs", strconv.Itoa(cmd.Process.Pid))
	fmt.Fprintln(stdin)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "0.5" {
		t.Errorf("the child in a half-core cgroup reads LimitCores %q, want 0.5", got)
	}
}
