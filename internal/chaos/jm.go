package chaos

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// jmExitTimeout bounds the wait for a signalled JobManager to be gone. A
// SIGKILLed one is gone at once; one stopped with SIGTERM only closes its
// connections and finishes its writes to the job record.
const jmExitTimeout = 15 * time.Second

// signalJM sends the JobManager SIGKILL (jm-kill) or SIGTERM (jm-stop) and
// records the event; the caller then calls restartJM. It polls the REST API
// once more first, so that the rescales the JobManager takes with it are
// listed as fresh as they can be. If the job turns out FINISHED, the signal
// is not sent: the JobManager is about to exit on its own.
func (r *runner) signalJM(ctx context.Context, kind Kind) {
	p := r.jm
	r.poll(ctx)
	if r.finished {
		r.record(evFor(kind, p, "not sent: the job is FINISHED"))
		return
	}
	sig, state, detail := syscall.SIGKILL, tmKilled, "SIGKILL"
	if kind == KindJMStop {
		sig, state, detail = syscall.SIGTERM, tmLeaving, "SIGTERM (graceful stop)"
	}
	if err := r.cl.signal(p, sig); err != nil {
		r.record(evFor(kind, p, err.Error()))
		return
	}
	p.state, p.expectExit = state, true
	r.record(evFor(kind, p, detail+"; it will be started again"))
}

// restartJM waits until old, the JobManager signalled by a jm-kill or
// jm-stop, is gone, starts it again with the same command line and
// environment, and waits until its REST API shows the job, which must have
// the same id. The next event waits for it. It fails the run, naming the
// log to read, when any of this does not happen in time.
func (r *runner) restartJM(ctx context.Context, old *proc, kind Kind) {
	begin := time.Now()
	gone := func() bool { return old.state == tmExited }
	ok := r.waitFor(ctx, jmExitTimeout, gone)
	if !ok && r.res.Failure == "" && kind == KindJMStop {
		r.anomaly("%s (pid %d) still running %s after SIGTERM: sending SIGKILL; see logs/%s.log",
			old.name, old.cmd.Process.Pid, jmExitTimeout, old.name)
		if err := r.cl.signal(old, syscall.SIGKILL); err == nil {
			old.state = tmKilled
		}
		ok = r.waitFor(ctx, jmExitTimeout, gone)
	}
	if !ok {
		r.fail(fmt.Sprintf("%s (pid %d) still running %s after its %s; see logs/%s.log",
			old.name, old.cmd.Process.Pid, time.Since(begin).Round(time.Second), kind, old.name))
		return
	}
	took := time.Since(begin)
	// The restarted JobManager lists only its own rescales: keep the old
	// one's, as its last poll showed them.
	r.earlier = r.res.Rescales
	r.res.JobManagerRestarts++
	if err := r.startJM(); err != nil {
		r.fail(fmt.Sprintf("%s: start the JobManager again: %v", kind, err))
		return
	}
	p := r.jm
	r.record(Event{Kind: KindRestart, Target: p.name, PID: p.cmd.Process.Pid,
		Detail: fmt.Sprintf("%s gone after %s; the same command line, environment and ports", old.name, took.Round(time.Millisecond))})
	r.printf("%s gone after %s; %s started (pid %d)", old.name, took.Round(time.Millisecond), p.name, p.cmd.Process.Pid)
	start := time.Now()
	id, err := r.awaitREST(ctx)
	switch {
	case r.res.Failure != "":
		return
	case id == "":
		r.fail(fmt.Sprintf("%s, started again after a %s, showed no job on its REST API within %s (last error: %v); see logs/%s.log",
			p.name, kind, r.cfg.StartTimeout, err, p.name))
		return
	case id != r.res.JobID:
		r.fail(fmt.Sprintf("%s, started again after a %s, runs job %s, not %s: a job's id must not change across JobManager restarts; see logs/%s.log",
			p.name, kind, id, r.res.JobID, p.name))
		return
	}
	r.failedPolls = 0
	r.printf("%s: its REST API shows job %s %s after its start", p.name, id, time.Since(start).Round(time.Millisecond))
}
