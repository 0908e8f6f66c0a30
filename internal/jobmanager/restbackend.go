package jobmanager

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tide-stream/tide/internal/metrics"
	"github.com/tide-stream/tide/internal/procsample"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/rpc"
)

// The backend's read methods beyond the job summary: they read the
// published View, the immutable configuration and the job graph, never
// the loop's state.

func (b backend) jobKnown(id string) error {
	if id != b.jm.jobID {
		return fmt.Errorf("job %s: %w", id, rest.ErrNotFound)
	}
	return nil
}

func (b backend) TaskManager(tmID string) (rest.TaskManagerDetail, error) {
	d, ok := b.v().TaskManagerDetails[tmID]
	if !ok {
		return d, fmt.Errorf("taskmanager %s: %w", tmID, rest.ErrTaskManagerNotFound)
	}
	d.HeartbeatAge = max(0, time.Now().UnixMilli()-d.TimeSinceLastHeartbeat)
	return d, nil
}

func (b backend) Vertex(id, vertexID string) (rest.VertexDetail, error) {
	if err := b.jobKnown(id); err != nil {
		return rest.VertexDetail{}, err
	}
	d, ok := b.v().Vertices[vertexID]
	if !ok {
		return d, fmt.Errorf("vertex %s: %w", vertexID, rest.ErrVertexNotFound)
	}
	return d, nil
}

func (b backend) Checkpoint(id string, checkpointID int64) (rest.CheckpointRecord, error) {
	if err := b.jobKnown(id); err != nil {
		return rest.CheckpointRecord{}, err
	}
	v := b.v()
	for _, c := range v.Checkpoints.History {
		if c.ID == checkpointID {
			c.Tasks = v.CheckpointTasks[c.ID]
			return c, nil
		}
	}
	return rest.CheckpointRecord{}, fmt.Errorf("checkpoint %d: %w", checkpointID, rest.ErrCheckpointNotFound)
}

// defaultCheckpointTimeout is execution.checkpointing.timeout's default,
// which the coordinator applies when Config.Checkpoint.Timeout is 0.
const defaultCheckpointTimeout = 10 * time.Minute

func (b backend) CheckpointConfig(id string) (rest.CheckpointConfig, error) {
	if err := b.jobKnown(id); err != nil {
		return rest.CheckpointConfig{}, err
	}
	c := b.jm.cfg.Checkpoint
	if c.Interval <= 0 {
		return rest.CheckpointConfig{}, fmt.Errorf("job %s: %w", id, rest.ErrCheckpointingDisabled)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = defaultCheckpointTimeout
	}
	return rest.CheckpointConfig{
		// Barriers are aligned: every record is in exactly one checkpoint.
		Mode:     "EXACTLY_ONCE",
		Interval: c.Interval.Milliseconds(), Timeout: timeout.Milliseconds(),
		// The coordinator runs one checkpoint at a time and waits no pause.
		MinPause: 0, MaxConcurrent: 1,
		// Completed checkpoints stay in state.checkpoints.dir when the job
		// is cancelled (jobmanager.recovery resumes from them).
		Externalization: rest.CheckpointExternalization{Enabled: true, DeleteOnCancellation: false},
		// Keyed state lives in memory, in one map per key group, and is
		// written to a file system (any blob store): what Flink calls the
		// HashMapStateBackend with FileSystemCheckpointStorage.
		StateBackend: "HashMapStateBackend", CheckpointStorage: "FileSystemCheckpointStorage",
		UnalignedCheckpoints: false, AlignedCheckpointTimeout: 0,
		// A failed checkpoint never fails the job: Flink's largest value.
		TolerableFailedCheckpoints: 1<<31 - 1,
		// A bounded job whose sources finished takes a final checkpoint.
		CheckpointsAfterTasksFinish: true,
		StateChangelogEnabled:       false,
	}, nil
}

