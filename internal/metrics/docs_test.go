package metrics

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated series table in docs/metrics.md")

var metricsDoc = filepath.Join("..", "..", "docs", "metrics.md")

const (
	tableBegin = "<!-- BEGIN series table: generated from internal/metrics/series.go by `go test ./internal/metrics -run TestMetricsDoc -update`; edit series.go, not this table -->"
	tableEnd   = "<!-- END series table -->"
)

func renderSeriesTable() string {
	var b strings.Builder
	b.WriteString("| series | type | labels | process | meaning |\n|---|---|---|---|---|\n")
	for _, s := range All {
		labels := "—"
		if len(s.Labels) > 0 {
			labels = "`" + strings.Join(s.Labels, "`, `") + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", s.Name, s.Kind, labels, s.Process, strings.ReplaceAll(s.Help, "|", `\|`))
	}
	return b.String()
}

// TestMetricsDoc keeps docs/metrics.md's table equal to the declared
// series, so that the documentation cannot drift: -update rewrites it.
func TestMetricsDoc(t *testing.T) {
	b, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, tableBegin), strings.Index(doc, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the lines\n%s\n%s\naround its series table", metricsDoc, tableBegin, tableEnd)
	}
	head, table, tail := doc[:i+len(tableBegin)], strings.TrimSpace(doc[i+len(tableBegin):j]), doc[j:]
	want := renderSeriesTable()
	if *update {
		if err := os.WriteFile(metricsDoc, []byte(head+"\n"+want+tail), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if table != strings.TrimSpace(want) {
		t.Errorf("%s's series table differs from series.go; run go test ./internal/metrics -run TestMetricsDoc -update and review the diff", metricsDoc)
	}
}
