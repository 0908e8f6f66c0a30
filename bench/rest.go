package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// jobDetail is the part of GET /jobs/:jobid the bench reads.
type jobDetail struct {
	ID       string `json:"jid"`
	State    string `json:"state"`
	Start    int64  `json:"start-time"`
	End      int64  `json:"end-time"`
	Vertices []struct {
		Name        string `json:"name"`
		Parallelism int    `json:"parallelism"`
		Status      string `json:"status"`
	} `json:"vertices"`
}

// rescaleRecord is one entry of GET /jobs/:jobid/rescales.
type rescaleRecord struct {
	ID          int64  `json:"id"`
	Trigger     string `json:"trigger"`
	From        int    `json:"from"`
	To          int    `json:"to"`
	Checkpoint  int64  `json:"checkpoint"`
	Start       int64  `json:"start"`
	End         int64  `json:"end"`
	PauseMs     int64  `json:"pause_ms"`
	Reprocessed int64  `json:"reprocessed_records"`
	// RestoredBytes is the keyed state the new attempt read from the blob
	// store; LocalKeyGroups the key groups it kept in memory.
	RestoredBytes  int64  `json:"restored_bytes"`
	LocalKeyGroups int    `json:"local_key_groups"`
	Status         string `json:"status"`
	Message        string `json:"message"`
}

// checkpointRecord is one checkpoint of GET /jobs/:jobid/checkpoints.
type checkpointRecord struct {
	ID        int64  `json:"id"`
	Status    string `json:"status"`
	StateSize int64  `json:"state_size"`
	Duration  int64  `json:"end_to_end_duration"`
}

// checkpointStats is the part of GET /jobs/:jobid/checkpoints the bench reads.
type checkpointStats struct {
	Latest struct {
		Completed *checkpointRecord `json:"completed"`
	} `json:"latest"`
	History []checkpointRecord `json:"history"`
}

func (c *cluster) checkpoints(ctx context.Context, id string) (checkpointStats, error) {
	var s checkpointStats
	err := c.getJSON(ctx, "/jobs/"+id+"/checkpoints", &s)
	return s, err
}

// stateSize returns the state_size of checkpoint cp if the history still
// has it, else of the latest completed checkpoint, and which one it is.
func (s checkpointStats) stateSize(cp int64) (size, id int64, ok bool) {
	for _, h := range s.History {
		if h.ID == cp && h.Status == "COMPLETED" {
			return h.StateSize, h.ID, true
		}
	}
	if l := s.Latest.Completed; l != nil {
		return l.StateSize, l.ID, true
	}
	return 0, 0, false
}

// jobID waits for the JobManager's one job and returns its id.
func (c *cluster) jobID(ctx context.Context) (string, error) {
	var id string
	err := c.waitFor(ctx, "the job to be submitted", 30*time.Second, func() (bool, error) {
		var l struct {
			Jobs []struct{ ID string } `json:"jobs"`
		}
		if err := c.getJSON(ctx, "/jobs", &l); err != nil {
			return false, err
		}
		if len(l.Jobs) == 0 {
			return false, nil
		}
		id = l.Jobs[0].ID
		return true, nil
	})
	return id, err
}

func (c *cluster) job(ctx context.Context, id string) (jobDetail, error) {
	var d jobDetail
	err := c.getJSON(ctx, "/jobs/"+id, &d)
	return d, err
}

// waitRunning waits until the job is RUNNING with every vertex RUNNING at
// parallelism p.
func (c *cluster) waitRunning(ctx context.Context, id string, p int, timeout time.Duration) error {
	return c.waitFor(ctx, fmt.Sprintf("the job RUNNING at parallelism %d", p), timeout, func() (bool, error) {
		d, err := c.job(ctx, id)
		if err != nil || d.State != "RUNNING" || len(d.Vertices) == 0 {
			return false, err
		}
		for _, v := range d.Vertices {
			if v.Parallelism != p || v.Status != "RUNNING" {
				return false, nil
			}
		}
		return true, nil
	})
}

func (c *cluster) rescales(ctx context.Context, id string) ([]rescaleRecord, error) {
	var l struct {
		Rescales []rescaleRecord `json:"rescales"`
	}
	err := c.getJSON(ctx, "/jobs/"+id+"/rescales", &l)
	return l.Rescales, err
}

// progressLine is one JSON progress line of the Throughput job.
type progressLine struct {
	Msg       string `json:"msg"`
	Subtask   int    `json:"subtask"`
	Position  int64  `json:"position"`
	Emitted   int64  `json:"emitted"`
	Processed int64  `json:"processed"`
	At        int64  `json:"at"`
	// Process is the process that wrote the line (set by the bench).
	Process string `json:"-"`
}

// The messages of the Throughput job's progress lines.
const (
	msgSourceFirst   = "throughput source first record"
	msgSourceDone    = "throughput source done"
	msgKeyedProgress = "throughput keyed progress"
)

// progress collects progress lines from the log scanners.
type progress struct {
	mu    sync.Mutex
	lines []progressLine
}

func (p *progress) add(l progressLine) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, l)
}

func (p *progress) snapshot() []progressLine {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.lines)
}

// firstRecord is the earliest first-record time of any source subtask,
// Unix ns, or 0.
func firstRecord(lines []progressLine) int64 {
	var first int64
	for _, l := range lines {
		if l.Msg == msgSourceFirst && (first == 0 || l.At < first) {
			first = l.At
		}
	}
	return first
}

// steadyRate sums, over the keyed subtasks, the records processed per
// second between each subtask's first and last progress line after skip
// (to leave out the start-up); it returns 0 without enough lines.
func steadyRate(lines []progressLine, skip time.Duration) float64 {
	type key struct {
		proc    string
		subtask int
	}
	first, last := map[key]progressLine{}, map[key]progressLine{}
	var start int64
	for _, l := range lines {
		if l.Msg == msgKeyedProgress && (start == 0 || l.At < start) {
			start = l.At
		}
	}
	for _, l := range lines {
		if l.Msg != msgKeyedProgress || l.At < start+skip.Nanoseconds() {
			continue
		}
		k := key{l.Process, l.Subtask}
		if f, ok := first[k]; !ok || l.At < f.At {
			first[k] = l
		}
		if z, ok := last[k]; !ok || l.At > z.At {
			last[k] = l
		}
	}
	var rate float64
	for k, f := range first {
		z := last[k]
		if z.At > f.At {
			rate += float64(z.Processed-f.Processed) / (float64(z.At-f.At) / 1e9)
		}
	}
	return rate
}
