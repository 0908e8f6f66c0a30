package chaos

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// proc is one process of the local cluster. Its fields are owned by the
// run loop; the waiter goroutine only reads cmd and reports on exits.
type proc struct {
	// index is the process's position in cluster.procs; name is its log name.
	index int
	name  string
	cmd   *exec.Cmd
	// jm is set for a JobManager: the first one or one started again after
	// a jm-kill or jm-stop.
	jm bool
	// state is the TaskManager's state. A JobManager's is tmRunning until
	// it is signalled (tmKilled after SIGKILL, tmLeaving after SIGTERM) and
	// tmExited once it is gone.
	state tmState
	// resumeAt is when a paused TaskManager gets its SIGCONT.
	resumeAt time.Time
	// expectExit is set once the run asked the process to go (SIGTERM,
	// SIGKILL); an exit without it is an anomaly (a failure for the
	// JobManager, unless the job finished).
	expectExit bool
}

// exitMsg reports that procs[index] exited.
type exitMsg struct {
	index int
	err   error
}

// cluster starts and signals the processes of one chaos run. It is owned by
// the run loop; its waiter goroutines only send on exits and are waited for
// by wait.
type cluster struct {
	exe     string
	env     []string
	logDir  string
	dynamic []string
	procs   []*proc
	// exits has room for every process the run may start, so that no waiter
	// ever blocks.
	exits chan exitMsg
	wg    sync.WaitGroup
}

func newCluster(exe, home, logDir string, dynamic []string, maxProcs int) *cluster {
	env := append(os.Environ(), "TIDE_HOME="+home)
	return &cluster{exe: exe, env: env, logDir: logDir, dynamic: dynamic, exits: make(chan exitMsg, maxProcs)}
}

// start runs the tide binary with args (the -D settings appended before any
// "--") as a process named name, its stdout and stderr in logDir/name.log,
// in its own process group so that a Ctrl-C at the terminal reaches only
// the chaos command, which then stops the cluster in order.
func (c *cluster) start(name string, args []string, jobArgs []string) (*proc, error) {
	if len(c.procs) == cap(c.exits) {
		return nil, fmt.Errorf("start %s: invariant broken: more than %d processes", name, cap(c.exits))
	}
	path := filepath.Join(c.logDir, name+".log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: open its log: %w", name, err)
	}
	defer f.Close() // the child holds its own descriptor
	full := append([]string(nil), args...)
	for _, d := range c.dynamic {
		full = append(full, "-D"+d)
	}
	if len(jobArgs) > 0 {
		full = append(append(full, "--"), jobArgs...)
	}
	cmd := exec.Command(c.exe, full...)
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, c.exe, err)
	}
	p := &proc{index: len(c.procs), name: name, cmd: cmd}
	c.procs = append(c.procs, p)
	c.wg.Add(1)
	go func() { // owner: the cluster; wait() waits for it
		defer c.wg.Done()
		c.exits <- exitMsg{index: p.index, err: cmd.Wait()}
	}()
	return p, nil
}

// signal sends sig to p, if it has not exited.
func (c *cluster) signal(p *proc, sig syscall.Signal) error {
	if p.state == tmExited {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %v to %s (pid %d): %w", sig, p.name, p.cmd.Process.Pid, err)
	}
	return nil
}

// alive returns the processes that have not exited.
func (c *cluster) alive() []*proc {
	var out []*proc
	for _, p := range c.procs {
		if p.state != tmExited {
			out = append(out, p)
		}
	}
	return out
}

// wait waits for every waiter goroutine; call it once every process was
// killed.
func (c *cluster) wait() { c.wg.Wait() }

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
