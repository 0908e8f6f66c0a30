package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// startPrometheus runs Debian's prometheus scraping targets every second
// with Tide's Flink-compatibility rules, and returns its query API. It
// skips the test when prometheus is missing unless TIDE_REQUIRE_PROMETHEUS
// is set (./scripts/test sets it).
func startPrometheus(t *testing.T, c *cluster, targets []int) promv1.API {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("TIDE_REQUIRE_PROMETHEUS") != "" {
			t.Fatal("prometheus is required (Debian's prometheus package)")
		}
		t.Skip("no prometheus (Debian's prometheus package)")
	}
	dir := filepath.Join(c.dir, "prometheus")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rules, err := filepath.Abs(filepath.Join("..", "deploy", "prometheus", "flink-compat.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var ts []string
	for _, p := range targets {
		ts = append(ts, fmt.Sprintf("%q", "127.0.0.1:"+strconv.Itoa(p)))
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: tide
    static_configs:
      - targets: [%s]
        labels: {deploymentId: e2e}
`, rules, strings.Join(ts, ", "))
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p := c.startBinary("prometheus", bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	_ = p
	client, err := promapi.NewClient(promapi.Config{Address: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	return promv1.NewAPI(client)
}

// query runs a PromQL instant query and returns its samples.
func query(api promv1.API, q string) (model.Vector, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, _, _, err := api.Query(ctx, q, time.Now())
	if err != nil {
		return nil, err
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("%s: a %s, not a vector", q, v.Type())
	}
	return vec, nil
}

// TestPrometheusScrapesTheSeedPanels runs the seed's scenario as processes
// — a `tide kafka` broker, `tide datagen` feeding it, the CPULoad job, one
// TaskManager then two — and a real Prometheus scraping them with deploy/'s
// Flink-compatibility rules, and asks it the seed dashboard's four panels,
// verbatim (Kafka consumer lag, throughput by task, CPU load per
// TaskManager, TaskManager count), and that they follow the join.
func TestPrometheusScrapesTheSeedPanels(t *testing.T) {
	t.Parallel()
	c := newCluster(t, "-Dexecution.checkpointing.interval=500ms")
	jmPort, tm1Port, tm2Port := freePort(t), freePort(t), freePort(t)
	api := startPrometheus(t, c, []int{jmPort, tm1Port, tm2Port})
	broker := c.startBroker(t, "topic:1")
	c.start("datagen", "datagen", "--bootstrap-servers", broker, "--topic", "topic", "--shape", "constant",
		"--rate", "4000", "--duration", "10m")
	args := append([]string{"standalone-job", "start-foreground", "-j", "CPULoad"}, c.dynamic...)
	args = append(args, "-Dmetrics.reporter.prom.port="+strconv.Itoa(jmPort),
		"--", "--bootstrap-servers", broker, "--topic", "topic", "--group-id", "cpuload", "--iterations", "50")
	c.start("jobmanager", args...)
	id := c.jobID(t)
	c.startTM("-Dmetrics.reporter.prom.port=" + strconv.Itoa(tm1Port))
	c.waitRunningAt(t, id, cpuLoadComputation(t, c, id), 1)

	// value is the largest sample of a query, and how many it has.
	value := func(q string) (float64, int, error) {
		vec, err := query(api, q)
		if err != nil || len(vec) == 0 {
			return 0, 0, err
		}
		top := float64(vec[0].Value)
		for _, s := range vec {
			top = max(top, float64(s.Value))
		}
		return top, len(vec), nil
	}
	// The seed dashboard's expressions, verbatim, its $deploymentId variable set.
	seed := func(q string) string { return strings.ReplaceAll(q, "$deploymentId", "e2e") }
	const (
		lag        = `sum(flink_taskmanager_job_task_operator_KafkaConsumer_records_lag_max)`
		throughput = `sum by (task_name) (flink_taskmanager_job_task_numRecordsOutPerSecond{deploymentId="$deploymentId"})`
		cpu        = `flink_taskmanager_Status_JVM_CPU_Load`
		tms        = `flink_jobmanager_numRegisteredTaskManagers`
	)
	const wait = 60 * time.Second
	eventually(t, wait, "the seed's four panels with one TaskManager", func() (bool, string) {
		l, nl, err1 := value(seed(lag))
		thr, _, err2 := value(seed(throughput))
		load, n, err3 := value(seed(cpu))
		count, _, err4 := value(seed(tms))
		return nl == 1 && l >= 0 && thr > 0 && load > 0 && n == 1 && count == 1,
			fmt.Sprintf("lag %v (%d series), throughput %v, cpu %v over %d, taskmanagers %v (%v %v %v %v)", l, nl, thr, load, n, count, err1, err2, err3, err4)
	})
	c.startTM("-Dmetrics.reporter.prom.port=" + strconv.Itoa(tm2Port))
	eventually(t, wait, "the panels after a TaskManager joined", func() (bool, string) {
		count, _, err1 := value(seed(tms))
		_, n, err2 := value(seed(cpu))
		rescales, _, err3 := value(`sum(tide_job_rescales_total{trigger="taskmanager-joined"})`)
		uptime, _, err4 := value(seed(`flink_jobmanager_job_uptime{deploymentId="$deploymentId"}`))
		return count == 2 && n == 2 && rescales == 1 && uptime > 0,
			fmt.Sprintf("taskmanagers %v, cpu series %d, rescales %v, uptime %v (%v %v %v %v)", count, n, rescales, uptime, err1, err2, err3, err4)
	})
}

// cpuLoadComputation returns the REST id of CPULoad's computation vertex.
func cpuLoadComputation(t *testing.T, c *cluster, id string) string {
	t.Helper()
	var vertex string
	eventually(t, 30*time.Second, "the job's vertices", func() (bool, string) {
		j, err := c.job(id)
		if err != nil {
			return false, err.Error()
		}
		for _, v := range j.Vertices {
			if strings.Contains(v.Name, "Expensive Computation") {
				vertex = v.ID
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", j.Vertices)
	})
	return vertex
}
