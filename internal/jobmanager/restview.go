package jobmanager

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/scheduler"
)

// This file keeps what the REST API shows beyond the cores' own state —
// each subtask's states over time, each checkpoint's acknowledgements per
// vertex, each TaskManager's process — and turns it into the View's
// parts. Everything here is owned by the loop goroutine, except the
// backend's read methods at the end, which read only the published View
// and the immutable configuration and graph.

// restTMID is a TaskManager's id in the REST API: its registration id
// ("resource#n") with the '#', which a URL would cut off, made '-'.
func restTMID(reg string) string { return strings.ReplaceAll(reg, "#", "-") }

// subtaskTrack is one subtask of the deployed attempt as the REST API shows
// it: where it runs and how long it spent in each state.
type subtaskTrack struct {
	tm    string // registration id
	state rpc.TaskState
	// since is when it entered state; start when it was deployed; end when
	// it reached a final state (zero until then).
	since, start, end time.Time
	// durations sums the time spent in each state left so far, ms.
	durations map[string]int64
}

// trackDeploy starts tracking the subtasks of a new placement.
func (jm *JobManager) trackDeploy(p *placement, now time.Time) {
	jm.subtasks = map[exec.TaskKey]*subtaskTrack{}
	for v, par := range p.parallelism {
		for i := range par {
			tm := ""
			if i < len(p.slots) {
				tm = p.slots[i].TaskManager
			}
			jm.subtasks[exec.TaskKey{Vertex: v, Subtask: i}] = &subtaskTrack{tm: tm, state: rpc.TaskDeploying,
				since: now, start: now, durations: map[string]int64{}}
		}
	}
}

// finalTaskState reports whether a subtask in state s has ended.
func finalTaskState(s rpc.TaskState) bool {
	return s == rpc.TaskFinished || s == rpc.TaskCanceled || s == rpc.TaskFailed
}

// trackStatus records a subtask's report of the deployed attempt.
func (jm *JobManager) trackStatus(st *rpc.TaskStatus, now time.Time) {
	p := jm.placed
	if p == nil || exec.Attempt(st.Attempt) != p.id {
		return
	}
	t := jm.subtasks[st.Task.Exec()]
	if t == nil || t.state == st.State || !t.end.IsZero() {
		return
	}
	t.durations[string(t.state)] += now.Sub(t.since).Milliseconds()
	t.state, t.since = st.State, now
	if finalTaskState(st.State) {
		t.end = now
	}
}

// cpVertex is one vertex's acknowledgements of a checkpoint.
type cpVertex struct {
	acked   int
	lastAck int64 // Unix ms
	size    int64 // bytes
}

// cpTrack is what the subtasks acknowledged of one checkpoint, per vertex.
type cpTrack struct {
	parallelism map[exec.VertexID]int
	vertices    map[exec.VertexID]*cpVertex
}

// trackAck records an acknowledgement the coordinator accepted.
func (jm *JobManager) trackAck(id checkpoint.ID, task exec.TaskKey, snaps []checkpoint.OperatorSnapshot, now time.Time) {
	t := jm.cpTasks[id]
	if t == nil {
		t = &cpTrack{vertices: map[exec.VertexID]*cpVertex{}}
		if p := jm.placed; p != nil {
			t.parallelism = p.parallelism
		}
		jm.cpTasks[id] = t
	}
	v := t.vertices[task.Vertex]
	if v == nil {
		v = &cpVertex{}
		t.vertices[task.Vertex] = v
	}
	v.acked++
	v.lastAck = now.UnixMilli()
	for _, s := range snaps {
		if s.Keyed != nil {
			v.size += s.Keyed.Size()
		}
		for _, e := range s.List {
			v.size += int64(len(e))
		}
	}
}

// maxSummarized bounds the completed checkpoints the summary covers.
const maxSummarized = 1000

// checkpointSummary summarizes the last completed checkpoints (at most
// maxSummarized) for GET /jobs/:jobid/checkpoints.
type checkpointSummary struct {
	last      checkpoint.ID // newest checkpoint added
	durations []int64
	sizes     []int64
}

