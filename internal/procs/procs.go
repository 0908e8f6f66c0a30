// Package procs starts and supervises Tide's own processes on this machine
// — the JobManager and TaskManagers of `tide run`, `tide demo` and the
// autoscaler's local driver — as children that die with their parent
// (kill -9 included), report when they are up, have their log lines
// prefixed with their name, and may run in a cgroup with a CPU limit and
// request like a Kubernetes pod's.
package procs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tide-stream/tide/internal/cgroup"
	"github.com/tide-stream/tide/internal/daemon"
)

// ReadyTimeout bounds the wait for a child to come up; ExitWait each later
// wait for a child to exit before it is asked harder.
var (
	ReadyTimeout = daemon.DefaultReadyTimeout
	ExitWait     = 10 * time.Second
)

// Cluster is a set of children. Its methods are called by one goroutine,
// its owner's. It starts two goroutines per child, a log forwarder and a
// waiter, which end once the child has exited and its stderr is drained;
// Close waits for them.
type Cluster struct {
	exe    string
	prefix string
	stdout io.Writer
	stderr *syncWriter
	sp     *spawner
	wg     sync.WaitGroup
	kids   []*Child

	// exited holds the children that exited and were not taken yet; wake
	// (1-buffered) says there are some. State, not a queue: a child's exit
	// is never dropped, and nothing blocks.
	mu     sync.Mutex
	exited []*Child
	wake   chan struct{}
}

// New returns a cluster of children of exe (the tide binary), their
// standard output going to stdout and their log lines, prefixed with
// "[name] ", to stderr. Say's lines start with prefix.
func New(exe, prefix string, stdout, stderr io.Writer) *Cluster {
	return &Cluster{exe: exe, prefix: prefix, stdout: stdout, stderr: &syncWriter{w: stderr}, sp: newSpawner(),
		wake: make(chan struct{}, 1)}
}

// Say prints one line of the owner's own to standard error.
func (c *Cluster) Say(format string, args ...any) {
	c.stderr.printf(c.prefix+format+"\n", args...)
}

// Exits signals when a child has exited; TakeExits returns those that did.
func (c *Cluster) Exits() <-chan struct{} { return c.wake }

// TakeExits returns the children that exited since the last call.
func (c *Cluster) TakeExits() []*Child {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.exited
	c.exited = nil
	return out
}

// Child is one process of the cluster.
type Child struct {
	name     string
	cmd      *exec.Cmd
	ready    *daemon.ReadyPipe
	lifeline *daemon.Lifeline
	done     chan struct{} // closed once the process has exited; err is set before
	err      error
	// CPU says whether the child runs under its cgroup's CPU limit.
	limited bool
}

// Option configures a child.
type Option func(*startOptions)

type startOptions struct {
	group *cgroup.Group
	cpu   cgroup.CPU
	env   []string
}

// WithEnv adds key=value variables to the child's environment (over
// this process's).
func WithEnv(kv ...string) Option {
	return func(o *startOptions) { o.env = append(o.env, kv...) }
}

// WithCPU runs the child in its own cgroup of g with cpu's limit and
// request, removed when the child exits.
func WithCPU(g *cgroup.Group, cpu cgroup.CPU) Option {
	return func(o *startOptions) { o.group, o.cpu = g, cpu }
}