func (b backend) JobConfig(id string) (rest.JobConfig, error) {
	if err := b.jobKnown(id); err != nil {
		return rest.JobConfig{}, err
	}
	cfg := b.jm.cfg
	par := cfg.Scheduler.DefaultParallelism
	if cfg.Scheduler.Reactive || par <= 0 {
		par = -1
	}
	user := make(map[string]string, len(cfg.JobArgs))
	for i, a := range cfg.JobArgs {
		user[strconv.Itoa(i)] = a
	}
	return rest.JobConfig{JobID: b.jm.jobID, Name: cfg.JobName, ExecutionConfig: rest.ExecutionConfig{
		ExecutionMode: "PIPELINED", RestartStrategy: b.jm.restartDescription(), JobParallelism: par,
		ObjectReuseMode: false, UserConfig: user}}, nil
}

func (b backend) ClusterConfig() []rest.ConfigEntry {
	keys := slices.Sorted(maps.Keys(b.jm.cfg.Effective))
	out := make([]rest.ConfigEntry, 0, len(keys))
	for _, k := range keys {
		out = append(out, rest.ConfigEntry{Key: k, Value: b.jm.cfg.Effective[k]})
	}
	return out
}

// sensitiveKeyParts mark a configuration key whose value
// GET /jobmanager/config masks, as Flink's GlobalConfiguration.isSensitive.
var sensitiveKeyParts = []string{"password", "secret", "fs.azure.account.key", "apikey", "auth-params",
	"service-key", "token", "basic-auth", "jaas.config", "http-headers"}

// maskedValue replaces a sensitive value, as Flink shows it.
const maskedValue = "******"

// EffectiveConfig returns every key of conf with its resolved value, the
// values of sensitive-looking keys masked: Config.Effective.
func EffectiveConfig(keys []string, get func(string) string) map[string]string {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		v := get(k)
		lk := strings.ToLower(k)
		for _, s := range sensitiveKeyParts {
			if strings.Contains(lk, s) && v != "" {
				v = maskedValue
				break
			}
		}
		out[k] = v
	}
	return out
}

// formatInt and formatFloat write a metric value as Flink does (Java's
// toString of a long or a double: busyTimeMsPerSecond and the record
// rates are doubles in Flink, the other times longs).
func formatInt(v int64) string { return strconv.FormatInt(v, 10) }

func formatFloat(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEN") {
		s += ".0"
	}
	return s
}

func (b backend) JobManagerMetrics() []rest.Metric {
	ov := b.v().Overview
	out := []rest.Metric{
		{ID: "numRegisteredTaskManagers", Value: formatInt(int64(ov.TaskManagers))},
		{ID: "taskSlotsTotal", Value: formatInt(int64(ov.SlotsTotal))},
		{ID: "taskSlotsAvailable", Value: formatInt(int64(ov.SlotsAvailable))},
		{ID: "numRunningJobs", Value: formatInt(int64(ov.JobsRunning))},
	}
	s := procsample.Sample(metrics.NewCPU())
	return append(out, processMetrics(s, -1)...)
}

// processMetrics names a process sample with Flink's Status.JVM metrics:
// the Go heap as the heap, the rest of the runtime's memory as non-heap,
// goroutines as threads, Go's collector as the one garbage collector.
// cpuLoad < 0 is left out.
func processMetrics(s *rpc.ProcessSample, cpuLoad float64) []rest.Metric {
	out := []rest.Metric{
		{ID: "Status.JVM.CPU.Time", Value: formatInt(s.CPUNs)},
		{ID: "Status.JVM.Memory.Heap.Used", Value: formatInt(s.HeapUsed)},
		{ID: "Status.JVM.Memory.Heap.Committed", Value: formatInt(s.HeapCommitted)},
		{ID: "Status.JVM.Memory.Heap.Max", Value: formatInt(s.MemoryLimit)},
		{ID: "Status.JVM.Memory.NonHeap.Used", Value: formatInt(s.NonHeapUsed)},
		{ID: "Status.JVM.Memory.NonHeap.Committed", Value: formatInt(s.NonHeapCommitted)},
		{ID: "Status.JVM.Memory.NonHeap.Max", Value: "-1"},
		{ID: "Status.JVM.Threads.Count", Value: formatInt(s.Goroutines)},
		{ID: "Status.JVM.GarbageCollector.Go.Count", Value: formatInt(s.GCCount)},
		{ID: "Status.JVM.GarbageCollector.Go.Time", Value: formatInt(s.GCPauseNs / 1e6)},
	}
	if cpuLoad >= 0 {
		out = append(out, rest.Metric{ID: "Status.JVM.CPU.Load", Value: formatFloat(cpuLoad)})
	}
	return out
}