// add records the completed checkpoints of history (newest first) that are
// newer than the last one added.
func (s *checkpointSummary) add(history []checkpoint.CheckpointStats) {
	for _, h := range slices.Backward(history) {
		if h.Status != string(rest.CheckpointCompleted) || h.ID <= s.last {
			continue
		}
		s.last = h.ID
		s.durations = append(s.durations, h.EndToEndDuration)
		s.sizes = append(s.sizes, h.StateSize)
		if len(s.durations) > maxSummarized {
			s.durations, s.sizes = s.durations[1:], s.sizes[1:]
		}
	}
}

func (s *checkpointSummary) view() rest.CheckpointSummary {
	size := rest.SummarizeStats(s.sizes)
	zeros := rest.SummarizeStats(make([]int64, len(s.sizes)))
	return rest.CheckpointSummary{CheckpointedSize: size, StateSize: size,
		EndToEndDuration: rest.SummarizeStats(s.durations), AlignmentBuffered: zeros, PersistedData: zeros}
}

// tmProcess is a TaskManager's latest process sample.
type tmProcess struct {
	sample *rpc.ProcessSample
	at     time.Time
	// cpuLoad is the share of its CPU limit the process used between the
	// last two samples; -1 before two came in.
	cpuLoad float64
}

// trackProcess records a TaskManager's process sample.
func (jm *JobManager) trackProcess(tm *tmConn, s *rpc.ProcessSample, now time.Time) {
	load := -1.0
	if prev := tm.proc.sample; prev != nil && now.After(tm.proc.at) && tm.info.CPUCores > 0 {
		load = float64(s.CPUNs-prev.CPUNs) / float64(now.Sub(tm.proc.at).Nanoseconds()) / tm.info.CPUCores
		load = max(0, load)
	}
	tm.proc = tmProcess{sample: s, at: now, cpuLoad: load}
}

// vertexViews builds each vertex's summary for GET /jobs/:jobid and its
// details for GET /jobs/:jobid/vertices/:vertexid, keyed by REST id.
func (jm *JobManager) vertexViews(now time.Time) ([]rest.Vertex, map[string]rest.VertexDetail) {
	var par map[exec.VertexID]int
	var attemptID int64
	if p := jm.placed; p != nil {
		par, attemptID = p.parallelism, int64(p.id)
	}
	vertices := make([]rest.Vertex, 0, len(jm.graph.Vertices))
	details := make(map[string]rest.VertexDetail, len(jm.graph.Vertices))
	for _, vx := range jm.graph.Vertices {
		rid := vx.ID.RESTID()
		d := rest.VertexDetail{ID: rid, Name: vx.Name, Parallelism: par[vx.ID], MaxParallelism: vx.MaxParallelism,
			Now: now.UnixMilli()}
		v := rest.Vertex{ID: rid, Name: vx.Name, Parallelism: par[vx.ID], MaxParallelism: vx.MaxParallelism,
			StartTime: -1, EndTime: -1, Duration: -1, Tasks: executionStates(), Metrics: jm.vertexMetrics(vx.ID)}
		ended := par[vx.ID] > 0
		var end int64 = -1
		for i := range par[vx.ID] {
			k := exec.TaskKey{Vertex: vx.ID, Subtask: i}
			s := jm.subtaskView(k, attemptID, now)
			d.Subtasks = append(d.Subtasks, s)
			v.Tasks[s.Status]++
			if v.StartTime < 0 || s.StartTime < v.StartTime {
				v.StartTime = s.StartTime
			}
			if s.EndTime < 0 {
				ended = false
			}
			end = max(end, s.EndTime)
			v.Metrics.IOMetrics = addIO(v.Metrics.IOMetrics, s.Metrics.IOMetrics, i == 0)
		}
		if ended {
			v.EndTime = end
		}
		if v.StartTime >= 0 {
			v.Duration = now.UnixMilli() - v.StartTime
			if v.EndTime >= 0 {
				v.Duration = v.EndTime - v.StartTime
			}
		}
		v.Status = vertexStatus(v.Tasks, par[vx.ID])
		vertices = append(vertices, v)
		details[rid] = d
	}
	return vertices, details
}

