// Package e2e holds Tide's integration tests: real JobManager and
// TaskManager processes of the tide binary, talking over loopback sockets,
// observed through the REST API. They are the proof that the system works;
// unit tests prove the logic.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	// The tests run the tide binary, built in TestMain. Importing what it
	// is built from ties go test's cache to that code: a change anywhere in
	// the runtime reruns these tests.
	_ "github.com/tide-stream/tide"
	_ "github.com/tide-stream/tide/examples/cpuload"
	_ "github.com/tide-stream/tide/examples/throughput"
	_ "github.com/tide-stream/tide/examples/verify"
	_ "github.com/tide-stream/tide/examples/wordcount"
)

// tideBin is the binary under test, built once in TestMain.
var tideBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tide-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tideBin = filepath.Join(dir, "tide")
	build := exec.Command("go", "build", "-o", tideBin, "github.com/tide-stream/tide/cmd/tide")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build tide:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// cluster is one test's processes.
type cluster struct {
	t        testing.TB
	dir      string
	home     string
	restPort int
	rpcPort  int
	dynamic  []string
	mu       sync.Mutex
	procs    []*proc
	nextTM   int
	// rest, if set, is the REST client (HTTPS, token); scheme goes with it.
	rest   *http.Client
	scheme string
}

// proc is one running tide process.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  string
}

func newCluster(t testing.TB, dynamic ...string) *cluster {
	dir := t.TempDir()
	c := &cluster{t: t, dir: dir, home: filepath.Join(dir, "home"), restPort: freePort(t), rpcPort: freePort(t)}
	c.dynamic = append([]string{
		"-Drest.port=" + strconv.Itoa(c.restPort),
		"-Drest.address=127.0.0.1",
		"-Djobmanager.rpc.port=" + strconv.Itoa(c.rpcPort),
		"-Djobmanager.rpc.address=127.0.0.1",
		"-Dtaskmanager.host=127.0.0.1",
		// Tests run in parallel: metrics on any free port, not the defaults.
		"-Dmetrics.reporter.prom.port=0",
	}, dynamic...)
	t.Cleanup(c.stopAll)
	return c
}

func (c *cluster) start(name string, args ...string) *proc {
	c.t.Helper()
	return c.startBinary(name, tideBin, args...)
}

// startBinary starts another program (a Prometheus server) as one of the
// cluster's processes: logged to name.log, stopped by stopAll.
func (c *cluster) startBinary(name, bin string, args ...string) *proc {
	c.t.Helper()
	logPath := filepath.Join(c.dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TIDE_HOME="+c.home)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { // owner: the cluster, whose stopAll waits on done
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p
}

func (c *cluster) startJM(job string, jobArgs ...string) *proc {
	args := append([]string{"standalone-job", "start-foreground", "-j", job}, c.dynamic...)
	if len(jobArgs) > 0 {
		args = append(append(args, "--"), jobArgs...)
	}
	return c.start("jobmanager", args...)
}

func (c *cluster) startTM(extra ...string) *proc {
	c.mu.Lock()
	c.nextTM++
	n := c.nextTM
	c.mu.Unlock()
	args := append(append([]string{"taskmanager", "start-foreground"}, c.dynamic...), extra...)
	return c.start(fmt.Sprintf("taskmanager-%d", n), args...)
}

func (p *proc) signal(s syscall.Signal) {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(s)
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to exit, failing the test after d.
func (p *proc) wait(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		t.Fatalf("%s did not exit within %v", p.name, d)
		return nil
	}
}

func (c *cluster) stopAll() {
	c.mu.Lock()
	procs := append([]*proc(nil), c.procs...)
	c.mu.Unlock()
	for _, p := range procs {
		p.signal(syscall.SIGKILL)
	}
	for _, p := range procs {
		<-p.done
	}
	if c.t.Failed() {
		for _, p := range procs {
			b, _ := os.ReadFile(p.log)
			lines := strings.Split(string(b), "\n")
			if len(lines) > 60 {
				lines = lines[len(lines)-60:]
			}
			c.t.Logf("--- last lines of %s ---\n%s", p.name, strings.Join(lines, "\n"))
		}
	}
}

// get decodes a REST response into v.
func (c *cluster) get(path string, v any) error {
	cl, scheme := &http.Client{Timeout: 5 * time.Second}, "http"
	if c.rest != nil {
		cl, scheme = c.rest, c.scheme
	}
	resp, err := cl.Get(fmt.Sprintf("%s://127.0.0.1:%d%s", scheme, c.restPort, path))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, buf.String())
	}
	return json.Unmarshal(buf.Bytes(), v)
}

// eventually polls cond every 50ms until it holds or d passes. The bounds
// are generous: they catch hangs, not slowness.
func eventually(t testing.TB, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s; last: %s", d, what, last)
}

type jobDetail struct {
	ID       string `json:"jid"`
	State    string `json:"state"`
	Attempt  int    `json:"attempt"`
	Vertices []struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Parallelism int    `json:"parallelism"`
	} `json:"vertices"`
}

type rescaleRec struct {
	ID          int    `json:"id"`
	Trigger     string `json:"trigger"`
	From        int    `json:"from"`
	To          int    `json:"to"`
	Checkpoint  int    `json:"checkpoint"`
	Start       int64  `json:"start"`
	End         int64  `json:"end"`
	PauseMs     int64  `json:"pause_ms"`
	Reprocessed int64  `json:"reprocessed_records"`
	Restored    int64  `json:"restored_bytes"`
	LocalGroups int    `json:"local_key_groups"`
	Status      string `json:"status"`
}

func (c *cluster) jobID(t testing.TB) string {
	t.Helper()
	var id string
	eventually(t, 30*time.Second, "the REST API to list the job", func() (bool, string) {
		var jobs struct {
			Jobs []struct{ ID string } `json:"jobs"`
		}
		if err := c.get("/jobs", &jobs); err != nil {
			return false, err.Error()
		}
		if len(jobs.Jobs) != 1 {
			return false, fmt.Sprintf("%d jobs", len(jobs.Jobs))
		}
		id = jobs.Jobs[0].ID
		return true, ""
	})
	return id
}

func (c *cluster) job(id string) (jobDetail, error) {
	var j jobDetail
	err := c.get("/jobs/"+id, &j)
	return j, err
}

func (c *cluster) rescales(id string) ([]rescaleRec, error) {
	var r struct {
		Rescales []rescaleRec `json:"rescales"`
	}
	err := c.get("/jobs/"+id+"/rescales", &r)
	return r.Rescales, err
}

// waitRunningAt waits until the job runs with every vertex that can at parallelism p.
func (c *cluster) waitRunningAt(t testing.TB, id string, vertex string, p int) jobDetail {
	t.Helper()
	var j jobDetail
	eventually(t, 60*time.Second, fmt.Sprintf("RUNNING with %s at parallelism %d", vertex, p), func() (bool, string) {
		var err error
		j, err = c.job(id)
		if err != nil {
			return false, err.Error()
		}
		for _, v := range j.Vertices {
			if v.ID == vertex && v.Parallelism == p && j.State == "RUNNING" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", j)
	})
	return j
}

// tide runs the tide binary to completion and returns its output.
func tide(t testing.TB, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(tideBin, args...).CombinedOutput()
	return string(out), err
}
