package tidetest

import (
	"context"
	"fmt"
	"time"

	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/rest"
)

// The job states a test waits for (GET /jobs/:jobid "state").
const (
	Created    = rest.JobCreated
	Running    = rest.JobRunning
	Restarting = rest.JobRestarting
	Finished   = rest.JobFinished
	Failed     = rest.JobFailed
	Canceled   = rest.JobCanceled
)

// pollInterval is how often the Wait helpers read the JobManager's view.
// The view is republished after every event of the JobManager's loop, at
// least every 20ms.
const pollInterval = 10 * time.Millisecond

// Job returns the job's details as GET /jobs/:jobid shows them.
func (c *Cluster) Job() rest.JobDetail {
	j, _ := c.Backend().Job(c.JobID())
	return j
}

// State returns the job's state.
func (c *Cluster) State() rest.JobState { return c.Job().State }

// Parallelism returns the parallelism of the job's current deployment: the
// largest parallelism of its vertices, which is the number of slots it
// uses. It is 0 before the first deployment.
func (c *Cluster) Parallelism() int {
	p := 0
	for _, v := range c.Job().Vertices {
		p = max(p, v.Parallelism)
	}
	return p
}

// Rescales returns every rescale and restart of the job, oldest first; not
// the first deployment, which GET /jobs/:jobid/rescales lists too (trigger
// "initial").
func (c *Cluster) Rescales() []rest.Rescale {
	all, _ := c.Backend().Rescales(c.JobID())
	var rs []rest.Rescale
	for _, r := range all {
		if r.Trigger != rest.TriggerInitial {
			rs = append(rs, r)
		}
	}
	return rs
}

// Checkpoints returns the job's checkpoint statistics.
func (c *Cluster) Checkpoints() rest.CheckpointStats {
	s, _ := c.Backend().Checkpoints(c.JobID())
	return s
}

// Overview returns the cluster overview of GET /overview.
func (c *Cluster) Overview() rest.Overview { return c.Backend().Overview() }

// terminal reports whether s is a state the job never leaves.
func terminal(s rest.JobState) bool {
	return s == Finished || s == Failed || s == Canceled
}

// WaitFor polls cond until it holds, failing the test after timeout or as
// soon as the job is in a terminal state while cond does not hold. what
// names the awaited condition in the failure message.
func (c *Cluster) WaitFor(what string, timeout time.Duration, cond func() bool) {
	c.t.Helper()
	if err := c.waitFor(timeout, cond); err != nil {
		c.t.Fatalf("tidetest: waiting for %s: %v", what, err)
	}
}

func (c *Cluster) waitFor(timeout time.Duration, cond func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		// Read the state before cond: if the job was terminal before cond
		// failed, it will not change any more.
		st := c.State()
		if cond() {
			return nil
		}
		if terminal(st) {
			return fmt.Errorf("the job is %s (%s)", st, c.describe())
		}
		jm := c.jobManager()
		select {
		case <-deadline.C:
			return fmt.Errorf("timed out after %v (%s)", timeout, c.describe())
		case <-jm.done:
			if jm == c.jobManager() {
				return fmt.Errorf("the jobmanager stopped: %v", jm.err)
			}
		case <-tick.C:
		}
	}
}

// describe summarizes the job for failure messages.
func (c *Cluster) describe() string {
	j := c.Job()
	cp := c.Checkpoints().Counts
	s := fmt.Sprintf("state %s, attempt %d, parallelism %d, %d taskmanagers, checkpoints completed %d failed %d",
		j.State, j.Attempt, c.Parallelism(), c.Overview().TaskManagers, cp.Completed, cp.Failed)
	for _, r := range c.Rescales() {
		s += fmt.Sprintf("; rescale %d %s %d->%d %s %s", r.ID, r.Trigger, r.From, r.To, r.Status, r.Message)
	}
	return s
}

// WaitState waits until the job is in state.
func (c *Cluster) WaitState(state rest.JobState, timeout time.Duration) {
	c.t.Helper()
	c.WaitFor(fmt.Sprintf("state %s", state), timeout, func() bool { return c.State() == state })
}

