package jobmanager

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/checkpointstore"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/heartbeat"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/scheduler"
)

// View is the snapshot of the JobManager that the REST API reads. The loop
// builds a new one after every event it handles and every deadline it
// wakes for — on change, not by polling; readers never see it change. The
// fields that move with the clock alone (the job's duration, the time
// since a heartbeat) are brought up to date when read.
type View struct {
	// at is when the view was built.
	at           time.Time
	Overview     rest.Overview
	Job          rest.JobDetail
	Checkpoints  rest.CheckpointStats
	Rescales     []rest.Rescale
	Exceptions   rest.JobExceptions
	TaskManagers []rest.TaskManager
	Savepoints   map[string]rest.SavepointStatus
	// Vertices holds each vertex's details by REST id; rates the per-
	// subtask record-out rates by vertex REST id and subtask, for the
	// metric queries.
	Vertices map[string]rest.VertexDetail
	outRates map[string][]int64
	// pending holds each source subtask's pending records (a Kafka lag;
	// -1: not known) by vertex REST id and subtask.
	pending map[string][]int64
	// CheckpointTasks holds the per-vertex statistics of the checkpoints
	// of Checkpoints.History, by checkpoint id.
	CheckpointTasks map[int64]map[string]rest.TaskCheckpointStats
	// TaskManagerDetails holds each TaskManager by REST id, and tmProcs its
	// process sample for the metric queries.
	TaskManagerDetails map[string]rest.TaskManagerDetail
	tmProcs            map[string]tmProcessView
}

// tmProcessView is a TaskManager's process sample as published.
type tmProcessView struct {
	sample  *rpc.ProcessSample
	cpuLoad float64
}

// publish builds and stores a new View.
func (jm *JobManager) publish() {
	now := time.Now()
	v := &View{at: now, Savepoints: map[string]rest.SavepointStatus{}}
	state := rest.JobState("CREATED")
	if jm.sched != nil {
		state = rest.JobState(jm.sched.State().JobStatus())
	}
	end := int64(-1)
	dur := now.Sub(jm.started).Milliseconds()
	if !jm.terminalAt.IsZero() {
		end = jm.terminalAt.UnixMilli()
		dur = jm.terminalAt.Sub(jm.started).Milliseconds()
	}
	v.Job = rest.JobDetail{ID: jm.jobID, Name: jm.cfg.JobName, State: state, StartTime: jm.started.UnixMilli(),
		EndTime: end, Duration: dur, Now: now.UnixMilli(), MaxParallelism: jm.cfg.MaxParallelism,
		IsStoppable: state == "RUNNING"}
	var par map[exec.VertexID]int
	if p := jm.placed; p != nil {
		par = p.parallelism
		v.Job.Attempt = int64(p.id)
	}
	jm.trackJobState(string(state), now)
	v.Job.Vertices, v.Vertices = jm.vertexViews(now)
	v.Job.StatusCounts = statusCounts(v.Job.Vertices)
	v.Job.Timestamps = jm.timestamps()
	v.Job.Plan = jm.jobPlan(par)
	v.outRates, v.pending = map[string][]int64{}, map[string][]int64{}
	for _, vx := range jm.graph.Vertices {
		rates, pending := make([]int64, par[vx.ID]), make([]int64, par[vx.ID])
		for i := range rates {
			rates[i], pending[i] = -1, -1
			t := jm.rates[exec.TaskKey{Vertex: vx.ID, Subtask: i}]
			if t != nil && t.rated {
				rates[i] = max(0, t.outRate)
			}
			if t != nil && t.last != nil && jm.life.Live(exec.TaskKey{Vertex: vx.ID, Subtask: i}) {
				pending[i] = t.last.PendingRecords
			}
		}
		v.outRates[vx.ID.RESTID()], v.pending[vx.ID.RESTID()] = rates, pending
	}
	switch state {
	case "RUNNING", "RESTARTING", "CREATED":
		v.Overview.JobsRunning = 1
	case "FINISHED":
		v.Overview.JobsFinished = 1
	case "CANCELED":
		v.Overview.JobsCancelled = 1
	case "FAILED":
		v.Overview.JobsFailed = 1
	}
	used := map[string]int{}
	if p := jm.placed; p != nil {
		for i, s := range p.slots {
			if i < maxPar(p.parallelism) {
				used[s.TaskManager]++
			}
		}
	}
	v.TaskManagerDetails = map[string]rest.TaskManagerDetail{}
	v.tmProcs = map[string]tmProcessView{}
	for _, tm := range jm.pool.TaskManagers() {
		since, _ := jm.hb.SinceLast(heartbeat.ID(tm.ID), now)
		c := jm.tms[tm.ID]
		d := jm.taskManagerView(c, rest.TaskManager{ID: tm.ID, Path: tm.DataAddr, DataPort: port(tm.DataAddr),
			SlotsNumber: tm.Slots, FreeSlots: max(0, tm.Slots-used[tm.ID]), TimeSinceLastHeartbeat: now.Add(-since).UnixMilli(),
			Leaving: c != nil && c.leaving}, min(used[tm.ID], tm.Slots))
		v.TaskManagers = append(v.TaskManagers, d.TaskManager)
		v.TaskManagerDetails[d.ID] = d
		if c != nil && c.proc.sample != nil {
			v.tmProcs[d.ID] = tmProcessView{sample: c.proc.sample, cpuLoad: c.proc.cpuLoad}
		}
		v.Overview.SlotsTotal += tm.Slots
		v.Overview.SlotsAvailable += max(0, tm.Slots-used[tm.ID])
	}
	v.Overview.TaskManagers = len(v.TaskManagers)
	v.Overview.Version = jm.cfg.Version
	for _, r := range jm.life.Rescales() {
		endMs := int64(0)
		if !r.Record.End.IsZero() {
			endMs = r.Record.End.UnixMilli()
		}
		v.Rescales = append(v.Rescales, rest.Rescale{ID: int64(r.Record.ID), Trigger: rest.RescaleTrigger(r.Trigger()),
			From: r.Record.From, To: r.Record.To, Checkpoint: int64(r.Restored), Start: r.Record.Start.UnixMilli(), End: endMs,
			PauseMs: r.PauseMs(), ReprocessedRecords: r.Reprocessed(), Status: rest.RescaleStatus(r.Status()), Message: r.Message,
			RestoredBytes: r.RestoredBytes, LocalKeyGroups: r.LocalGroups})
	}
	if jm.coord != nil {
		v.Checkpoints, v.CheckpointTasks = jm.checkpointView()
	}
	v.Exceptions = jm.exceptionsView()
	for id, sp := range jm.savepoints {
		v.Savepoints[id] = sp.status
	}
	jm.view.Store(v)
}

