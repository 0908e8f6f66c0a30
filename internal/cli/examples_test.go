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

// commandLines returns the tide command lines in text, each as its
// arguments after the program name: lines that start with "tide",
// "./tide" or "go run ./cmd/tide" and a subcommand, up to a # comment. In
// Markdown only the lines of ``` blocks count (prose quotes commands in
// part); in help only those of the Examples section (Usage is a synopsis).
func commandLines(text string, markdown bool) [][]string {
	var out [][]string
	in := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case markdown && strings.HasPrefix(line, "```"):
			in = !in
			continue
		case !markdown && line == "Examples:":
			in = true
			continue
		case !markdown && line == "":
			in = false
		}
		if !in {
			continue
		}
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		switch {
		case len(f) > 1 && (f[0] == "tide" || f[0] == "./tide"):
			f = f[1:]
		case len(f) > 3 && f[0] == "go" && f[1] == "run" && f[2] == "./cmd/tide":
			f = f[3:]
		default:
			continue
		}
		out = append(out, f)
	}
	return out
}

// checkCommandLine parses args as tide would, without running anything:
// the command and its flags, the configuration on the defaults, and for a
// command that runs a job, the job's arguments (which either ask for its
// usage or build its graph).
func checkCommandLine(t *testing.T, where string, args []string) {
	t.Helper()
	app := &App{Jobs: testJobs(t)}
	cmd, rest, err := app.root().Find(args)
	if err != nil || !cmd.Runnable() {
		t.Errorf("%s: tide %s: no such command (%v)", where, strings.Join(args, " "), err)
		return
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: tide %s: %v", where, strings.Join(args, " "), err)
		return
	}
	var dynamic []string
	if cmd.Flags().Lookup("dynamic") != nil {
		dynamic, _ = cmd.Flags().GetStringArray("dynamic")
	}
	conf, err := config.Load(config.LoadOptions{Home: t.TempDir(), Dynamic: dynamic})
	if err != nil {
		t.Errorf("%s: tide %s: %v", where, strings.Join(args, " "), err)
		return
	}
	if cmd.Flags().Lookup("job-classname") == nil {
		return
	}
	job, _ := cmd.Flags().GetString("job-classname")
	jargs, err := jobArgs(cmd, cmd.Flags().Args())
	if err != nil {
		t.Errorf("%s: tide %s: %v", where, strings.Join(args, " "), err)
		return
	}
	_, asked, err := app.Jobs.CheckArgs(job, jargs)
	if kr, ok := asKafkaRequired(err); ok && cmd.Annotations[embedsKafka] != "" {
		// The command starts a broker and passes its address, as here.
		jargs = append(jargs, kr.Flag, "127.0.0.1:9092")
		_, asked, err = app.Jobs.CheckArgs(job, jargs)
	}
	if err != nil || asked {
		if err != nil {
			t.Errorf("%s: tide %s: %v", where, strings.Join(args, " "), err)
		}
		return
	}
	if _, err := app.Jobs.Build(job, jargs, conf.MaxParallelism); err != nil {
		t.Errorf("%s: tide %s: %v", where, strings.Join(args, " "), err)
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
// shows through the configuration parser on the defaults, and parses every
// example command line (its flags, configuration and job arguments), so
// that an example that does not work as printed fails here.
func TestHelpExamplesLoad(t *testing.T) {
	n, lines := 0, 0
	for cmd, text := range helpTexts(t) {
		for _, ex := range examplesIn(cmd, text, true) {
			n++
			checkExample(t, ex)
		}
		for _, args := range commandLines(text, false) {
			lines++
			checkCommandLine(t, cmd, args)
		}
	}
	// Every process command shows the -D example, and chaos its defaults;
	// the commands that run a job show command lines.
	if n < 6 || lines < 6 {
		t.Errorf("found %d configuration examples and %d command lines in the help texts; the extraction is broken", n, lines)
	}
}

// TestDocExamplesLoad does the same for README.md and docs/, and parses
// the tide command lines of their code blocks.
func TestDocExamplesLoad(t *testing.T) {
	// From the repository's root, as a reader runs them: the examples'
	// relative paths (an --input file, say) resolve there.
	t.Chdir(filepath.Join("..", ".."))
	files := []string{"README.md"}
	docs, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join("docs", "*", "*.md"))
	files = append(append(files, docs...), more...)
	n, lines := 0, 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range examplesIn(filepath.Base(f), string(b), false) {
			n++
			checkExample(t, ex)
		}
		for _, args := range commandLines(string(b), true) {
			lines++
			checkCommandLine(t, filepath.Base(f), args)
		}
	}
	if n < 2 || lines < 5 {
		t.Errorf("found %d configuration examples and %d command lines in %v; the extraction is broken", n, lines, files)
	}
}
