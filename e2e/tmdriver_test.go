package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/cgroup"
	"github.com/tide-stream/tide/internal/tmdriver"
)

// TestLocalDriverScales drives a running Verify job's TaskManagers with the
// autoscaler's local driver: up to two (each in its own cgroup with the
// seed's pod budget, 250m request and 500m limit, when the machine allows
// it), down to one through graceful decommission, and Close; then every
// TaskManager process and cgroup is gone and the output verifies.
func TestLocalDriverScales(t *testing.T) {
	t.Parallel()
	c := newCluster(t, "-Dexecution.checkpointing.interval=300ms")
	out := filepath.Join(c.dir, "out")
	c.startJM("Verify", "--keys", "8", "--count", "0", "--rate", "2000", "--output", out)
	id := c.jobID(t)
	var log strings.Builder
	d, err := tmdriver.NewLocal(tmdriver.LocalConfig{
		Exe: tideBin, Flags: append([]string{"-Dtaskmanager.numberOfTaskSlots=1"}, c.dynamic...),
		CPU: cgroup.CPU{RequestMilli: 250, LimitMilli: 500}, Stderr: &syncBuilder{b: &log},
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = d.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := d.Scale(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if n := d.Count(); n != 2 {
		t.Fatalf("Count %d after Scale(2)", n)
	}
	c.waitRunningAt(t, id, countSum, 2)
	group := filepath.Join("/sys/fs/cgroup/cpu", "tide-"+strconv.Itoa(os.Getpid()))
	if d.Limited() {
		b, err := os.ReadFile(filepath.Join(group, "taskmanager-1", "cpu.cfs_quota_us"))
		if err != nil || strings.TrimSpace(string(b)) != "50000" {
			t.Errorf("taskmanager-1's cgroup quota: %q, %v; want 50000 (500m)", b, err)
		}
	} else {
		t.Logf("no cgroup access here: TaskManagers ran without CPU limits")
	}
	time.Sleep(500 * time.Millisecond)
	if err := d.Scale(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c.waitRescale(t, id, "taskmanager-leaving", 2, 1)
	time.Sleep(500 * time.Millisecond)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	if _, err := os.Stat(group); !os.IsNotExist(err) {
		t.Errorf("the driver's cgroup %s is still there (%v)", group, err)
	}
	c.stopAll()
	if o, err := tide(t, "verify", "--output", out, "--keys", "8", "--count", "0"); err != nil {
		t.Fatalf("tide verify: %v\n%s", err, o)
	}
}

// syncBuilder is a strings.Builder safe for the driver's log goroutines.
type syncBuilder struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
