package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated key table in docs/configuration.md")

// configurationDoc is the repository's documentation of every key.
var configurationDoc = filepath.Join("..", "..", "docs", "configuration.md")

// The generated key table sits between these lines of configurationDoc.
const (
	tableBegin = "<!-- BEGIN key table: generated from internal/config/keys.go by `go test ./internal/config -run TestConfigurationDoc -update`; edit keys.go, not this table -->"
	tableEnd   = "<!-- END key table -->"
)

// renderKeyTable renders the key table (Keys) as Markdown.
func renderKeyTable() string {
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	code := func(s string) string { return "`" + s + "`" }
	var b strings.Builder
	b.WriteString("| key | default | type | meaning |\n|---|---|---|---|\n")
	for _, k := range Keys() {
		def := k.Default
		switch {
		case def == "":
			def = "(empty)"
		case !strings.ContainsAny(def, " ,"):
			def = code(def)
		}
		typ := string(k.Type)
		if len(k.Values) > 0 {
			vals := make([]string, len(k.Values))
			for i, v := range k.Values {
				vals[i] = code(v)
			}
			typ = "one of " + strings.Join(vals, ", ")
		}
		meaning := k.Description + "."
		if len(k.Aliases) > 0 {
			as := make([]string, len(k.Aliases))
			for i, a := range k.Aliases {
				as[i] = code(a)
			}
			meaning += " Also accepted as " + strings.Join(as, ", ") + "."
		}
		meaning += " Environment: " + code(k.Env) + "."
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", code(k.Key), cell(def), cell(typ), cell(meaning))
	}
	return b.String()
}

// TestConfigurationDoc keeps docs/configuration.md's key table equal to the
// key table, so that the documentation cannot drift from the code: a key
// missing from the doc, a key the doc names that does not exist, or a
// changed default or description fails here. -update rewrites the table.
func TestConfigurationDoc(t *testing.T) {
	b, err := os.ReadFile(configurationDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, tableBegin), strings.Index(doc, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the lines\n%s\n%s\naround its key table", configurationDoc, tableBegin, tableEnd)
	}
	head, table, tail := doc[:i+len(tableBegin)], strings.TrimSpace(doc[i+len(tableBegin):j]), doc[j:]
	want := renderKeyTable()
	if *update {
		if err := os.WriteFile(configurationDoc, []byte(head+"\n"+want+tail), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, k := range Keys() {
		if !strings.Contains(table, "| `"+k.Key+"` |") {
			t.Errorf("%s does not document the key %s", configurationDoc, k.Key)
		}
	}
	rows := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|").FindAllStringSubmatch(table, -1)
	for _, r := range rows {
		if o, ok := lookup(r[1]); !ok || o.Key != r[1] {
			t.Errorf("%s documents %s, which is not a key", configurationDoc, r[1])
		}
	}
	if table != strings.TrimSpace(want) {
		t.Errorf("%s's key table differs from keys.go; run go test ./internal/config -run TestConfigurationDoc -update and review the diff", configurationDoc)
	}
}

// keyNamespaces are the first segments of Flink's configuration keys, so
// that a name like `jobmanager.something` in prose is recognized as a key.
var keyNamespaces = []string{"akka", "blob", "cluster", "env", "execution", "fs", "heartbeat", "high-availability",
	"io", "jobmanager", "kubernetes", "metrics", "parallelism", "pekko", "pipeline", "resourcemanager", "rest",
	"restart-strategy", "scheduler-mode", "security", "state", "table", "taskmanager", "web"}

var backticked = regexp.MustCompile("`([a-z][A-Za-z0-9-]*(?:\\.[A-Za-z0-9-]+)*)`")

// TestDocsNameOnlyKeys: wherever the README and docs/*.md quote a
// configuration key in backticks, it exists (a key or an alias).
func TestDocsNameOnlyKeys(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "..", "README.md"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range backticked.FindAllStringSubmatch(string(b), -1) {
			name := m[1]
			first, _, dotted := strings.Cut(name, ".")
			if !slices.Contains(keyNamespaces, first) || (!dotted && first != "scheduler-mode" && first != "restart-strategy") {
				continue
			}
			if _, ok := lookup(name); !ok {
				t.Errorf("%s names %s, which is not a configuration key", f, name)
			}
		}
	}
}

// TestDocYAMLLoads loads every ```yaml block of the README and docs/*.md as
// $TIDE_HOME/conf/config.yaml on the defaults.
func TestDocYAMLLoads(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "..", "README.md"))
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
			n++
			home := t.TempDir()
			if err := os.MkdirAll(filepath.Dir(ConfigFile(home)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(ConfigFile(home), []byte(m[1]), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(LoadOptions{Home: home}); err != nil {
				t.Errorf("%s: the config.yaml example does not load:\n%s\n%v", f, m[1], err)
			}
		}
	}
	if n == 0 {
		t.Error("no ```yaml blocks found in the docs; the extraction is broken")
	}
}
