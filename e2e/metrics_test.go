package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape reads the samples of a /metrics endpoint: series with labels to value.
func scrape(port int) (map[string]float64, error) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// sum adds the samples of a series whose labels contain every one of match.
func sum(samples map[string]float64, name string, match ...string) (float64, bool) {
	total, found := 0.0, false
	for k, v := range samples {
		if k != name && !strings.HasPrefix(k, name+"{") {
			continue
		}
		ok := true
		for _, m := range match {
			ok = ok && strings.Contains(k, m)
		}
		if ok {
			total, found = total+v, true
		}
	}
	return total, found
}

// TestPrometheusEndpoints runs a JobManager and TaskManagers as processes,
// each serving /metrics on its own port, and reads the series DESIGN.md
// fixes: the JobManager's TaskManager and slot counts and rescales by
// trigger, the subtasks' record counters growing and their time split.
func TestPrometheusEndpoints(t *testing.T) {
	t.Parallel()
	c := newCluster(t, "-Dexecution.checkpointing.interval=300ms")
	jmPort, tm1Port, tm2Port := freePort(t), freePort(t), freePort(t)
	out := filepath.Join(c.dir, "out")
	args := append([]string{"standalone-job", "start-foreground", "-j", "Verify"}, c.dynamic...)
	args = append(args, "-Dmetrics.reporter.prom.port="+strconv.Itoa(jmPort), "--", "--keys", "8", "--count", "0", "--rate", "2000", "--output", out)
	c.start("jobmanager", args...)
	id := c.jobID(t)
	c.startTM("-Dmetrics.reporter.prom.port=" + strconv.Itoa(tm1Port))
	c.waitRunningAt(t, id, countSum, 1)

	var first float64
	eventually(t, 30*time.Second, "records counted by the taskmanager", func() (bool, string) {
		s, err := scrape(tm1Port)
		if err != nil {
			return false, err.Error()
		}
		in, ok := sum(s, "tide_task_records_in_total", `task_name="CountSum`)
		first = in
		busy, _ := sum(s, "tide_task_busy_seconds_total")
		idle, _ := sum(s, "tide_task_idle_seconds_total")
		_, hasJob := sum(s, "tide_task_records_out_total", `job_id="`+id+`"`)
		return ok && in > 0 && busy+idle > 0 && hasJob && s["go_goroutines"] > 0,
			fmt.Sprintf("records in %v (found %v), busy %v idle %v, job label %v", in, ok, busy, idle, hasJob)
	})
	eventually(t, 30*time.Second, "the records counter growing", func() (bool, string) {
		s, err := scrape(tm1Port)
		if err != nil {
			return false, err.Error()
		}
		in, _ := sum(s, "tide_task_records_in_total", `task_name="CountSum`)
		return in > first, fmt.Sprintf("%v after %v", in, first)
	})

	c.startTM("-Dmetrics.reporter.prom.port=" + strconv.Itoa(tm2Port))
	c.waitRunningAt(t, id, countSum, 2)
	eventually(t, 30*time.Second, "the jobmanager's series after a join", func() (bool, string) {
		s, err := scrape(jmPort)
		if err != nil {
			return false, err.Error()
		}
		joined, _ := sum(s, "tide_job_rescales_total", `trigger="taskmanager-joined"`)
		cps, _ := sum(s, "tide_checkpoints_completed_total")
		return s["tide_jobmanager_taskmanagers"] == 2 && s["tide_jobmanager_slots_total"] == 2 && joined == 1 && cps > 0,
			fmt.Sprintf("taskmanagers %v slots %v joined %v checkpoints %v", s["tide_jobmanager_taskmanagers"], s["tide_jobmanager_slots_total"], joined, cps)
	})
	eventually(t, 30*time.Second, "the second taskmanager's subtasks", func() (bool, string) {
		s, err := scrape(tm2Port)
		if err != nil {
			return false, err.Error()
		}
		in, ok := sum(s, "tide_task_records_in_total", `task_name="CountSum`)
		return ok && in > 0, fmt.Sprintf("records in %v", in)
	})
}
