package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tide-stream/tide/internal/metrics"
)

// seedDashboard are the PromQL expressions of the seed's Grafana dashboard
// (rmetzger/flink-reactive-mode-k8s-demo, grafana-dashboard.json), which
// must work unchanged on Tide's series through flink-compat.rules.yml.
var seedDashboard = []string{
	`flink_jobmanager_job_uptime{deploymentId="$deploymentId"}`,
	`round(increase(flink_jobmanager_job_numRestarts{deploymentId="$deploymentId"}[$__range]))`,
	`flink_jobmanager_job_lastCheckpointSize{deploymentId="$deploymentId"}`,
	`flink_jobmanager_job_lastCheckpointDuration{deploymentId="$deploymentId"}`,
	`sum(flink_taskmanager_job_task_operator_KafkaConsumer_records_lag_max)`,
	`sum by (task_name) (flink_taskmanager_job_task_numRecordsOutPerSecond{deploymentId="$deploymentId"})`,
	`flink_taskmanager_Status_JVM_CPU_Load`,
	`flink_jobmanager_numRegisteredTaskManagers`,
	`round(increase(flink_jobmanager_job_numberOfFailedCheckpoints{deploymentId="$deploymentId"}[$__range]))`,
	`round(increase(flink_jobmanager_job_numberOfCompletedCheckpoints{deploymentId="$deploymentId"}[$__range]))`,
	`flink_jobmanager_Status_JVM_Memory_Heap_Used{deploymentId="$deploymentId"}`,
	`flink_taskmanager_Status_JVM_Memory_Heap_Used{deploymentId="$deploymentId"}`,
}

// grafanaMacros replaces Grafana's variables so that promtool can parse an
// expression.
var grafanaMacros = strings.NewReplacer("$__rate_interval", "1m", "$__range", "1h", "$__interval", "15s",
	"$deploymentId", "local", "${datasource}", "prometheus")

// checkExprs parses every expression with promtool (as recording rules of a
// scratch file) and checks that each series it names is one Tide exports:
// declared in internal/metrics, recorded by flink-compat.rules.yml, or one
// of client_golang's standard go_ and process_ series.
func checkExprs(t *testing.T, what string, exprs []string) {
	t.Helper()
	known := map[string]bool{}
	for _, s := range metrics.All {
		known[s.Name] = true
	}
	b, err := os.ReadFile("prometheus/flink-compat.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rs rules
	if err := yaml.Unmarshal(b, &rs); err != nil {
		t.Fatal(err)
	}
	for _, g := range rs.Groups {
		for _, r := range g.Rules {
			known[r.Record] = true
		}
	}
	series := regexp.MustCompile(`\b(tide|flink)_[A-Za-z_]+\b`)
	var file strings.Builder
	file.WriteString("groups:\n  - name: check\n    rules:\n")
	for i, e := range exprs {
		for _, name := range series.FindAllString(e, -1) {
			if !known[name] {
				t.Errorf("%s: %q names %s, which Tide does not export", what, e, name)
			}
		}
		q, _ := json.Marshal(grafanaMacros.Replace(e))
		fmt.Fprintf(&file, "      - record: check_%d\n        expr: %s\n", i, q)
	}
	path := filepath.Join(t.TempDir(), "exprs.yml")
	if err := os.WriteFile(path, []byte(file.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(requirePromtool(t), "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("%s: promtool does not parse its expressions: %v\n%s", what, err, out)
	}
}

// TestSeedDashboard: every expression of the seed's dashboard parses and
// names only series Tide's rules record.
func TestSeedDashboard(t *testing.T) { checkExprs(t, "the seed's dashboard", seedDashboard) }

// TestTideDashboard: deploy/grafana/tide-dashboard.json is a dashboard
// whose every expression, panels and annotations, parses and names only
// series Tide exports; it has the seed's four throughput panels.
func TestTideDashboard(t *testing.T) {
	b, err := os.ReadFile("grafana/tide-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Annotations struct {
			List []struct {
				Expr string `json:"expr"`
			} `json:"list"`
		} `json:"annotations"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var exprs []string
	titles := map[string]bool{}
	for _, p := range d.Panels {
		titles[p.Title] = true
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, a := range d.Annotations.List {
		exprs = append(exprs, a.Expr)
	}
	if len(exprs) < 10 {
		t.Fatalf("only %d expressions", len(exprs))
	}
	for _, want := range []string{"Kafka consumer lag", "Throughput", "TaskManager CPU load", "TaskManagers", "Rescale pause", "Reprocessed records"} {
		if !titles[want] {
			t.Errorf("no panel %q", want)
		}
	}
	checkExprs(t, "tide-dashboard.json", exprs)
}