// WaitParallelism waits until the job is RUNNING at parallelism p (see
// Parallelism).
func (c *Cluster) WaitParallelism(p int, timeout time.Duration) {
	c.t.Helper()
	c.WaitFor(fmt.Sprintf("parallelism %d", p), timeout, func() bool {
		return c.State() == Running && c.Parallelism() == p
	})
}

// WaitVertexParallelism waits until the job is RUNNING and the vertex
// named vertex (its REST id, its job graph id such as "v1-CountSum", or
// its name) runs at parallelism p.
func (c *Cluster) WaitVertexParallelism(vertex string, p int, timeout time.Duration) {
	c.t.Helper()
	c.WaitFor(fmt.Sprintf("vertex %s at parallelism %d", vertex, p), timeout, func() bool {
		j := c.Job()
		if j.State != Running {
			return false
		}
		for _, v := range j.Vertices {
			if v.ID == vertex || v.ID == exec.VertexID(vertex).RESTID() || v.Name == vertex {
				return v.Parallelism == p
			}
		}
		return false
	})
}

// WaitCheckpoints waits until at least n checkpoints have completed since
// the job started.
func (c *Cluster) WaitCheckpoints(n int64, timeout time.Duration) {
	c.t.Helper()
	c.WaitFor(fmt.Sprintf("%d completed checkpoints", n), timeout, func() bool {
		return c.Checkpoints().Counts.Completed >= n
	})
}

// WaitRescales waits until at least n rescales (or restarts) have ended and
// the job is RUNNING or terminal again, and returns every rescale.
func (c *Cluster) WaitRescales(n int, timeout time.Duration) []rest.Rescale {
	c.t.Helper()
	var rs []rest.Rescale
	c.WaitFor(fmt.Sprintf("%d ended rescales", n), timeout, func() bool {
		rs = c.Rescales()
		ended := 0
		for _, r := range rs {
			if r.Status != rest.RescaleInProgress {
				ended++
			}
		}
		return ended >= n && c.State() == Running
	})
	return rs
}

// WaitTaskManagers waits until exactly n TaskManagers are registered.
func (c *Cluster) WaitTaskManagers(n int, timeout time.Duration) {
	c.t.Helper()
	c.WaitFor(fmt.Sprintf("%d registered taskmanagers", n), timeout, func() bool {
		return c.Overview().TaskManagers == n
	})
}

// TriggerSavepoint takes a savepoint and waits for it; it returns the
// savepoint's location, which Config.SavepointPath accepts.
func (c *Cluster) TriggerSavepoint(timeout time.Duration) string {
	c.t.Helper()
	return c.savepoint(false, timeout)
}

// StopWithSavepoint takes a savepoint after which the job stops (it is then
// FINISHED, as in Flink), waits for both and returns the savepoint's location.
func (c *Cluster) StopWithSavepoint(timeout time.Duration) string {
	c.t.Helper()
	loc := c.savepoint(true, timeout)
	c.WaitState(Finished, timeout)
	return loc
}

func (c *Cluster) savepoint(stop bool, timeout time.Duration) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	b := c.Backend()
	var id string
	var err error
	if stop {
		id, err = b.StopWithSavepoint(ctx, c.JobID(), rest.SavepointRequest{})
	} else {
		id, err = b.TriggerSavepoint(ctx, c.JobID(), rest.SavepointRequest{})
	}
	if err != nil {
		c.t.Fatalf("tidetest: trigger savepoint (stop %v): %v", stop, err)
	}
	var st rest.SavepointStatus
	c.WaitFor("savepoint "+id, timeout, func() bool {
		st, err = b.Savepoint(c.JobID(), id)
		return err == nil && st.State != rest.SavepointInProgress
	})
	if st.State != rest.SavepointSucceeded {
		c.t.Fatalf("tidetest: savepoint %s failed: %s", id, st.FailureCause)
	}
	return st.Location
}

// Cancel cancels the job and waits until it is CANCELED.
func (c *Cluster) Cancel(timeout time.Duration) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := c.Backend().Cancel(ctx, c.JobID()); err != nil {
		c.t.Fatalf("tidetest: cancel the job: %v", err)
	}
	c.WaitState(Canceled, timeout)
}