func (b backend) TaskManagerMetrics(tmID string) ([]rest.Metric, error) {
	v := b.v()
	d, ok := v.TaskManagerDetails[tmID]
	if !ok {
		return nil, fmt.Errorf("taskmanager %s: %w", tmID, rest.ErrTaskManagerNotFound)
	}
	out := []rest.Metric{
		{ID: "Status.Tide.Slots.Total", Value: formatInt(int64(d.SlotsNumber))},
		{ID: "Status.Tide.Slots.Free", Value: formatInt(int64(d.FreeSlots))},
	}
	if p, ok := v.tmProcs[tmID]; ok {
		out = append(out, processMetrics(p.sample, p.cpuLoad)...)
	}
	return out, nil
}

func (b backend) VertexMetrics(id, vertexID string) ([]rest.Metric, error) {
	if err := b.jobKnown(id); err != nil {
		return nil, err
	}
	v := b.v()
	d, ok := v.Vertices[vertexID]
	if !ok {
		return nil, fmt.Errorf("vertex %s: %w", vertexID, rest.ErrVertexNotFound)
	}
	outRates := v.outRates[vertexID]
	var out []rest.Metric
	var in, outRecs, inRate, outRate int64
	busy, bp, idle := int64(-1), int64(-1), int64(-1)
	counted, rated := false, false
	for i, s := range d.Subtasks {
		m := s.Metrics
		p := strconv.Itoa(s.Subtask) + "."
		if m.ReadRecordsComplete {
			counted = true
			in += m.ReadRecords
			outRecs += m.WriteRecords
			out = append(out,
				rest.Metric{ID: p + "numRecordsIn", Value: formatInt(m.ReadRecords)},
				rest.Metric{ID: p + "numRecordsOut", Value: formatInt(m.WriteRecords)},
				rest.Metric{ID: p + "accumulatedBusyTime", Value: formatInt(int64(m.AccumulatedBusyTime))},
				rest.Metric{ID: p + "accumulatedBackpressuredTime", Value: formatInt(m.AccumulatedBackpressuredTime)},
				rest.Metric{ID: p + "accumulatedIdleTime", Value: formatInt(m.AccumulatedIdleTime)})
		}
		if m.BusyTimeMsPerSecond >= 0 && i < len(outRates) && outRates[i] >= 0 {
			rated = true
			inRate += m.NumRecordsInPerSecond
			outRate += outRates[i]
			busy, bp, idle = max(busy, m.BusyTimeMsPerSecond), max(bp, m.BackPressuredTimeMsPerSecond), max(idle, m.IdleTimeMsPerSecond)
			out = append(out,
				rest.Metric{ID: p + "numRecordsInPerSecond", Value: formatFloat(float64(m.NumRecordsInPerSecond))},
				rest.Metric{ID: p + "numRecordsOutPerSecond", Value: formatFloat(float64(outRates[i]))},
				rest.Metric{ID: p + "busyTimeMsPerSecond", Value: formatFloat(float64(m.BusyTimeMsPerSecond))},
				rest.Metric{ID: p + "backPressuredTimeMsPerSecond", Value: formatInt(m.BackPressuredTimeMsPerSecond)},
				rest.Metric{ID: p + "idleTimeMsPerSecond", Value: formatInt(m.IdleTimeMsPerSecond)})
		}
	}
	// A source's pending records (Flink's pendingRecords, which its
	// autoscaler reads as the backlog): each subtask's, and their sum.
	var pending int64
	known := false
	for i, p := range v.pending[vertexID] {
		if p >= 0 {
			known, pending = true, pending+p
			out = append(out, rest.Metric{ID: strconv.Itoa(i) + ".pendingRecords", Value: formatInt(p)})
		}
	}
	if known {
		out = append(out, rest.Metric{ID: "pendingRecords", Value: formatInt(pending)})
	}
	// The vertex's own: sums of the counts and record rates, the busiest
	// subtask's time split (what limits the vertex).
	if counted {
		out = append(out,
			rest.Metric{ID: "numRecordsIn", Value: formatInt(in)},
			rest.Metric{ID: "numRecordsOut", Value: formatInt(outRecs)})
	}
	if rated {
		out = append(out,
			rest.Metric{ID: "numRecordsInPerSecond", Value: formatFloat(float64(inRate))},
			rest.Metric{ID: "numRecordsOutPerSecond", Value: formatFloat(float64(outRate))},
			rest.Metric{ID: "busyTimeMsPerSecond", Value: formatFloat(float64(busy))},
			rest.Metric{ID: "backPressuredTimeMsPerSecond", Value: formatInt(bp)},
			rest.Metric{ID: "idleTimeMsPerSecond", Value: formatInt(idle)})
	}
	return out, nil
}

