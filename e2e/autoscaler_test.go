package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAutoscalerScalesUpLocally runs the seed's scenario small: a `tide
// kafka` broker, `tide datagen` feeding it, the CPULoad job, and `tide
// autoscaler --policy hpa --driver local`, which starts the job's first
// TaskManager itself (in a cgroup with a pod's 250m/500m when the machine
// allows it) and, the CPU above the low target, scales to two. SIGTERM
// stops the autoscaler, its TaskManagers and their cgroups.
func TestAutoscalerScalesUpLocally(t *testing.T) {
	t.Parallel()
	c := newCluster(t, "-Dexecution.checkpointing.interval=500ms")
	broker := c.startBroker(t, "topic:1")
	c.start("datagen", "datagen", "--bootstrap-servers", broker, "--topic", "topic", "--shape", "constant",
		"--rate", "3000", "--duration", "10m")
	c.startJM("CPULoad", "--bootstrap-servers", broker, "--topic", "topic", "--group-id", "cpuload", "--iterations", "200")
	id := c.jobID(t)
	rest := "http://127.0.0.1:" + strconv.Itoa(c.restPort)
	as := c.start("autoscaler", append([]string{"autoscaler", "--policy", "hpa", "--target-cpu", "5", "--driver", "local",
		"--min", "1", "--max", "2", "--sync-period", "2s", "--rest", rest}, c.dynamic...)...)
	comp := cpuLoadComputation(t, c, id)
	c.waitRunningAt(t, id, comp, 1)
	c.waitRunningAt(t, id, comp, 2)
	log, err := os.ReadFile(as.log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), `policy=hpa current=1 desired=2 change=true`) {
		t.Errorf("no logged decision 1 -> 2:\n%s", log)
	}
	as.signal(syscall.SIGTERM)
	if err := as.wait(t, 60*time.Second); err != nil {
		t.Errorf("the autoscaler exited with %v", err)
	}
	pid := as.cmd.Process.Pid
	if _, err := os.Stat(filepath.Join("/sys/fs/cgroup/cpu", "tide-"+strconv.Itoa(pid))); !os.IsNotExist(err) {
		t.Errorf("the autoscaler's cgroup is still there (%v)", err)
	}
}
