//go:build unix

package cli

import (
	"bufio"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tide-stream/tide/internal/security/securitytest"
)

// warnOrError matches a slog text line at WARN or ERROR.
var warnOrError = regexp.MustCompile(`level=(WARN|ERROR)`)

// TestRunCleanVerify runs the README's Verify command, smaller: a clean run logs no WARN or
// ERROR line, ends with a summary, and its output verifies with the command the summary gives.
func TestRunCleanVerify(t *testing.T) {
	e := newEnv(t)
	r := e.tide(append(append([]string{"run", "-j", "Verify", "--taskmanagers", "2"}, e.dynamic()...), "--", "--count", "2000")...)
	if r.code != 0 {
		t.Fatalf("tide run: %v", r)
	}
	sc := bufio.NewScanner(strings.NewReader(r.stdout + r.stderr))
	for sc.Scan() {
		if warnOrError.MatchString(sc.Text()) {
			t.Errorf("a clean run logged: %s", sc.Text())
		}
	}
	out := filepath.Join(e.dir, "verify-output")
	check := fmt.Sprintf("tide verify --output %s --keys 16 --count 2000", out)
	for _, want := range []string{
		"tide run: job Verify (", ") FINISHED after ",
		"\n  checkpoints: 1 completed, 0 failed; latest 1 at ",
		"\n  rescales: ",
		"\n  records: 2000 over 16 keys, all emitted",
		"\n  output: " + out + "\n",
		"\n  check it: " + check + "\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the summary lacks %q:\n%s", want, r.stderr)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if v := e.tide(strings.Fields(check)[1:]...); v.code != 0 || !strings.Contains(v.stdout, ": OK") {
		t.Fatalf("%s: %v", check, v)
	}
}

// TestRunSecured is `tide run` given the REST security keys with -D: the JobManager serves its
// REST API over HTTPS and demands a client certificate and the bearer token, the TaskManagers
// serve their metrics the same way, and tide run follows the job through that API with the
// same keys to its summary.
func TestRunSecured(t *testing.T) {
	e := newEnv(t)
	f := securitytest.REST(t, t.TempDir())
	var keys []string
	for _, d := range f.Dynamic(true) {
		keys = append(keys, "-D"+d)
	}
	r := e.tide(append(append([]string{"run", "-j", "Verify", "--taskmanagers", "1"}, e.dynamic(keys...)...), "--", "--count", "1000")...)
	if r.code != 0 {
		t.Fatalf("tide run: %v", r)
	}
	for _, want := range []string{
		fmt.Sprintf("REST API and web UI at https://127.0.0.1:%d)", e.restPort),
		"tide run: job Verify (", ") FINISHED after ",
		"\n  checkpoints: ",
		"\n  records: 1000 over 16 keys, all emitted",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the output lacks %q:\n%s", want, r.stderr)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(r.stdout + r.stderr))
	for sc.Scan() {
		if warnOrError.MatchString(sc.Text()) {
			t.Errorf("a clean secured run logged: %s", sc.Text())
		}
	}
}
