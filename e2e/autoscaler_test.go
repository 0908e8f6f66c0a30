package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
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
	port := freePort(t)
	as := c.start("autoscaler", append([]string{"autoscaler", "--policy", "hpa", "--target-cpu", "5", "--driver", "local",
		"--min", "1", "--max", "2", "--sync-period", "2s", "--rest", rest, "--port", strconv.Itoa(port)}, c.dynamic...)...)
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
	// The decision is in the autoscaler's /decisions and /metrics too.
	var ds struct {
		Policy    string `json:"policy"`
		Current   int    `json:"current"`
		Decisions []struct {
			Desired int  `json:"desired"`
			Applied bool `json:"applied"`
		} `json:"decisions"`
	}
	if err := getJSON("http://127.0.0.1:"+strconv.Itoa(port)+"/decisions", &ds); err != nil {
		t.Fatal(err)
	}
	up := false
	for _, d := range ds.Decisions {
		up = up || (d.Desired == 2 && d.Applied)
	}
	if ds.Policy != "hpa" || ds.Current != 2 || !up {
		t.Errorf("/decisions: %+v", ds)
	}
	samples, err := scrape(port)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := sum(samples, "tide_autoscaler_decisions_total", `direction="up"`); n < 1 {
		t.Errorf("tide_autoscaler_decisions_total{direction=\"up\"} = %v", n)
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

// getJSON decodes the JSON answer of a GET.
func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
