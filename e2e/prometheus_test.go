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

// TestPrometheusScrapesTheSeedPanels runs a cluster as processes and a real
// Prometheus scraping it with deploy/'s Flink-compatibility rules, and asks
// through PromQL for the seed dashboard's panels under Flink's names: the
// TaskManager count, throughput by task and CPU load per TaskManager, and
// that they change when a TaskManager joins.
func TestPrometheusScrapesTheSeedPanels(t *testing.T) {
	t.Parallel()
	c := newCluster(t, "-Dexecution.checkpointing.interval=300ms")
	jmPort, tm1Port, tm2Port := freePort(t), freePort(t), freePort(t)
	api := startPrometheus(t, c, []int{jmPort, tm1Port, tm2Port})
	out := filepath.Join(c.dir, "out")
	args := append([]string{"standalone-job", "start-foreground", "-j", "Verify"}, c.dynamic...)
	args = append(args, "-Dmetrics.reporter.prom.port="+strconv.Itoa(jmPort), "--", "--keys", "8", "--count", "0", "--rate", "2000", "--output", out)
	c.start("jobmanager", args...)
	id := c.jobID(t)
	c.startTM("-Dmetrics.reporter.prom.port=" + strconv.Itoa(tm1Port))
	c.waitRunningAt(t, id, countSum, 1)

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
	const wait = 60 * time.Second
	// The seed dashboard's expressions, verbatim, its $deploymentId variable set.
	seed := func(q string) string { return strings.ReplaceAll(q, "$deploymentId", "e2e") }
	eventually(t, wait, "one TaskManager, throughput and CPU load through the Flink names", func() (bool, string) {
		tms, _, err1 := value(seed(`flink_jobmanager_numRegisteredTaskManagers`))
		thr, _, err2 := value(seed(`sum by (task_name) (flink_taskmanager_job_task_numRecordsOutPerSecond{deploymentId="$deploymentId"})`))
		cpu, n, err3 := value(seed(`flink_taskmanager_Status_JVM_CPU_Load`))
		return tms == 1 && thr > 0 && cpu > 0 && n == 1, fmt.Sprintf("taskmanagers %v, throughput %v, cpu %v over %d (%v %v %v)", tms, thr, cpu, n, err1, err2, err3)
	})
	c.startTM("-Dmetrics.reporter.prom.port=" + strconv.Itoa(tm2Port))
	c.waitRunningAt(t, id, countSum, 2)
	eventually(t, wait, "the panels after a TaskManager joined", func() (bool, string) {
		tms, _, err1 := value(`flink_jobmanager_numRegisteredTaskManagers`)
		_, n, err2 := value(`flink_taskmanager_Status_JVM_CPU_Load`)
		rescales, _, err3 := value(`sum(tide_job_rescales_total{trigger="taskmanager-joined"})`)
		uptime, _, err4 := value(seed(`flink_jobmanager_job_uptime{deploymentId="$deploymentId"}`))
		return tms == 2 && n == 2 && rescales == 1 && uptime > 0,
			fmt.Sprintf("taskmanagers %v, cpu series %d, rescales %v, uptime %v (%v %v %v %v)", tms, n, rescales, uptime, err1, err2, err3, err4)
	})
}