// executionStates returns a count of 0 for every execution state, as
// Flink's task counts have.
func executionStates() map[string]int {
	m := map[string]int{}
	for _, s := range []string{"CREATED", "SCHEDULED", "DEPLOYING", "RUNNING", "FINISHED", "CANCELING", "CANCELED",
		"FAILED", "RECONCILING", "INITIALIZING"} {
		m[s] = 0
	}
	return m
}

// vertexStatus is a vertex's state from its subtasks' (Flink's aggregate
// job vertex state): FINISHED when all finished, else the first of FAILED,
// CANCELING, CANCELED, RUNNING, DEPLOYING that one has; CREATED for none.
func vertexStatus(tasks map[string]int, n int) string {
	if n == 0 {
		return "CREATED"
	}
	if tasks["FINISHED"] == n {
		return "FINISHED"
	}
	for _, s := range []string{"FAILED", "CANCELING", "CANCELED", "RUNNING", "DEPLOYING"} {
		if tasks[s] > 0 {
			return s
		}
	}
	return "CREATED"
}

// addIO adds b to a for a vertex's sum; a count is complete while every
// subtask's is.
func addIO(a, b rest.IOMetrics, first bool) rest.IOMetrics {
	if first {
		return b
	}
	a.ReadRecords += b.ReadRecords
	a.WriteRecords += b.WriteRecords
	a.ReadRecordsComplete = a.ReadRecordsComplete && b.ReadRecordsComplete
	a.WriteRecordsComplete = a.WriteRecordsComplete && b.WriteRecordsComplete
	a.AccumulatedBusyTime += b.AccumulatedBusyTime
	a.AccumulatedBackpressuredTime += b.AccumulatedBackpressuredTime
	a.AccumulatedIdleTime += b.AccumulatedIdleTime
	return a
}

// subtaskView is one subtask of the deployed attempt for the REST API.
func (jm *JobManager) subtaskView(k exec.TaskKey, attemptID int64, now time.Time) rest.SubtaskDetail {
	s := rest.SubtaskDetail{Subtask: k.Subtask, Status: "CREATED", Attempt: attemptID, StartTime: -1, EndTime: -1,
		Duration: -1, StatusDuration: map[string]int64{},
		Metrics: rest.VertexMetrics{BusyTimeMsPerSecond: -1, BackPressuredTimeMsPerSecond: -1, IdleTimeMsPerSecond: -1}}
	if t := jm.subtasks[k]; t != nil {
		state, end := t.state, t.end
		if end.IsZero() && !jm.life.Live(k) && jm.life.Started() {
			// Stopped without a final report (its TaskManager went): it
			// runs no more.
			state, end = rpc.TaskCanceled, now
		}
		s.Status = string(state)
		s.TaskManagerID = restTMID(t.tm)
		if c := jm.tms[t.tm]; c != nil {
			s.Host = c.info.DataAddr
		}
		s.StartTime = t.start.UnixMilli()
		for st, d := range t.durations {
			s.StatusDuration[st] = d
		}
		if t.end.IsZero() {
			s.StatusDuration[string(t.state)] += now.Sub(t.since).Milliseconds()
		}
		s.Duration = now.Sub(t.start).Milliseconds()
		if !end.IsZero() {
			s.EndTime = end.UnixMilli()
			s.Duration = end.Sub(t.start).Milliseconds()
		}
	}
	if r := jm.rates[k]; r != nil && r.last != nil {
		l := r.last
		ms := func(ns int64) int64 { return ns / 1e6 }
		s.Metrics.IOMetrics = rest.IOMetrics{ReadRecords: l.RecordsIn, ReadRecordsComplete: true,
			WriteRecords: l.RecordsOut, WriteRecordsComplete: true,
			AccumulatedBusyTime:          float64(ms(max(0, l.UptimeNs-l.IdleNs-l.BackPressuredNs))),
			AccumulatedBackpressuredTime: ms(l.BackPressuredNs), AccumulatedIdleTime: ms(l.IdleNs)}
		if r.rated {
			io := s.Metrics.IOMetrics
			s.Metrics = r.rates
			s.Metrics.IOMetrics = io
		}
	}
	return s
}

// statusCounts sums the vertices' task counts (Flink's status-counts).
func statusCounts(vs []rest.Vertex) map[string]int {
	m := executionStates()
	for _, v := range vs {
		for s, n := range v.Tasks {
			m[s] += n
		}
	}
	return m
}

