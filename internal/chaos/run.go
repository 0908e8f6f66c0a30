package chaos

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/verify"
)

// pollEvery is the period of the REST polls. It is well under the
// JobManager's shutdown delay (2 s), so the FINISHED state is seen before
// the JobManager exits.
const pollEvery = 250 * time.Millisecond

// Run runs the Verify job on a local cluster of real processes through
// cfg.Events random events, waits for the job to finish, checks its output
// and writes progress and a summary to out. It stops every process it
// started before it returns, also when ctx is cancelled (then the result
// says "interrupted").
//
// The error is non-nil only when the run could not be made: a bad Config,
// no directory, no JobManager. A run that went wrong returns a Result whose
// Passed is false and whose Failure says why.
func Run(ctx context.Context, cfg Config, out io.Writer) (*Result, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()>>1 + 1 // non-zero, so that it replays
	}
	fmt.Fprintf(out, "chaos seed %d (replay with --seed %d)\n", cfg.Seed, cfg.Seed)
	r, err := newRunner(cfg, out)
	if err != nil {
		return nil, err
	}
	defer r.shutdown()
	r.loop(ctx)
	r.shutdown()
	if ctx.Err() == nil { // an interrupted run's output is incomplete by design
		r.check()
	}
	r.scanLogs()
	r.res.Duration = time.Since(r.start)
	r.res.WriteSummary(out)
	if r.tempDir && r.res.Passed() {
		if err := os.RemoveAll(r.res.Dir); err != nil {
			fmt.Fprintf(out, "remove %s: %v\n", r.res.Dir, err)
		}
	}
	return r.res, nil
}

// runner is one chaos run. It is owned by the goroutine that called Run.
type runner struct {
	cfg     Config
	out     io.Writer
	rng     *rand.Rand
	start   time.Time
	res     *Result
	tempDir bool
	outDir  string
	cl      *cluster
	api     *client
	// jm is the current JobManager; jmArgs and jobArgs are its command
	// line, the same for every JobManager of the run.
	jm              *proc
	jmArgs, jobArgs []string
	// earlier holds the rescales of the JobManagers before jm, as each last
	// showed them.
	earlier []Rescale
	// heartbeat and decommission are the cluster's effective timeouts.
	heartbeat, decommission time.Duration
	// nextTM numbers the TaskManagers: taskmanager-1, -2, …
	nextTM int
	// leavingSince is when each leaving TaskManager got its SIGTERM.
	leavingSince map[int]time.Time
	// last is the latest successful poll; failedPolls counts failures since.
	last        snapshot
	failedPolls int
	finished    bool
	down        bool // shutdown has run
}

func newRunner(cfg Config, out io.Writer) (*runner, error) {
	r := &runner{cfg: cfg, out: out, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		leavingSince: map[int]time.Time{}}
	r.res = &Result{Seed: cfg.Seed, Config: cfg, Dir: cfg.Dir}
	if r.res.Dir == "" {
		d, err := os.MkdirTemp("", "tide-chaos-*")
		if err != nil {
			return nil, fmt.Errorf("chaos: make a temporary directory: %w", err)
		}
		r.res.Dir, r.tempDir = d, true
	}
	dir, err := filepath.Abs(r.res.Dir)
	if err != nil {
		return nil, fmt.Errorf("chaos: directory %s: %w", r.res.Dir, err)
	}
	r.res.Dir = dir
	home, logs := filepath.Join(dir, "home"), filepath.Join(dir, "logs")
	r.outDir = filepath.Join(dir, "out")
	for _, d := range []string{home, logs, r.outDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("chaos: make %s: %w", d, err)
		}
	}
	if entries, err := os.ReadDir(r.outDir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("chaos: output directory %s is not empty: use a fresh --dir", r.outDir)
	}
	fmt.Fprintf(out, "chaos dir %s (logs in %s)\n", dir, logs)
	exe := cfg.Executable
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("chaos: find the tide executable: %w", err)
		}
	}
	restPort, err := freePort()
	if err != nil {
		return nil, err
	}
	rpcPort, err := freePort()
	for err == nil && rpcPort == restPort {
		rpcPort, err = freePort()
	}
	if err != nil {
		return nil, err
	}
	dynamic := cfg.dynamic(restPort, rpcPort)
	conf, err := config.Load(config.LoadOptions{Home: home, Environ: os.Environ(), Dynamic: dynamic})
	if err != nil {
		return nil, fmt.Errorf("chaos: cluster configuration: %w", err)
	}
	r.heartbeat, r.decommission = conf.HeartbeatTimeout, conf.DecommissionTimeout
	// The JobManager, the initial TaskManagers, one per event (a TaskManager
	// or the JobManager started again), one at the end.
	r.cl = newCluster(exe, home, logs, dynamic, 1+cfg.InitialTMs+cfg.Events+1)
	if r.api, err = newClient(conf, restPort); err != nil {
		return nil, err
	}
	r.start = time.Now()
	r.jmArgs = []string{"standalone-job", "start-foreground", "-j", "Verify"}
	r.jobArgs = []string{"--keys", strconv.Itoa(cfg.Keys), "--count", strconv.Itoa(cfg.Count),
		"--rate", strconv.Itoa(cfg.Rate), "--output", r.outDir}
	if err := r.startJM(); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	r.record(Event{Kind: KindSetup, Target: r.jm.name, PID: r.jm.cmd.Process.Pid,
		Detail: fmt.Sprintf("rest %s, rpc 127.0.0.1:%d, Verify %s", r.api.base, rpcPort, joinArgs(r.jobArgs))})
	return r, nil
}

