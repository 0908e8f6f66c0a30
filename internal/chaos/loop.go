package chaos

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tide-stream/tide/internal/rest"
)

// loop drives the run: it waits for the job, starts the initial
// TaskManagers, applies the events one Interval apart, then waits for the
// job to finish. It is the one goroutine that owns the runner; every exit,
// timer and poll is handled in its select.
func (r *runner) loop(ctx context.Context) {
	if !r.awaitJob(ctx) {
		return
	}
	for range r.cfg.InitialTMs {
		if err := r.startTM(KindSetup, false, "initial"); err != nil {
			r.fail(err.Error())
			return
		}
	}
	r.printf("job %s: started %d TaskManagers; %d events, one every %s", r.res.JobID, r.cfg.InitialTMs, r.cfg.Events, r.cfg.Interval)

	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	status := time.NewTicker(r.cfg.StatusEvery)
	defer status.Stop()
	next := time.NewTimer(r.cfg.Interval)
	defer next.Stop()
	events := next.C
	done := 0
	var deadline time.Time // set once the events are over
	if r.cfg.Events == 0 {
		events = nil
		deadline = r.endEvents()
	}
	for r.res.Failure == "" {
		select {
		case <-ctx.Done():
			r.fail("interrupted")
			return
		case m := <-r.cl.exits:
			r.handleExit(m)
		case <-events:
			if r.finished {
				continue
			}
			done++
			r.event(ctx, done)
			if done == r.cfg.Events {
				events = nil
				deadline = r.endEvents()
				continue
			}
			next.Reset(r.cfg.Interval)
		case <-status.C:
			r.status()
		case now := <-poll.C:
			r.resumeDue(now)
			r.leaveOverdue(now)
			r.poll(ctx)
			switch r.last.state {
			case rest.JobFinished:
				if done < r.cfg.Events {
					r.anomaly("the job finished after only %d of %d events: raise --count or --rate", done, r.cfg.Events)
				}
				r.status()
				return
			case rest.JobFailed, rest.JobCanceled:
				r.fail(fmt.Sprintf("the job is %s", r.last.state))
				return
			}
			if !deadline.IsZero() && now.After(deadline) {
				r.fail(fmt.Sprintf("the job did not finish within %s after the events (last state %s)", r.cfg.FinishTimeout, r.state()))
				return
			}
		}
	}
}

// awaitJob polls the REST API until the JobManager shows its job.
func (r *runner) awaitJob(ctx context.Context) bool {
	id, err := r.awaitREST(ctx)
	if id == "" {
		r.fail(fmt.Sprintf("no job on the JobManager's REST API within %s (last error: %v); see logs/%s.log", r.cfg.StartTimeout, err, r.jm.name))
		return false
	}
	r.res.JobID = id
	return true
}

// awaitREST polls the REST API of the JobManager until it shows a job, for
// at most Config.StartTimeout, and returns its id ("" if none showed, with
// the last error).
func (r *runner) awaitREST(ctx context.Context) (id string, lastErr error) {
	r.waitFor(ctx, r.cfg.StartTimeout, func() bool {
		var err error
		if id, err = r.api.jobID(ctx); err != nil {
			lastErr = err
		}
		return id != ""
	})
	return id, lastErr
}

// waitFor handles exits, due SIGCONTs and overdue leaves until cond holds
// (checked at once, then after each exit and every 100 ms), for at most d.
// It returns false when d passed first, or when the run failed or ctx ended
// meanwhile (the run fails as "interrupted").
func (r *runner) waitFor(ctx context.Context, d time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for r.res.Failure == "" {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			r.fail("interrupted")
		case m := <-r.cl.exits:
			r.handleExit(m)
		case now := <-tick.C:
			r.resumeDue(now)
			r.leaveOverdue(now)
		case <-deadline.C:
			return false
		}
	}
	return false
}

// event draws and applies event number n.
func (r *runner) event(ctx context.Context, n int) {
	states, procs := r.tmStates()
	c, ok := pick(r.rng, r.cfg.Kinds, states, r.cfg.MinTMs, r.cfg.MaxTMs, r.heartbeat)
	if !ok {
		r.record(Event{Kind: "none", Chaos: true, Detail: fmt.Sprintf("no legal event among %v with %d TaskManagers up", r.cfg.Kinds, up(states))})
		r.printf("event %d/%d: none legal (%d TaskManagers up)", n, r.cfg.Events, up(states))
		return
	}
	jm := r.jm
	if err := r.apply(ctx, c, procs); err != nil {
		r.fail(fmt.Sprintf("event %d (%s): %v", n, c.kind, err))
		return
	}
	e := r.res.Events[len(r.res.Events)-1]
	e.At = 0
	r.printf("event %d/%d: %s", n, r.cfg.Events, strings.TrimSpace(e.String()))
	if c.kind.jobManager() && jm.expectExit { // the signal went out
		r.restartJM(ctx, jm, c.kind)
	}
}

// endEvents resumes the paused TaskManagers, makes sure one runs and
// returns the deadline for the job to finish.
func (r *runner) endEvents() time.Time {
	r.printf("events over; waiting up to %s for the job to finish", r.cfg.FinishTimeout.Round(time.Second))
	if err := r.ensureTM(); err != nil {
		r.fail(err.Error())
	}
	return time.Now().Add(r.cfg.FinishTimeout)
}

// resumeDue sends SIGCONT to the paused TaskManagers whose pause is over.
func (r *runner) resumeDue(now time.Time) {
	for _, p := range r.cl.procs {
		if p.state == tmPaused && !now.Before(p.resumeAt) {
			r.resume(p, "")
		}
	}
}

// leaveOverdue notes TaskManagers that are still there well past the
// decommission timeout after their SIGTERM.
func (r *runner) leaveOverdue(now time.Time) {
	for i, since := range r.leavingSince {
		if now.Sub(since) > r.decommission+10*time.Second {
			p := r.cl.procs[i]
			r.anomaly("%s still running %s after SIGTERM (taskmanager.decommission.timeout %s); see logs/%s.log",
				p.name, now.Sub(since).Round(time.Second), r.decommission, p.name)
			delete(r.leavingSince, i)
		}
	}
}

// poll reads the REST API; a streak of failures is noted once.
func (r *runner) poll(ctx context.Context) {
	s, err := r.api.poll(ctx, r.res.JobID)
	if err != nil {
		r.failedPolls++
		if r.failedPolls == 20 && r.jm.state != tmExited {
			r.anomaly("the REST API failed %d polls in a row: %v", r.failedPolls, err)
		}
		return
	}
	r.failedPolls = 0
	r.last = s
	r.res.FinalState = s.state
	r.res.Rescales = slices.Clone(r.earlier)
	for _, rs := range s.rescales {
		r.res.Rescales = append(r.res.Rescales, Rescale{Rescale: rs, JobManager: r.jm.name})
	}
	if s.state == rest.JobFinished {
		r.finished = true
	}
}

// status prints the status line.
func (r *runner) status() {
	counts := map[tmState]int{}
	_, procs := r.tmStates()
	for _, p := range procs {
		counts[p.state]++
	}
	var restarts string
	if r.res.JobManagerRestarts > 0 {
		restarts = fmt.Sprintf(" | JobManager restarts %d", r.res.JobManagerRestarts)
	}
	r.printf("status: job %s p=%d attempt %d | REST taskmanagers %d | processes: %d running, %d paused, %d leaving | rescales %d%s",
		r.last.state, r.last.parallelism, r.last.attempt, r.last.taskManagers,
		counts[tmRunning], counts[tmPaused], counts[tmLeaving], len(r.res.Rescales), restarts)
}
