package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tide-stream/tide/internal/config"
)

// example is the configuration one line of help or documentation shows.
type example struct {
	where   string // file:line or command
	line    string
	dynamic []string // -D values, key=value
	environ []string // TIDE_<KEY>=value
}

var (
	envAssignment = regexp.MustCompile(`^TIDE_[A-Z0-9_]+=`)
	dottedSetting = regexp.MustCompile(`^[a-z][A-Za-z0-9-]*(\.[A-Za-z0-9-]+)+=.`)
)

// examplesIn returns the lines of text that show configuration: -Dkey=value
// flags and TIDE_<KEY>=value assignments, and, with bare, key=value pairs of
// dotted keys (help texts list defaults that way). A line's settings are
// one example, as they are one command line. Placeholders (-Dkey=value) and
// TIDE_HOME, which is not a key, are skipped.
func examplesIn(where, text string, bare bool) []example {
	var out []example
	for i, line := range strings.Split(text, "\n") {
		ex := example{where: where + ":" + strconv.Itoa(i+1), line: strings.TrimSpace(line)}
		for _, tok := range strings.FieldsFunc(line, func(r rune) bool {
			return r == ' ' || r == '\t' || strings.ContainsRune("[](){}`'\",", r)
		}) {
			tok = strings.TrimRight(tok, ".;:")
			switch {
			case strings.HasPrefix(tok, "-D") && strings.Contains(tok, "="):
				if key, _, _ := strings.Cut(tok[2:], "="); key != "key" && !strings.ContainsAny(key, "<…") {
					ex.dynamic = append(ex.dynamic, tok[2:])
				}
			case envAssignment.MatchString(tok) && !strings.HasPrefix(tok, config.HomeEnv+"="):
				ex.environ = append(ex.environ, tok)
			case bare && dottedSetting.MatchString(tok):
				ex.dynamic = append(ex.dynamic, tok)
			}
		}
		if len(ex.dynamic)+len(ex.environ) > 0 {
			out = append(out, ex)
		}
	}
	return out
}

// checkExample loads ex's configuration on the defaults.
func checkExample(t *testing.T, ex example) {
	t.Helper()
	_, err := config.Load(config.LoadOptions{Home: t.TempDir(), Environ: ex.environ, Dynamic: ex.dynamic})
	if err != nil {
		t.Errorf("%s: the example %q does not load on the defaults: %v", ex.where, ex.line, err)
	}
}

// helpTexts renders `tide … --help` for every command.
func helpTexts(t *testing.T) map[string]string {
	t.Helper()
	texts := map[string]string{}
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		code, stdout, stderr := runApp(t, append(path, "--help")...)
		if code != 0 {
			t.Fatalf("tide %s --help: exit %d\n%s", strings.Join(path, " "), code, stderr)
		}
		texts["tide "+strings.Join(path, " ")+" --help"] = stdout
		for _, sub := range c.Commands() {
			if sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			walk(sub, append(path[:len(path):len(path)], sub.Name()))
		}
	}
	app := &App{Jobs: testJobs(t)}
	root := app.root()
	root.InitDefaultHelpCmd()
	walk(root, nil)
	return texts
}

// TestHelpExamplesLoad runs every configuration example that a --help text
// shows through the configuration parser on the defaults, so that an
// example that does not work as printed fails here.
func TestHelpExamplesLoad(t *testing.T) {
	n := 0
	for cmd, text := range helpTexts(t) {
		for _, ex := range examplesIn(cmd, text, true) {
			n++
			checkExample(t, ex)
		}
	}
	// Every process command shows the -D example, and chaos its defaults.
	if n < 6 {
		t.Errorf("found %d configuration examples in the help texts; the extraction is broken", n)
	}
}

// TestDocExamplesLoad does the same for README.md and docs/.
func TestDocExamplesLoad(t *testing.T) {
	files := []string{filepath.Join("..", "..", "README.md")}
	docs, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join("..", "..", "docs", "*", "*.md"))
	files = append(append(files, docs...), more...)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range examplesIn(filepath.Base(f), string(b), false) {
			n++
			checkExample(t, ex)
		}
	}
	if n < 2 {
		t.Errorf("found %d configuration examples in %v; the extraction is broken", n, files)
	}
}
