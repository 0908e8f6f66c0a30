package metrics

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// fakeCgroup writes a cgroup membership file and the files under a fake
// cgroup root, and returns a CPU reading them.
func fakeCgroup(t *testing.T, membership string, files map[string]string) *CPU {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	proc := filepath.Join(root, "self-cgroup")
	if err := os.WriteFile(proc, []byte(membership), 0o644); err != nil {
		t.Fatal(err)
	}
	return &CPU{root: root, proc: proc}
}

// TestLimitCores reads a pod-like CPU limit from cgroup v2 and v1, and the
// machine's cores without one.
func TestLimitCores(t *testing.T) {
	for _, tc := range []struct {
		name       string
		membership string
		files      map[string]string
		want       float64
	}{
		{"v2 half a core", "0::/kubepods/pod1\n", map[string]string{"kubepods/pod1/cpu.max": "50000 100000\n"}, 0.5},
		{"v2 no limit", "0::/x\n", map[string]string{"x/cpu.max": "max 100000\n"}, float64(runtime.NumCPU())},
		{"v1 a quarter", "4:memory:/a\n2:cpu,cpuacct:/tm-1\n0::/\n", map[string]string{
			"cpu/tm-1/cpu.cfs_quota_us": "25000\n", "cpu/tm-1/cpu.cfs_period_us": "100000\n"}, 0.25},
		{"v1 no quota", "1:cpu:/\n", map[string]string{"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, float64(runtime.NumCPU())},
		{"unreadable", "garbage", nil, float64(runtime.NumCPU())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fakeCgroup(t, tc.membership, tc.files).LimitCores(); got != tc.want {
				t.Errorf("LimitCores = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSecondsGrow(t *testing.T) {
	c := NewCPU()
	before := c.Seconds()
	x := 0.0
	for i := range 20_000_000 {
		x += float64(i % 7)
	}
	if c.Seconds() <= before || x == 0 {
		t.Errorf("CPU seconds did not grow: %v then %v", before, c.Seconds())
	}
}