func maxPar(m map[exec.VertexID]int) int {
	n := 0
	for _, p := range m {
		n = max(n, p)
	}
	return n
}

func port(addr string) int {
	i := strings.LastIndexByte(addr, ':')
	var p int
	fmt.Sscanf(addr[i+1:], "%d", &p)
	return p
}

// externalPath is a checkpoint's location as Flink's REST API gives it: the
// full URI of its directory.
func (jm *JobManager) externalPath(metadataKey string) string {
	if metadataKey == "" {
		return ""
	}
	return jm.location(strings.TrimSuffix(metadataKey, "/"+checkpointstore.MetadataName))
}

// checkpointView is the coordinator's statistics for the REST API, with
// the per-vertex statistics of the checkpoints of its history. It forgets
// the acknowledgements of checkpoints that left the history.
func (jm *JobManager) checkpointView() (rest.CheckpointStats, map[int64]map[string]rest.TaskCheckpointStats) {
	st := jm.coord.Stats()
	jm.cpSummary.add(st.History)
	out := rest.CheckpointStats{Counts: rest.CheckpointCounts{Completed: int64(st.Counts.Completed), Failed: int64(st.Counts.Failed),
		InProgress: int64(st.Counts.InProgress), Restored: int64(st.Counts.Restored), Total: int64(st.Counts.Total)},
		Summary: jm.cpSummary.view()}
	tasks := map[int64]map[string]rest.TaskCheckpointStats{}
	inHistory := map[checkpoint.ID]bool{}
	rank := 0
	ranks := map[checkpoint.ID]int{}
	for _, h := range st.History {
		inHistory[h.ID] = true
		if h.Status == string(rest.CheckpointCompleted) && !h.IsSavepoint {
			ranks[h.ID] = rank
			rank++
		}
		r := jm.checkpointRecord(h, ranks[h.ID])
		out.History = append(out.History, r)
		tasks[r.ID] = jm.checkpointTasks(r)
	}
	for id := range jm.cpTasks {
		if !inHistory[id] {
			delete(jm.cpTasks, id)
		}
	}
	latest := func(c *checkpoint.CheckpointStats) *rest.CheckpointRecord {
		if c == nil {
			return nil
		}
		rk, ok := ranks[c.ID]
		if !ok {
			rk = -1
		}
		r := jm.checkpointRecord(*c, rk)
		return &r
	}
	out.Latest.Completed = latest(st.Latest.Completed)
	out.Latest.Savepoint = latest(st.Latest.Savepoint)
	out.Latest.Failed = latest(st.Latest.Failed)
	if r := st.Latest.Restored; r != nil {
		out.Latest.Restored = &rest.RestoredCheckpoint{ID: int64(r.ID), ExternalPath: jm.externalPath(r.ExternalPath), RestoreTimestamp: r.RestoreTimestamp, IsSavepoint: r.IsSavepoint}
	}
	return out, tasks
}

// Backend returns the REST API's view of the JobManager.
func (jm *JobManager) Backend() rest.Backend { return backend{jm} }

type backend struct{ jm *JobManager }

func (b backend) v() *View { return b.jm.view.Load() }

func (b backend) Overview() rest.Overview { return b.v().Overview }

// job is the view's job detail with its clock fields as of now.
func (b backend) job() rest.JobDetail {
	v := b.v()
	j := v.Job
	now := time.Now()
	j.Now = now.UnixMilli()
	if j.EndTime < 0 {
		j.Duration += now.Sub(v.at).Milliseconds()
	}
	return j
}