// jobTasks is Flink's JobDetails.tasks: the counts, lower-case, and total.
func jobTasks(counts map[string]int) map[string]int {
	m := map[string]int{}
	total := 0
	for s, n := range counts {
		m[strings.ToLower(s)] = n
		total += n
	}
	m["total"] = total
	return m
}

// jobStatuses are Flink's job states, the keys of its timestamps.
var jobStatuses = []string{"INITIALIZING", "CREATED", "RUNNING", "FAILING", "FAILED", "CANCELLING", "CANCELED",
	"FINISHED", "RESTARTING", "SUSPENDED", "RECONCILING"}

// trackJobState records when the job entered state; timestamps returns
// them for every job state, 0 for those never entered.
func (jm *JobManager) trackJobState(state string, now time.Time) {
	if jm.stateTimes == nil {
		jm.stateTimes = map[string]int64{}
	}
	if state != jm.lastState {
		jm.stateTimes[state] = now.UnixMilli()
		jm.lastState = state
	}
}

func (jm *JobManager) timestamps() map[string]int64 {
	m := make(map[string]int64, len(jobStatuses))
	for _, s := range jobStatuses {
		m[s] = jm.stateTimes[s]
	}
	return m
}

// jobPlan is the job graph as Flink's plan JSON.
func (jm *JobManager) jobPlan(par map[exec.VertexID]int) rest.JobPlan {
	p := rest.JobPlan{JobID: jm.jobID, Name: jm.cfg.JobName, Type: "STREAMING"}
	for _, vx := range jm.graph.Vertices {
		n := rest.PlanNode{ID: vx.ID.RESTID(), Parallelism: par[vx.ID], Operator: vx.Name, Description: vx.Name}
		for num, ei := range vx.Inputs {
			e := jm.graph.Edges[ei]
			n.Inputs = append(n.Inputs, rest.PlanInput{Num: num, ID: jm.graph.Vertices[e.From].ID.RESTID(),
				ShipStrategy: e.Partitioning.String(), Exchange: "pipelined_bounded"})
		}
		p.Nodes = append(p.Nodes, n)
	}
	return p
}

// checkpointRecord converts the coordinator's stats of one checkpoint.
// retainedRank is its rank among the completed checkpoints, newest first
// (0 for the newest), or -1 when unknown.
func (jm *JobManager) checkpointRecord(c checkpoint.CheckpointStats, retainedRank int) rest.CheckpointRecord {
	r := rest.CheckpointRecord{ID: int64(c.ID), Status: rest.CheckpointStatus(c.Status), IsSavepoint: c.IsSavepoint,
		TriggerTimestamp: c.TriggerTimestamp, LatestAckTimestamp: c.LatestAckTimestamp, EndToEndDuration: c.EndToEndDuration,
		StateSize: c.StateSize, ExternalPath: jm.externalPath(c.ExternalPath), NumSubtasks: c.NumSubtasks,
		NumAcknowledgedSubtask: c.NumAcknowledgedSubtasks, FailureMessage: c.FailureMessage}
	switch r.Status {
	case rest.CheckpointCompleted:
		if retainedRank >= 0 {
			// Savepoints are never discarded; checkpoints past
			// state.checkpoints.num-retained are.
			discarded := !c.IsSavepoint && retainedRank >= jm.numRetained()
			r.Discarded = &discarded
		}
	case rest.CheckpointFailed:
		at := c.TriggerTimestamp + c.EndToEndDuration
		r.FailureTimestamp = &at
	}
	return r
}

// numRetained is state.checkpoints.num-retained as the coordinator applies
// it (default 3).
func (jm *JobManager) numRetained() int {
	if n := jm.cfg.Checkpoint.NumRetained; n > 0 {
		return n
	}
	return 3
}

