package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestJobsDoc keeps docs/jobs.md in step with the binary: every command has
// a row, every built-in job a section, and every argument a job's usage
// lists is documented in that job's section (and nothing it does not list).
func TestJobsDoc(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", jobsDoc))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	app := &App{Jobs: testJobs(t)}
	root := app.root()
	for _, c := range root.Commands() {
		subs := c.Commands()
		if len(subs) == 0 {
			if !strings.Contains(doc, "| `tide "+c.Name()) {
				t.Errorf("%s has no row for tide %s", jobsDoc, c.Name())
			}
		}
		for _, s := range subs {
			if !strings.Contains(doc, "| `tide "+c.Name()+" "+s.Name()+"`") && !strings.Contains(doc, "| `tide "+c.Name()+" "+s.Name()+" ") {
				t.Errorf("%s has no row for tide %s %s", jobsDoc, c.Name(), s.Name())
			}
		}
	}
	flagLine := regexp.MustCompile(`(?m)^  -([a-z-]+)`)
	docArg := regexp.MustCompile("(?m)^\\| `--([a-z-]+)")
	for _, job := range app.Jobs.Names() {
		usage, asked, err := app.Jobs.CheckArgs(job, []string{"--help"})
		if err != nil || !asked || usage == "" {
			t.Fatalf("job %s: no usage for --help (%v)", job, err)
		}
		i := strings.Index(doc, "\n### "+job+"\n")
		if i < 0 {
			t.Errorf("%s has no section ### %s", jobsDoc, job)
			continue
		}
		section := doc[i+1:]
		if j := strings.Index(section[4:], "\n#"); j >= 0 {
			section = section[:j+4]
		}
		var want, got []string
		for _, m := range flagLine.FindAllStringSubmatch(usage, -1) {
			want = append(want, m[1])
		}
		for _, m := range docArg.FindAllStringSubmatch(section, -1) {
			got = append(got, m[1])
		}
		for _, f := range want {
			if !slices.Contains(got, f) {
				t.Errorf("%s, ### %s: argument --%s is not documented", jobsDoc, job, f)
			}
		}
		for _, f := range got {
			if !slices.Contains(want, f) {
				t.Errorf("%s, ### %s: documents --%s, which the job does not take", jobsDoc, job, f)
			}
		}
	}
}

// TestDocLinksResolve: every relative link of the README and docs/ points to
// a file of the repository (a clone has no ../shared/DESIGN.md).
func TestDocLinksResolve(t *testing.T) {
	repo := filepath.Join("..", "..")
	files := []string{filepath.Join(repo, "README.md"), filepath.Join(repo, "BENCHMARKS.md")}
	for _, pattern := range []string{"docs/*.md", "docs/*/*.md"} {
		more, err := filepath.Glob(filepath.Join(repo, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, more...)
	}
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			n++
			path := filepath.Join(filepath.Dir(f), target)
			rel, err := filepath.Rel(repo, path)
			if err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s links %s, outside the repository", f, target)
				continue
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s links %s, which does not exist", f, target)
			}
		}
		if strings.Contains(string(b), "shared/DESIGN.md") {
			t.Errorf("%s refers to shared/DESIGN.md, which a clone does not have", f)
		}
	}
	if n == 0 {
		t.Error("no relative links found; the extraction is broken")
	}
}