func (b backend) JobMetrics(id string) ([]rest.Metric, error) {
	if err := b.jobKnown(id); err != nil {
		return nil, err
	}
	v := b.v()
	j := b.job()
	// Flink's uptime: how long the job has run since it last became
	// RUNNING; 0 while it is not running, -1 once it ended.
	uptime := int64(0)
	switch {
	case j.EndTime >= 0:
		uptime = -1
	case j.State == rest.JobRunning && v.Job.Timestamps["RUNNING"] > 0:
		uptime = max(0, j.Now-v.Job.Timestamps["RUNNING"])
	}
	// Restarts are what tide_job_restarts_total counts.
	numRestarts := restarts(v.Rescales)
	ck := v.Checkpoints
	// Flink's checkpoint gauges read -1 (and "n/a" for the path) before the
	// first completed checkpoint or restore.
	lastDuration, lastSize, lastPath := int64(-1), int64(-1), "n/a"
	if c := ck.Latest.Completed; c != nil {
		lastDuration, lastSize, lastPath = c.EndToEndDuration, c.StateSize, c.ExternalPath
	}
	restored := int64(-1)
	if r := ck.Latest.Restored; r != nil {
		restored = r.RestoreTimestamp
	}
	return []rest.Metric{
		{ID: "uptime", Value: formatInt(uptime)},
		{ID: "numRestarts", Value: formatInt(int64(numRestarts))},
		{ID: "numberOfCompletedCheckpoints", Value: formatInt(ck.Counts.Completed)},
		{ID: "numberOfFailedCheckpoints", Value: formatInt(ck.Counts.Failed)},
		{ID: "numberOfInProgressCheckpoints", Value: formatInt(ck.Counts.InProgress)},
		{ID: "totalNumberOfCheckpoints", Value: formatInt(ck.Counts.Total)},
		{ID: "lastCheckpointDuration", Value: formatInt(lastDuration)},
		{ID: "lastCheckpointSize", Value: formatInt(lastSize)},
		// Every Tide checkpoint is full: its full size is its size.
		{ID: "lastCheckpointFullSize", Value: formatInt(lastSize)},
		{ID: "lastCheckpointExternalPath", Value: lastPath},
		{ID: "lastCheckpointRestoreTimestamp", Value: formatInt(restored)},
	}, nil
}