func joinArgs(args []string) string { return strings.Join(args, " ") }

// startJM starts a JobManager, the first or one more after a jm-kill or
// jm-stop, with the run's one command line and environment (TIDE_HOME, the
// ports, the job's arguments), each with its own log: jobmanager.log,
// jobmanager-2.log, …
func (r *runner) startJM() error {
	p, err := r.cl.start(jmName(r.res.JobManagerRestarts+1), r.jmArgs, r.jobArgs)
	if err != nil {
		return err
	}
	p.jm = true
	r.jm = p
	return nil
}

// since is the time since the run started.
func (r *runner) since() time.Duration { return time.Since(r.start) }

// printf writes one progress line, stamped with the run's time.
func (r *runner) printf(format string, args ...any) {
	fmt.Fprintf(r.out, "[%7.1fs] %s\n", r.since().Seconds(), fmt.Sprintf(format, args...))
}

// record adds e to the timeline, stamped now.
func (r *runner) record(e Event) {
	e.At = r.since()
	r.res.Events = append(r.res.Events, e)
}

// anomaly notes something that went wrong without deciding the verdict.
func (r *runner) anomaly(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.res.Anomalies = append(r.res.Anomalies, fmt.Sprintf("%.3fs %s", r.since().Seconds(), msg))
	r.printf("ANOMALY: %s", msg)
}

// fail ends the run with reason, unless it already failed.
func (r *runner) fail(reason string) {
	if r.res.Failure == "" {
		r.res.Failure = reason
		r.printf("FAIL: %s", reason)
	}
}

// tmStates returns the states of the TaskManagers in start order, and the
// processes they belong to.
func (r *runner) tmStates() ([]tmState, []*proc) {
	var states []tmState
	var procs []*proc
	for _, p := range r.cl.procs {
		if !p.jm {
			states = append(states, p.state)
			procs = append(procs, p)
		}
	}
	return states, procs
}

// startTM starts the next TaskManager.
func (r *runner) startTM(kind Kind, chaos bool, detail string) error {
	r.nextTM++
	p, err := r.cl.start(fmt.Sprintf("taskmanager-%d", r.nextTM), []string{"taskmanager", "start-foreground"}, nil)
	if err != nil {
		return err
	}
	r.record(Event{Kind: kind, Chaos: chaos, Target: p.name, PID: p.cmd.Process.Pid, Detail: detail})
	return nil
}

// evFor returns the timeline entry of a chaos event aimed at p.
func evFor(kind Kind, p *proc, detail string) Event {
	return Event{Kind: kind, Chaos: true, Target: p.name, PID: p.cmd.Process.Pid, Detail: detail}
}

// apply performs a drawn event. A JobManager event only signals the
// JobManager; restartJM does the rest.
func (r *runner) apply(ctx context.Context, c choice, procs []*proc) error {
	if c.kind == KindStart {
		return r.startTM(KindStart, true, "")
	}
	if c.kind.jobManager() {
		r.signalJM(ctx, c.kind)
		return nil
	}
	p := procs[c.target]
	var detail string
	switch c.kind {
	case KindStop:
		if err := r.cl.signal(p, syscall.SIGTERM); err != nil {
			detail = err.Error()
			break
		}
		p.state, p.expectExit = tmLeaving, true
		r.leavingSince[p.index] = time.Now()
		detail = "SIGTERM (graceful leave)"
	case KindKill:
		if err := r.cl.signal(p, syscall.SIGKILL); err != nil {
			detail = err.Error()
			break
		}
		detail = "SIGKILL"
		if p.state == tmPaused {
			detail += " (while paused)"
		}
		p.state, p.expectExit = tmKilled, true
	case KindStopCont:
		if err := r.cl.signal(p, syscall.SIGSTOP); err != nil {
			detail = err.Error()
			break
		}
		p.state, p.resumeAt = tmPaused, time.Now().Add(c.pause)
		detail = fmt.Sprintf("SIGSTOP for %s (%.1f× heartbeat.timeout)", c.pause.Round(time.Millisecond), c.pause.Seconds()/r.heartbeat.Seconds())
	}
	r.record(evFor(c.kind, p, detail))
	return nil
}

