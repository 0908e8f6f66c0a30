package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tide-stream/tide/internal/pki"
)

// cluster is a JobManager and TaskManagers started from the tide binary as
// separate processes on loopback, with a private TIDE_HOME and free ports.
// It is used by one goroutine; the log scanners share only progress, which
// has its own lock.
type cluster struct {
	tide    string
	home    string
	rest    string // http://127.0.0.1:port
	rpcPort int
	logs    io.Writer
	jm      *proc
	tms     []*proc
	// tmFlags are extra -D flags of every TaskManager started.
	tmFlags []string
	// dynamic are extra -D flags of every process started.
	dynamic []string
	// promPorts are the metrics ports of the processes started.
	promPorts []int
	nextTM    int
	prog      progress
	phases    phaseLog
	client    *http.Client
	logFile   *os.File
}

// proc is one started process; done closes when it has exited.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // written before done closes
	scan sync.WaitGroup
}

func newCluster(tide string, logs io.Writer) (*cluster, error) {
	if _, err := os.Stat(tide); err != nil {
		return nil, fmt.Errorf("tide binary: %w (build it: go build -o %s ./cmd/tide)", err, tide)
	}
	home, err := os.MkdirTemp("", "tide-bench-home-")
	if err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(home, "bench.log"))
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	return &cluster{tide: tide, home: home, rest: fmt.Sprintf("http://127.0.0.1:%d", ports[0]), rpcPort: ports[1],
		logs: io.MultiWriter(f, logs), logFile: f, client: &http.Client{Timeout: 5 * time.Second}}, nil
}

// freePorts returns n TCP ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (c *cluster) common() ([]string, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	c.promPorts = append(c.promPorts, ports[0])
	flags := []string{"-Djobmanager.rpc.address=127.0.0.1", "-Djobmanager.rpc.port=" + strconv.Itoa(c.rpcPort),
		"-Dmetrics.reporter.prom.port=" + strconv.Itoa(ports[0]), "-Dtaskmanager.host=127.0.0.1"}
	for _, d := range c.dynamic {
		flags = append(flags, "-D"+d)
	}
	return flags, nil
}

// secureInternal turns on mutual TLS and the shared secret on the internal
// plane (RPC and data plane) of every process started from now on, with a CA,
// certificate and secret made in the cluster's home.
func (c *cluster) secureInternal() error {
	f, err := pki.Create(pki.Options{Dir: filepath.Join(c.home, "secrets")})
	if err != nil {
		return err
	}
	c.dynamic = append(c.dynamic, f.InternalDynamic()...)
	return nil
}

// startJM starts the JobManager of job with extra -D flags and job args.
func (c *cluster) startJM(job string, flags, jobArgs []string) error {
	com, err := c.common()
	if err != nil {
		return err
	}
	args := append([]string{"standalone-job", "start-foreground", "-j", job,
		"-Drest.address=127.0.0.1", "-Drest.port=" + strings.TrimPrefix(c.rest[strings.LastIndexByte(c.rest, ':'):], ":")}, com...)
	args = append(args, flags...)
	args = append(append(args, "--"), jobArgs...)
	c.jm, err = c.start("jobmanager", args)
	return err
}

// startTM starts one more TaskManager with one slot.
func (c *cluster) startTM() (*proc, error) {
	com, err := c.common()
	if err != nil {
		return nil, err
	}
	c.nextTM++
	args := append([]string{"taskmanager", "start-foreground", "-Dtaskmanager.numberOfTaskSlots=1"}, com...)
	p, err := c.start(fmt.Sprintf("taskmanager-%d", c.nextTM), append(args, c.tmFlags...))
	if err != nil {
		return nil, err
	}
	c.tms = append(c.tms, p)
	return p, nil
}

func (c *cluster) start(name string, args []string) (*proc, error) {
	cmd := exec.Command(c.tide, args...)
	cmd.Env = append(os.Environ(), "TIDE_HOME="+c.home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	p.scan.Add(1)
	go func() { // owner: p; Wait waits for scan before reaping
		defer p.scan.Done()
		c.scanLog(name, stderr)
	}()
	go func() { // owner: p; closes done once the process is reaped
		p.scan.Wait()
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// scanLog copies a process's stderr to the log and collects the
// Throughput job's JSON progress lines.
func (c *cluster) scanLog(name string, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintf(c.logs, "[%s] %s\n", name, line)
		if name == "jobmanager" {
			if e, ok := parsePhaseLine(line); ok {
				c.phases.add(e)
			}
		}
		if strings.HasPrefix(line, "{") && strings.Contains(line, `"throughput `) {
			var l progressLine
			if json.Unmarshal([]byte(line), &l) == nil {
				l.Process = name
				c.prog.add(l)
			}
		}
	}
}

// signal sends sig to p.
func (p *proc) signal(sig syscall.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %s: %w", p.name, err)
	}
	return nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits until p has exited or d has passed.
func (p *proc) wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// removeTM forgets an exited TaskManager.
func (c *cluster) removeTM(p *proc) {
	for i, q := range c.tms {
		if q == p {
			c.tms = append(c.tms[:i], c.tms[i+1:]...)
			return
		}
	}
}

// stop stops every process: SIGTERM twice (a TaskManager's second signal
// exits at once), then SIGKILL after a grace period. It removes TIDE_HOME
// unless keep is set (to read the logs after a failure).
func (c *cluster) stop(keep bool) {
	all := append([]*proc{c.jm}, c.tms...)
	for _, p := range all {
		if p != nil && !p.exited() {
			p.signal(syscall.SIGTERM)
		}
	}
	time.Sleep(100 * time.Millisecond)
	for _, p := range all {
		if p != nil && !p.exited() {
			p.signal(syscall.SIGTERM)
		}
	}
	for _, p := range all {
		if p != nil && !p.wait(5*time.Second) {
			p.signal(syscall.SIGKILL)
			<-p.done
		}
	}
	c.logFile.Close()
	if !keep {
		os.RemoveAll(c.home)
	}
}

// getJSON GETs a REST path into v.
func (c *cluster) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.rest+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: decode: %w", path, err)
	}
	return nil
}

// waitFor polls cond every 20 ms until it returns true, an error, or
// timeout passes. The JobManager's exit ends the wait with an error.
func (c *cluster) waitFor(ctx context.Context, what string, timeout time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w (last error: %v)", what, ctx.Err(), last)
		case <-c.jm.done:
			return fmt.Errorf("wait for %s: the jobmanager exited: %v (log: %s)", what, c.jm.err, c.logFile.Name())
		case <-tick.C:
		}
	}
}

// scrape reads every process's /metrics every interval until ctx ends, as
// a Prometheus server would, and returns the number of scrapes that
// succeeded once it has stopped.
func (c *cluster) scrape(ctx context.Context, every time.Duration) (done func() int) {
	var n int
	stopped := make(chan struct{})
	go func() { // owner: the returned done, which waits for it
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			for _, port := range c.promPorts {
				resp, err := c.client.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n++
			}
		}
	}()
	return func() int { <-stopped; return n }
}