func (b backend) Jobs() []rest.JobSummary {
	j := b.job()
	return []rest.JobSummary{{ID: j.ID, Name: j.Name, State: j.State, StartTime: j.StartTime, EndTime: j.EndTime, Duration: j.Duration,
		LastModification: j.Now, Tasks: jobTasks(j.StatusCounts)}}
}

func (b backend) Job(id string) (rest.JobDetail, error) {
	if id != b.jm.jobID {
		return rest.JobDetail{}, fmt.Errorf("job %s: %w", id, rest.ErrNotFound)
	}
	return b.job(), nil
}

func (b backend) Checkpoints(id string) (rest.CheckpointStats, error) {
	if id != b.jm.jobID {
		return rest.CheckpointStats{}, fmt.Errorf("job %s: %w", id, rest.ErrNotFound)
	}
	return b.v().Checkpoints, nil
}

func (b backend) Rescales(id string) ([]rest.Rescale, error) {
	if id != b.jm.jobID {
		return nil, fmt.Errorf("job %s: %w", id, rest.ErrNotFound)
	}
	return b.v().Rescales, nil
}

func (b backend) Exceptions(id string) (rest.JobExceptions, error) {
	if id != b.jm.jobID {
		return rest.JobExceptions{}, fmt.Errorf("job %s: %w", id, rest.ErrNotFound)
	}
	return b.v().Exceptions, nil
}

func (b backend) TaskManagers() []rest.TaskManager {
	tms := slices.Clone(b.v().TaskManagers)
	now := time.Now().UnixMilli()
	for i := range tms {
		tms[i].HeartbeatAge = max(0, now-tms[i].TimeSinceLastHeartbeat)
	}
	return tms
}

// command runs fn on the loop and waits for its answer.
func (b backend) command(ctx context.Context, id string, fn func() (string, error)) (string, error) {
	if id != b.jm.jobID {
		return "", fmt.Errorf("job %s: %w", id, rest.ErrNotFound)
	}
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	select {
	case b.jm.events <- evCommand{fn: func() { s, err := fn(); ch <- result{s, err} }}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case r := <-ch:
		return r.s, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// The savepoint commands publish the view before they answer, so that a
// client polling GET …/savepoints/{id} right after sees its request.

func (b backend) TriggerSavepoint(ctx context.Context, id string, req rest.SavepointRequest) (string, error) {
	return b.command(ctx, id, func() (string, error) {
		rid, err := b.jm.triggerSavepoint(req, req.CancelJob)
		b.jm.publish()
		return rid, err
	})
}

func (b backend) StopWithSavepoint(ctx context.Context, id string, req rest.SavepointRequest) (string, error) {
	return b.command(ctx, id, func() (string, error) {
		rid, err := b.jm.triggerSavepoint(req, true)
		b.jm.publish()
		return rid, err
	})
}

func (b backend) Savepoint(id, requestID string) (rest.SavepointStatus, error) {
	if id != b.jm.jobID {
		return rest.SavepointStatus{}, fmt.Errorf("job %s: %w", id, rest.ErrNotFound)
	}
	st, ok := b.v().Savepoints[requestID]
	if !ok {
		return st, fmt.Errorf("savepoint request %s: %w", requestID, rest.ErrNotFound)
	}
	return st, nil
}

func (b backend) Cancel(ctx context.Context, id string) error {
	_, err := b.command(ctx, id, func() (string, error) {
		if b.jm.sched.State().Terminal() {
			return "", &rest.ConflictError{Msg: fmt.Sprintf("job is already %s", b.jm.sched.State().JobStatus())}
		}
		b.jm.log.Info("cancel requested through the REST API")
		b.jm.stepSched(scheduler.Cancel{})
		return "", nil
	})
	return err
}

// vertexMetrics is the busiest subtask's time split: the autoscaler scales
// on the subtask that limits the vertex. -1 until two samples came in.
func (jm *JobManager) vertexMetrics(vertex exec.VertexID) rest.VertexMetrics {
	out := rest.VertexMetrics{BusyTimeMsPerSecond: -1, BackPressuredTimeMsPerSecond: -1, IdleTimeMsPerSecond: -1}
	for k, t := range jm.rates {
		if k.Vertex != vertex || !t.rated || !jm.life.Live(k) {
			continue
		}
		out.BusyTimeMsPerSecond = max(out.BusyTimeMsPerSecond, t.rates.BusyTimeMsPerSecond)
		out.BackPressuredTimeMsPerSecond = max(out.BackPressuredTimeMsPerSecond, t.rates.BackPressuredTimeMsPerSecond)
		out.IdleTimeMsPerSecond = max(out.IdleTimeMsPerSecond, t.rates.IdleTimeMsPerSecond)
		out.NumRecordsInPerSecond += t.rates.NumRecordsInPerSecond
		out.NumRecordsOutPerSecond += max(0, t.rates.NumRecordsOutPerSecond)
	}
	return out
}