// checkpointTasks is the per-vertex statistics of checkpoint c, keyed by
// the vertices' REST ids.
func (jm *JobManager) checkpointTasks(c rest.CheckpointRecord) map[string]rest.TaskCheckpointStats {
	t := jm.cpTasks[checkpoint.ID(c.ID)]
	out := make(map[string]rest.TaskCheckpointStats, len(jm.graph.Vertices))
	for _, vx := range jm.graph.Vertices {
		s := rest.TaskCheckpointStats{ID: c.ID, Status: rest.CheckpointInProgress}
		if t != nil {
			s.NumSubtasks = t.parallelism[vx.ID]
			if v := t.vertices[vx.ID]; v != nil {
				s.NumAcknowledgedSubtasks, s.LatestAckTimestamp, s.StateSize = v.acked, v.lastAck, v.size
				s.EndToEndDuration = max(0, v.lastAck-c.TriggerTimestamp)
			}
		}
		switch {
		case s.NumSubtasks > 0 && s.NumAcknowledgedSubtasks == s.NumSubtasks:
			s.Status = rest.CheckpointCompleted
		case c.Status == rest.CheckpointFailed:
			s.Status = rest.CheckpointFailed
		case c.Status == rest.CheckpointCompleted:
			// A vertex with no subtasks in the checkpoint's attempt (or
			// acknowledged before this JobManager started) is done too.
			s.Status = rest.CheckpointCompleted
		}
		out[vx.ID.RESTID()] = s
	}
	return out
}

// taskManagerView is a TaskManager for GET /taskmanagers and its details.
func (jm *JobManager) taskManagerView(tm *tmConn, base rest.TaskManager, used int) rest.TaskManagerDetail {
	base.ID = restTMID(base.ID)
	base.JmxPort = -1
	base.Hardware = rest.Hardware{CPUCores: -1, PhysicalMemory: -1, FreeMemory: -1}
	if tm != nil {
		i := tm.info
		if i.CPUCores > 0 {
			base.Hardware.CPUCores = int(math.Ceil(i.CPUCores))
		}
		if i.PhysicalMemory > 0 {
			base.Hardware.PhysicalMemory = i.PhysicalMemory
			base.Hardware.FreeMemory = i.PhysicalMemory
		}
		if i.MemoryLimit > 0 {
			base.Hardware.FreeMemory = i.MemoryLimit
		}
	}
	managed := int64(0)
	base.MemoryConfiguration = rest.MemoryConfiguration{ManagedMemory: &managed}
	if tm != nil && tm.info.MemoryLimit > 0 {
		limit := tm.info.MemoryLimit
		base.MemoryConfiguration.TotalProcessMemory = &limit
	}
	d := rest.TaskManagerDetail{TaskManager: base}
	for range used {
		d.AllocatedSlots = append(d.AllocatedSlots, rest.AllocatedSlot{JobID: jm.jobID})
	}
	if tm != nil && tm.proc.sample != nil {
		s := tm.proc.sample
		d.Metrics = rest.TaskManagerMetrics{HeapUsed: s.HeapUsed, HeapCommitted: s.HeapCommitted, HeapMax: s.MemoryLimit,
			NonHeapUsed: s.NonHeapUsed, NonHeapCommitted: s.NonHeapCommitted, NonHeapMax: -1,
			GarbageCollectors: []rest.GarbageCollector{{Name: "Go", Count: s.GCCount, Time: s.GCPauseNs / 1e6}}}
	}
	return d
}

// restartDescription describes the restart strategy in words, as Flink's
// job config does.
func (jm *JobManager) restartDescription() string {
	r := jm.cfg.Scheduler.Restart
	if r == (scheduler.RestartConfig{}) {
		r = scheduler.RestartConfig{Strategy: "fixed-delay", Attempts: -1, Delay: time.Second}
	}
	attempts := "unlimited"
	if r.Attempts >= 0 {
		attempts = fmt.Sprint(r.Attempts)
	}
	switch r.Strategy {
	case "none":
		return "Restart deactivated."
	case "exponential-delay":
		return fmt.Sprintf("Restart with exponential delay: initial backoff %s, max backoff %s, multiplier %g; %s restart attempts.",
			r.InitialBackoff, r.MaxBackoff, r.Multiplier, attempts)
	case "failure-rate":
		return fmt.Sprintf("Failure rate restart with maximum of %d failures within interval %s and fixed delay %s.",
			r.MaxFailuresPerInterval, r.FailureRateInterval, r.Delay)
	case "fixed-delay":
		return fmt.Sprintf("Restart with fixed delay (%s). %s restart attempts.", r.Delay, attempts)
	}
	return r.Strategy
}
