// Package scaler is the autoscaler's shell: it reads what a JobManager
// knows through its Flink-compatible REST API, turns two samples into the
// input of a policy of package autoscaler, and applies the policy's
// decisions through a driver. The policies are pure; the IO is here.
package scaler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tide-stream/tide/internal/autoscaler"
	"github.com/tide-stream/tide/internal/rest"
)

// Collector reads a JobManager's REST API.
type Collector struct {
	base   string
	client *http.Client
}

// collectTimeout bounds each request of a Collector whose client has no
// timeout of its own.
const collectTimeout = 5 * time.Second

// NewCollector reads the REST API at base (http://host:port or
// https://host:port) with client: security.ClientFromConfig's, which
// trusts security.ssl.rest.ca-file and sends the bearer token, or nil for
// a plain one. A client without a timeout gets one.
func NewCollector(base string, client *http.Client) (*Collector, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("scaler: the JobManager's REST address %q is not an http(s) URL", base)
	}
	c := &http.Client{}
	if client != nil {
		*c = *client
	}
	if c.Timeout == 0 {
		c.Timeout = collectTimeout
	}
	return &Collector{base: strings.TrimRight(base, "/"), client: c}, nil
}

// Sample is what the JobManager reported at one time: cumulative counters
// and current values, from which two samples give rates.
type Sample struct {
	At    time.Time
	JobID string
	// State is the job's state (RUNNING, RESTARTING, ...).
	State string
	// TaskManagers by REST id.
	TaskManagers map[string]TaskManagerSample
	// Vertices in the job graph's order.
	Vertices []VertexSample
	// Rescaling: a rescale has started and not ended.
	Rescaling bool
	// Pause is the pause of the newest completed rescale that was not the
	// job's first deployment; zero when none.
	Pause time.Duration
}

// TaskManagerSample is one TaskManager's report.
type TaskManagerSample struct {
	Slots   int
	Leaving bool
	// CPUNs is the process's cumulative CPU time; -1 when not reported.
	CPUNs int64
}

// VertexSample is one vertex's report.
type VertexSample struct {
	ID, Name                    string
	Parallelism, MaxParallelism int
	Source                      bool
	// RecordsIn is the records its subtasks received (for a source, read)
	// in total; -1 when not reported.
	RecordsIn int64
	// Busy is its subtasks' mean busy time, ms per second; -1 when not
	// reported.
	Busy float64
	// Pending is a source's pending records (its Kafka lag); -1 when not
	// known.
	Pending int64
}

