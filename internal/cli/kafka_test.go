//go:build unix

package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// broker is a `tide kafka start-foreground` process of a test.
type broker struct {
	addr   string
	cmd    *exec.Cmd
	done   chan error // receives cmd.Wait's result
	stderr *bytes.Buffer
}

// startBroker starts `tide kafka start-foreground --port 0 args...` and waits
// for its address; the test's cleanup kills it if it is still running.
func startBroker(t *testing.T, e *env, args ...string) *broker {
	t.Helper()
	cmd := e.command(append([]string{"kafka", "start-foreground", "--port", "0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &broker{cmd: cmd, done: make(chan error, 1), stderr: new(bytes.Buffer)}
	cmd.Stderr = b.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() { // owner: the broker's done channel; it ends when the process closes its stdout
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		b.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-b.done
	})
	select {
	case l := <-lines:
		m := regexp.MustCompile(`^kafka: listening on (127\.0\.0\.1:\d+)$`).FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("broker printed %q, want `kafka: listening on 127.0.0.1:PORT`", l)
		}
		b.addr = m[1]
	case <-time.After(commandTimeout):
		t.Fatalf("broker printed no address within %v; stderr:\n%s", commandTimeout, b.stderr)
	}
	return b
}

// stop sends SIGTERM and waits for a clean exit.
func (b *broker) stop(t *testing.T) {
	t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-b.done:
		b.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("broker exited with %v after SIGTERM; stderr:\n%s", err, b.stderr)
		}
	case <-time.After(commandTimeout):
		t.Fatalf("broker did not stop within %v of SIGTERM", commandTimeout)
	}
}

// TestKafkaBrokerDatagenKcat runs the broker and datagen as real processes and
// reads back with kcat, a Kafka client nobody here wrote. ./scripts/test
// installs kcat and sets TIDE_REQUIRE_KCAT=1, so the suite never skips it.
func TestKafkaBrokerDatagenKcat(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv("TIDE_REQUIRE_KCAT") == "1" {
			t.Fatal("kcat is required: apt-get install kcat")
		}
		t.Skip("kcat not installed (./scripts/test installs it)")
	}
	e := newEnv(t)
	b := startBroker(t, e, "--topic", "numbers:3")
	const n, keys = 5000, 8
	r := e.tide("datagen", "--bootstrap-servers", b.addr, "--topic", "numbers", "--shape", "constant",
		"--rate", "20000", "--count", strconv.Itoa(n), "--payload", "verify", "--keys", strconv.Itoa(keys))
	if r.code != 0 || strings.TrimSpace(r.stdout) != strconv.Itoa(n) ||
		!strings.Contains(r.stderr, fmt.Sprintf("done: %d records acknowledged to numbers", n)) {
		t.Fatalf("tide datagen: %v", r)
	}
	// A second run into a topic the broker did not have: datagen creates it.
	r = e.tide("datagen", "--bootstrap-servers", b.addr, "--topic", "counter", "--partitions", "2",
		"--shape", "steps", "--min", "1000", "--max", "4000", "--period", "400ms", "--count", "300")
	if r.code != 0 || !strings.Contains(r.stderr, "created topic counter with 2 partitions") {
		t.Fatalf("tide datagen into a new topic: %v", r)
	}

	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, kcat, "-C", "-b", b.addr, "-t", "numbers", "-e", "-q",
		"-f", "%p %k %s\n").Output()
	if err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != n {
		t.Fatalf("kcat read %d records, want %d", len(lines), n)
	}
	partOf := map[string]string{}
	values := map[string][]int{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 3 {
			t.Fatalf("kcat line %q: want partition key value", l)
		}
		i, err := strconv.Atoi(f[2])
		if err != nil || strconv.Itoa(i%keys) != f[1] {
			t.Fatalf("kcat line %q: want key = value mod %d", l, keys)
		}
		if p, ok := partOf[f[1]]; ok && p != f[0] {
			t.Fatalf("key %s in partitions %s and %s", f[1], p, f[0])
		}
		partOf[f[1]] = f[0]
		values[f[1]] = append(values[f[1]], i)
	}
	for k, vs := range values {
		if !slices.IsSorted(vs) || len(vs) != n/keys {
			t.Fatalf("key %s: %d values, in order %v; want %d in order", k, len(vs), slices.IsSorted(vs), n/keys)
		}
	}
	out, err = exec.CommandContext(ctx, kcat, "-C", "-b", b.addr, "-t", "counter", "-e", "-q").Output()
	if err != nil || len(strings.Fields(string(out))) != 300 {
		t.Fatalf("kcat read %d records of counter (%v), want 300", len(strings.Fields(string(out))), err)
	}
	b.stop(t)
}

func TestKafkaBrokerBadInput(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"kafka", "start-foreground", "--topic", "t:zero"}, "partitions must be a positive integer"},
		{[]string{"datagen", "--topic", "t", "--shape", "constant", "--rate", "1"}, "--bootstrap-servers is required"},
		{[]string{"datagen", "--bootstrap-servers", "127.0.0.1:1", "--topic", "t", "--shape", "wave"}, `--shape "wave"`},
		{[]string{"datagen", "--bootstrap-servers", "127.0.0.1:1", "--topic", "t", "--shape", "constant", "--rate", "1",
			"--payload", "verify", "--keys", "0"}, "--keys K > 0"},
		{[]string{"datagen", "--bootstrap-servers", "127.0.0.1:1", "--topic", "t", "--shape", "cosine", "--rate", "1",
			"--max", "5"}, "exclude each other"},
		{[]string{"datagen", "--bootstrap-servers", "127.0.0.1:" + strconv.Itoa(freePort(t)), "--topic", "t",
			"--shape", "constant", "--rate", "1"}, "connection refused"},
	} {
		r := e.tide(tc.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("tide %s: %v\nwant exit 1 and %q", strings.Join(tc.args, " "), r, tc.want)
		}
	}
}