// Start starts the tide binary with args as name.
func (c *Cluster) Start(name string, args []string, opts ...Option) (*Child, error) {
	var o startOptions
	for _, opt := range opts {
		opt(&o)
	}
	ch := &Child{name: name, done: make(chan struct{})}
	var err error
	if ch.ready, err = daemon.NewReadyPipe(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if ch.lifeline, err = daemon.NewLifeline(); err != nil {
		ch.ready.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		ch.ready.Close()
		ch.lifeline.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(c.exe, args...)
	cmd.Env = append(os.Environ(), o.env...)
	cmd.Stdout = c.stdout
	cmd.Stderr = pw
	// Its own process group: a Ctrl-C in the terminal reaches only the
	// owner, which decides.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	ch.ready.Attach(cmd)
	ch.lifeline.Attach(cmd)
	ch.cmd = cmd
	err = c.sp.start(cmd)
	pw.Close()
	ch.ready.Started()
	ch.lifeline.Started()
	if err != nil {
		pr.Close()
		ch.ready.Close()
		ch.lifeline.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if o.group != nil {
		// The child runs unlimited until it is moved: a few milliseconds
		// of its start.
		if err := o.group.Add(name, cmd.Process.Pid, o.cpu); err != nil {
			c.Say("%s runs without a CPU limit: %v", name, err)
		} else {
			ch.limited = true
		}
	}
	c.kids = append(c.kids, ch)
	c.wg.Add(2)
	go func() { // owner: c, whose Close waits; ends at EOF, once the child and its descendants exited
		defer c.wg.Done()
		defer pr.Close()
		prefixLines(pr, name, c.stderr)
	}()
	go func() { // owner: c, whose Close kills the child if need be and waits
		defer c.wg.Done()
		ch.err = cmd.Wait()
		if ch.limited {
			if err := o.group.Remove(name); err != nil {
				c.Say("%v", err)
			}
		}
		close(ch.done)
		c.mu.Lock()
		c.exited = append(c.exited, ch)
		c.mu.Unlock()
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}()
	return ch, nil
}

// Close kills what is still running, waits for every goroutine, and stops
// the spawner.
func (c *Cluster) Close() {
	for _, ch := range c.kids {
		ch.Signal(syscall.SIGKILL)
	}
	c.wg.Wait()
	for _, ch := range c.kids {
		ch.ready.Close()
		ch.lifeline.Close()
	}
	c.sp.close()
}

// Name is the child's name.
func (ch *Child) Name() string { return ch.name }

// PID is the child's process id.
func (ch *Child) PID() int { return ch.cmd.Process.Pid }

// Limited says whether the child runs under its cgroup's CPU limit.
func (ch *Child) Limited() bool { return ch.limited }

// Done is closed once the child has exited.
func (ch *Child) Done() <-chan struct{} { return ch.done }

// WaitReady waits until the child reports that it is up, or fails.
func (ch *Child) WaitReady() (map[string]string, error) {
	details, err := ch.ready.Wait(time.Now().Add(ReadyTimeout))
	if err == nil {
		return details, nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, fmt.Errorf("%s did not report that it is up within %v", ch.name, ReadyTimeout)
	}
	// It closed the pipe without a report: it is exiting.
	select {
	case <-ch.done:
		return nil, fmt.Errorf("%s exited (%v) before it was up; see its log above", ch.name, ch.ExitErr())
	case <-time.After(ExitWait):
		return nil, fmt.Errorf("%s closed its readiness pipe without reporting that it is up: %v", ch.name, err)
	}
}

// Exited reports whether the child has exited.
func (ch *Child) Exited() bool {
	select {
	case <-ch.done:
		return true
	default:
		return false
	}
}

// ExitErr is how the child ended; call it once it has exited.
func (ch *Child) ExitErr() error {
	if ch.err == nil {
		return fmt.Errorf("exit status 0")
	}
	return ch.err
}

// Signal sends sig to the child unless it has exited.
func (ch *Child) Signal(sig syscall.Signal) {
	if !ch.Exited() {
		_ = ch.cmd.Process.Signal(sig)
	}
}

// Stop waits up to d for the child to exit after it was asked to; then
// asks again (a second SIGTERM makes a TaskManager exit at once), and
// finally kills it.
func (ch *Child) Stop(d time.Duration) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		select {
		case <-ch.done:
			return
		case <-time.After(d):
			ch.Signal(sig)
			d = ExitWait
		}
	}
	<-ch.done
}

// spawner starts the children from one goroutine locked to its OS thread
// for as long as the cluster runs. Linux's parent-death signal (prctl
// PR_SET_PDEATHSIG, which [daemon.Lifeline] sets) fires when the *thread*
// that forked the child exits, not the process (prctl(2); golang/go#27505).
// The Go runtime ends a thread when a goroutine locked to it exits without
// unlocking, so a child forked from an arbitrary goroutine's thread could
// be killed while its parent is alive and well. A locked, long-lived
// thread cannot be ended that way, and when the parent dies it dies with
// it, which is the point.
type spawner struct {
	reqs chan spawnRequest
	done chan struct{}
}

type spawnRequest struct {
	cmd *exec.Cmd
	err chan<- error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnRequest), done: make(chan struct{})}
	go s.run() // owner: the spawner, whose close ends it and waits for done
	return s
}

func (s *spawner) run() {
	defer close(s.done)
	runtime.LockOSThread()
	// Unlock before returning: the children have exited by then, and a
	// locked goroutine that returns would take its thread down with it.
	defer runtime.UnlockOSThread()
	for req := range s.reqs {
		req.err <- req.cmd.Start()
	}
}

// start runs cmd.Start on the spawner's thread.
func (s *spawner) start(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	s.reqs <- spawnRequest{cmd: cmd, err: errc}
	return <-errc
}

func (s *spawner) close() {
	close(s.reqs)
	<-s.done
}

// syncWriter serializes whole writes from several goroutines.
type syncWriter struct {
	mu sync.Mutex // guards w
	w  io.Writer
}

func (s *syncWriter) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format, args...)
}

// prefixLines copies r to w line by line, each prefixed with [name].
func prefixLines(r io.Reader, name string, w *syncWriter) {
	buf := make([]byte, 64<<10)
	var pending []byte
	for {
		n, err := r.Read(buf)
		pending = append(pending, buf[:n]...)
		for {
			i := strings.IndexByte(string(pending), '\n')
			if i < 0 {
				break
			}
			w.printf("[%s] %s\n", name, pending[:i])
			pending = pending[i+1:]
		}
		if err != nil {
			if len(pending) > 0 {
				w.printf("[%s] %s\n", name, pending)
			}
			return
		}
	}
}