// resume sends SIGCONT to p.
func (r *runner) resume(p *proc, why string) {
	err := r.cl.signal(p, syscall.SIGCONT)
	if p.state == tmPaused {
		p.state = tmRunning
	}
	detail := "SIGCONT" + why
	if err != nil {
		detail = err.Error()
	}
	r.record(Event{Kind: KindCont, Target: p.name, PID: p.cmd.Process.Pid, Detail: detail})
	r.printf("%s %s: %s", KindCont, p.name, detail)
}

// handleExit records the exit of a process.
func (r *runner) handleExit(m exitMsg) {
	p := r.cl.procs[m.index]
	was := p.state
	p.state = tmExited
	delete(r.leavingSince, p.index)
	status := "exit status 0"
	if m.err != nil {
		status = m.err.Error()
	}
	r.record(Event{Kind: KindExit, Target: p.name, PID: p.cmd.Process.Pid, Detail: status})
	if r.down {
		return
	}
	r.printf("%s exited: %s", p.name, status)
	log := filepath.Join("logs", p.name+".log")
	switch {
	case p.jm && p.expectExit: // a jm-kill or jm-stop; restartJM waits for it
		if was == tmLeaving && m.err != nil {
			r.anomaly("%s exited with %s after SIGTERM; see %s", p.name, status, log)
		}
	case p.jm && !r.finished:
		r.fail(fmt.Sprintf("%s exited (%s) before the job was seen FINISHED (last state %q); see %s", p.name, status, r.last.state, log))
	case p.jm:
	case !p.expectExit:
		r.anomaly("%s exited on its own (%s) while %s; see %s", p.name, status, was, log)
	case was == tmLeaving && m.err != nil:
		r.anomaly("%s left with %s after SIGTERM; see %s", p.name, status, log)
	}
}

// ensureTM makes sure a TaskManager runs once the events are over. Paused
// TaskManagers finish their pause (it is part of their event) and do not
// count.
func (r *runner) ensureTM() error {
	_, procs := r.tmStates()
	running := 0
	for _, p := range procs {
		if p.state == tmRunning {
			running++
		}
	}
	for running < max(1, r.cfg.MinTMs) {
		if err := r.startTM(KindSetup, false, "the events are over: keep a TaskManager running"); err != nil {
			return err
		}
		running++
	}
	return nil
}

// shutdown stops every process still running: the JobManager gently (it
// may be about to exit on its own), the TaskManagers with SIGKILL. It
// waits for all of them and is idempotent.
func (r *runner) shutdown() {
	if r.down || r.cl == nil {
		return
	}
	r.down = true
	for _, p := range r.cl.alive() {
		if p.state == tmPaused {
			_ = r.cl.signal(p, syscall.SIGCONT)
		}
		if p != r.jm { // a TaskManager, or a JobManager that restartJM gave up on
			p.expectExit = true
			_ = r.cl.signal(p, syscall.SIGKILL)
		}
	}
	if r.jm.state != tmExited {
		grace := time.Duration(0)
		if r.finished {
			grace = 5 * time.Second // it exits by itself shortly after FINISHED
		}
		r.awaitJM(grace)
		if r.jm.state != tmExited {
			_ = r.cl.signal(r.jm, syscall.SIGTERM)
			r.awaitJM(5 * time.Second)
		}
		if r.jm.state != tmExited {
			_ = r.cl.signal(r.jm, syscall.SIGKILL)
		}
	}
	for len(r.cl.alive()) > 0 {
		r.handleExit(<-r.cl.exits)
	}
	r.cl.wait()
}

// awaitJM handles exits until the JobManager's, for at most d.
func (r *runner) awaitJM(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	for r.jm.state != tmExited {
		select {
		case m := <-r.cl.exits:
			r.handleExit(m)
		case <-t.C:
			return
		}
	}
}

// check runs the Verify checker on the job's output.
func (r *runner) check() {
	rep, err := verify.Check(r.outDir, r.cfg.Keys, r.cfg.Count)
	if err != nil {
		r.fail(fmt.Sprintf("verify: %v", err))
		return
	}
	r.res.Report = rep
	if !rep.OK() {
		r.fail("the output is wrong (see the verify report)")
	}
}

// state is the job's last known state, for messages.
func (r *runner) state() rest.JobState { return r.last.state }

// logSigns are log lines that mean Tide did worse than it should even when
// the output verifies: a leaving TaskManager that was not released in time
// makes the job restart and read records again.
var logSigns = []string{"decommission timeout passed", "left early"}

// scanLogs notes every process log line that carries a sign of trouble.
func (r *runner) scanLogs() {
	logs, _ := filepath.Glob(filepath.Join(r.res.Dir, "logs", "*.log"))
	for _, path := range logs {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			for _, sign := range logSigns {
				if strings.Contains(line, sign) {
					r.anomaly("%s: %s", filepath.Base(path), line)
				}
			}
		}
	}
}
