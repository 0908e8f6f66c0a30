package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tide-stream/tide/internal/metrics"
)

// rules is the shape of a Prometheus rule file.
type rules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record string `yaml:"record"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

var tideSeries = regexp.MustCompile(`\btide_[a-z_]+\b`)

// requirePromtool returns promtool's path, skipping the test when it is
// missing unless TIDE_REQUIRE_PROMETHEUS is set (./scripts/test sets it).
func requirePromtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("TIDE_REQUIRE_PROMETHEUS") != "" {
			t.Fatal("promtool is required (Debian's prometheus package)")
		}
		t.Skip("no promtool (Debian's prometheus package)")
	}
	return p
}

// TestFlinkCompatRules: the rule file parses (promtool's own check), every
// Tide series an expression names is one Tide declares, and the rules give
// every Flink name the seed's dashboard queries.
func TestFlinkCompatRules(t *testing.T) {
	const file = "prometheus/flink-compat.rules.yml"
	if out, err := exec.Command(requirePromtool(t), "check", "rules", file).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rs rules
	if err := yaml.Unmarshal(b, &rs); err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, s := range metrics.All {
		declared[s.Name] = true
	}
	var records []string
	for _, g := range rs.Groups {
		for _, r := range g.Rules {
			records = append(records, r.Record)
			for _, name := range tideSeries.FindAllString(r.Expr, -1) {
				if !declared[name] {
					t.Errorf("rule %s names %s, which Tide does not export", r.Record, name)
				}
			}
		}
	}
	for _, want := range SeedFlinkSeries {
		if !slices.Contains(records, want) {
			t.Errorf("no rule records %s, which the seed's dashboard queries", want)
		}
	}
}

// SeedFlinkSeries are the Flink series the seed's dashboard queries.
var SeedFlinkSeries = []string{
	"flink_taskmanager_job_task_operator_KafkaConsumer_records_lag_max",
	"flink_taskmanager_job_task_numRecordsOutPerSecond",
	"flink_taskmanager_Status_JVM_CPU_Load",
	"flink_jobmanager_numRegisteredTaskManagers",
	"flink_jobmanager_job_uptime",
	"flink_jobmanager_job_numRestarts",
	"flink_jobmanager_job_lastCheckpointSize",
	"flink_jobmanager_job_lastCheckpointDuration",
	"flink_jobmanager_job_numberOfCompletedCheckpoints",
	"flink_jobmanager_job_numberOfFailedCheckpoints",
}

// TestScrapeConfigs: the local configurations pass promtool's check, and
// the Kubernetes one names the rule file and passes promtool's syntax check
// with its Kubernetes discovery swapped for a static target (this Debian
// build of Prometheus has no Kubernetes discovery to check it against);
// TestKubernetesPrometheusSecured checks what it scrapes, and how.
func TestScrapeConfigs(t *testing.T) {
	if out, err := exec.Command(requirePromtool(t), "check", "config", "prometheus/prometheus-local.yml").CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	// The secured example names files that are the user's (the CA, the
	// token): its syntax here, and TestPrometheusScrapesASecuredPort
	// scrapes with it.
	if out, err := exec.Command(requirePromtool(t), "check", "config", "--syntax-only", "prometheus/prometheus-local-secure.yml").CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	b, err := os.ReadFile("prometheus/prometheus-kubernetes.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "flink-compat.rules.yml") || cfg["scrape_configs"] == nil {
		t.Fatal("the Kubernetes configuration lacks the rule file or its scrape configs")
	}
	scs, _ := cfg["scrape_configs"].([]any)
	for _, x := range scs {
		sc, ok := x.(map[string]any)
		if !ok || sc["kubernetes_sd_configs"] == nil {
			t.Fatalf("a scrape config of the Kubernetes configuration without kubernetes_sd_configs: %v", x)
		}
		delete(sc, "kubernetes_sd_configs")
		sc["static_configs"] = []any{map[string]any{"targets": []string{"10.244.0.7:9249"}}}
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	static := filepath.Join(t.TempDir(), "prometheus-kubernetes.yml")
	if err := os.WriteFile(static, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(requirePromtool(t), "check", "config", "--syntax-only", static).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config of prometheus-kubernetes.yml with static targets: %v\n%s", err, out)
	}
}