// Sample reads the JobManager now.
func (c *Collector) Sample(ctx context.Context) (Sample, error) {
	s := Sample{At: time.Now(), TaskManagers: map[string]TaskManagerSample{}}
	var jobs struct {
		Jobs []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"jobs"`
	}
	if err := c.get(ctx, "/jobs", &jobs); err != nil {
		return s, err
	}
	if len(jobs.Jobs) != 1 {
		return s, fmt.Errorf("scaler: the JobManager runs %d jobs, want 1", len(jobs.Jobs))
	}
	s.JobID = jobs.Jobs[0].ID
	var tms struct {
		TaskManagers []rest.TaskManager `json:"taskmanagers"`
	}
	if err := c.get(ctx, "/taskmanagers", &tms); err != nil {
		return s, err
	}
	for _, tm := range tms.TaskManagers {
		ms, err := c.metrics(ctx, "/taskmanagers/"+url.PathEscape(tm.ID)+"/metrics?get=Status.JVM.CPU.Time")
		if err != nil {
			return s, err
		}
		cpu := int64(-1)
		if v, ok := ms["Status.JVM.CPU.Time"]; ok {
			cpu = int64(v)
		}
		s.TaskManagers[tm.ID] = TaskManagerSample{Slots: tm.SlotsNumber, Leaving: tm.Leaving, CPUNs: cpu}
	}
	var job rest.JobDetail
	if err := c.get(ctx, "/jobs/"+s.JobID, &job); err != nil {
		return s, err
	}
	s.State = string(job.State)
	var plan struct {
		Plan struct {
			Nodes []rest.PlanNode `json:"nodes"`
		} `json:"plan"`
	}
	if err := c.get(ctx, "/jobs/"+s.JobID+"/plan", &plan); err != nil {
		return s, err
	}
	source := map[string]bool{}
	for _, n := range plan.Plan.Nodes {
		source[n.ID] = len(n.Inputs) == 0
	}
	for _, v := range job.Vertices {
		ms, err := c.metrics(ctx, "/jobs/"+s.JobID+"/vertices/"+v.ID+"/metrics?get=numRecordsIn,busyTimeMsPerSecond,pendingRecords")
		if err != nil {
			return s, err
		}
		vs := VertexSample{ID: v.ID, Name: v.Name, Parallelism: v.Parallelism, MaxParallelism: v.MaxParallelism,
			Source: source[v.ID], RecordsIn: -1, Busy: -1, Pending: -1}
		if x, ok := ms["numRecordsIn"]; ok {
			vs.RecordsIn = int64(x)
		}
		if x, ok := ms["busyTimeMsPerSecond"]; ok {
			vs.Busy = x
		}
		if x, ok := ms["pendingRecords"]; ok {
			vs.Pending = int64(x)
		}
		s.Vertices = append(s.Vertices, vs)
	}
	var rescales struct {
		Rescales []rest.Rescale `json:"rescales"`
	}
	if err := c.get(ctx, "/jobs/"+s.JobID+"/rescales", &rescales); err != nil {
		return s, err
	}
	for _, r := range rescales.Rescales {
		switch {
		case r.Status == rest.RescaleInProgress:
			s.Rescaling = true
		case r.Status == rest.RescaleCompleted && r.Trigger != rest.TriggerInitial:
			s.Pause = time.Duration(r.PauseMs) * time.Millisecond
		}
	}
	return s, nil
}

// Input turns two samples of the same job into a policy's input: CPU and
// record rates over the time between them. current is the count the
// driver was last asked for, request each TaskManager's CPU request in
// cores. Job is nil when the samples cannot give rates (another job, a
// job not running, counters that went back as a restart resets them).
func Input(prev, cur Sample, current int, request float64) autoscaler.Input {
	in := autoscaler.Input{Time: cur.At, Current: current}
	span := cur.At.Sub(prev.At).Seconds()
	for id, tm := range cur.TaskManagers {
		t := autoscaler.TaskManager{ID: id, Phase: autoscaler.Running, Ready: true, Request: request}
		if tm.Leaving {
			t.Phase, t.Ready = autoscaler.Leaving, false
		}
		if p, ok := prev.TaskManagers[id]; ok && span > 0 && tm.CPUNs >= 0 && p.CPUNs >= 0 && tm.CPUNs >= p.CPUNs {
			t.CPU, t.HasCPU = float64(tm.CPUNs-p.CPUNs)/1e9/span, true
		}
		in.TaskManagers = append(in.TaskManagers, t)
	}
	if prev.JobID != cur.JobID || cur.State != string(rest.JobRunning) || span <= 0 || len(prev.Vertices) != len(cur.Vertices) {
		return in
	}
	job := &autoscaler.JobMetrics{At: cur.At, Rescaling: cur.Rescaling || prev.Rescaling, RescalePause: cur.Pause}
	for _, tm := range cur.TaskManagers {
		job.SlotsPerTaskManager = max(job.SlotsPerTaskManager, tm.Slots)
	}
	var lagPrev, lagCur float64
	sources := 0
	for i, v := range cur.Vertices {
		p := prev.Vertices[i]
		if p.ID != v.ID || v.RecordsIn < 0 || p.RecordsIn < 0 || v.RecordsIn < p.RecordsIn || v.Busy < 0 {
			return in // a restart reset the counters, or a vertex is not reporting: no rates
		}
		rate := float64(v.RecordsIn-p.RecordsIn) / span
		job.Vertices = append(job.Vertices, autoscaler.Vertex{Name: v.Name, Parallelism: v.Parallelism,
			MaxParallelism: v.MaxParallelism, Busy: v.Busy / 1000, Rate: rate})
		if v.Source {
			sources++
			job.ConsumedRate += rate
			if v.Pending >= 0 && p.Pending >= 0 {
				lagPrev, lagCur = lagPrev+float64(p.Pending), lagCur+float64(v.Pending)
			}
		}
	}
	if sources == 0 {
		return in
	}
	job.Lag = lagCur
	// What arrives is what was read plus what the backlog grew by.
	job.InputRate = max(0, job.ConsumedRate+(lagCur-lagPrev)/span)
	in.Job = job
	return in
}

// metrics runs a Flink metric query: ids to values.
func (c *Collector) metrics(ctx context.Context, path string) (map[string]float64, error) {
	var ms []rest.Metric
	if err := c.get(ctx, path, &ms); err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(ms))
	for _, m := range ms {
		if v, err := strconv.ParseFloat(m.Value, 64); err == nil {
			out[m.ID] = v
		}
	}
	return out, nil
}

// ErrUnreachable wraps a failure to reach the JobManager.
var ErrUnreachable = errors.New("scaler: the JobManager's REST API is not reachable")

func (c *Collector) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: GET %s: %v", ErrUnreachable, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("scaler: GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("scaler: GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("scaler: GET %s: %w", path, err)
	}
	return nil
}

// Rescales returns the job's rescale history.
func (c *Collector) Rescales(ctx context.Context, jobID string) ([]rest.Rescale, error) {
	var rs struct {
		Rescales []rest.Rescale `json:"rescales"`
	}
	if err := c.get(ctx, "/jobs/"+url.PathEscape(jobID)+"/rescales", &rs); err != nil {
		return nil, err
	}
	return rs.Rescales, nil
}
