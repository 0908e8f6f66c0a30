package taskmanager

import (
	"math"
	"strconv"
	"sync"

	"github.com/tide-stream/tide/internal/metrichook"
	"github.com/tide-stream/tide/internal/metrics"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/task"
)

// liveTasks are the subtasks running on the TaskManager, for scrapes from
// any goroutine. The session adds a subtask when it starts it and removes
// it when its Run returns.
type liveTasks struct {
	mu sync.Mutex
	m  map[taskID]*liveTask
}

// liveTask is a running subtask and the labels of its series.
type liveTask struct {
	t                        *task.Task
	jobID, jobName, taskName string
}

func (l *liveTasks) add(id taskID, t *liveTask) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[taskID]*liveTask{}
	}
	l.m[id] = t
}

func (l *liveTasks) remove(id taskID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, id)
}

// labels returns the values of the subtask's labels (metrics' taskLabels).
func (id taskID) labels(lt *liveTask, tmID string) []string {
	return []string{lt.jobID, lt.jobName, lt.taskName, strconv.Itoa(id.key.Subtask), tmID}
}

// each calls fn with every live subtask of the newest attempt and its
// labels, under l.mu: fn must not block.
func (l *liveTasks) each(tmID string, fn func(lt *liveTask, labels []string)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var newest uint64
	for id := range l.m {
		newest = max(newest, id.attempt)
	}
	for id, lt := range l.m {
		if id.attempt == newest {
			fn(lt, id.labels(lt, tmID))
		}
	}
}

// sampled is one subtask's sample, gauges and labels.
type sampled struct {
	s      rpc.TaskSample
	g      task.Gauges
	labels []string
}

// samples returns a sample of every live subtask of the newest attempt.
func (l *liveTasks) samples(tmID string) []sampled {
	var out []sampled
	l.each(tmID, func(lt *liveTask, labels []string) {
		out = append(out, sampled{s: lt.t.Sample(), g: lt.t.Gauges(), labels: labels})
	})
	return out
}

// hooked returns the metric registry of every live subtask of the newest
// attempt, with its labels.
func (l *liveTasks) hooked(tmID string) []hookedTask {
	var out []hookedTask
	l.each(tmID, func(lt *liveTask, labels []string) {
		out = append(out, hookedTask{reg: lt.t.Metrics(), labels: labels})
	})
	return out
}

type hookedTask struct {
	reg    *metrichook.Registry
	labels []string
}

// RegisterMetrics feeds the TaskManager's series to r from its subtasks'
// samples, taken at scrape time. It returns a function that removes them.
func (tm *TaskManager) RegisterMetrics(r *metrics.Registry) (remove func()) {
	per := func(value func(rpc.TaskSample) float64) metrics.CollectFunc {
		return func(emit metrics.Emit) {
			for _, s := range tm.live.samples(tm.cfg.ResourceID) {
				emit(value(s.s), s.labels...)
			}
		}
	}
	gauge := func(value func(task.Gauges) (float64, bool)) metrics.CollectFunc {
		return func(emit metrics.Emit) {
			for _, s := range tm.live.samples(tm.cfg.ResourceID) {
				if v, ok := value(s.g); ok {
					emit(v, s.labels...)
				}
			}
		}
	}
	seconds := func(ns int64) float64 { return float64(ns) / 1e9 }
	cpu := metrics.NewCPU()
	removes := []func(){
		r.Collect(metrics.TaskRecordsIn, per(func(s rpc.TaskSample) float64 { return float64(s.RecordsIn) })),
		r.Collect(metrics.TaskRecordsOut, per(func(s rpc.TaskSample) float64 { return float64(s.RecordsOut) })),
		r.Collect(metrics.TaskBusy, per(func(s rpc.TaskSample) float64 {
			return seconds(max(s.UptimeNs-s.IdleNs-s.BackPressuredNs, 0))
		})),
		r.Collect(metrics.TaskBackpressured, per(func(s rpc.TaskSample) float64 { return seconds(s.BackPressuredNs) })),
		r.Collect(metrics.TaskIdle, per(func(s rpc.TaskSample) float64 { return seconds(s.IdleNs) })),
		r.Collect(metrics.TaskWatermark, gauge(func(g task.Gauges) (float64, bool) {
			return float64(g.Watermark), g.Watermark != math.MinInt64
		})),
		r.Collect(metrics.TaskStateSize, gauge(func(g task.Gauges) (float64, bool) { return float64(g.StateBytes), true })),
		r.Collect(metrics.TaskInputQueue, gauge(func(g task.Gauges) (float64, bool) { return float64(g.InputQueued), g.InputCapacity > 0 })),
		r.Collect(metrics.TaskInputQueueCapacity, gauge(func(g task.Gauges) (float64, bool) { return float64(g.InputCapacity), g.InputCapacity > 0 })),
		r.Collect(metrics.TaskOutputCredits, gauge(func(g task.Gauges) (float64, bool) { return float64(g.OutputCredits), g.OutputChannels > 0 })),
		r.Collect(metrics.TaskManagerCPU, func(emit metrics.Emit) { emit(cpu.Seconds(), tm.cfg.ResourceID) }),
		r.Collect(metrics.TaskManagerCPULimit, func(emit metrics.Emit) { emit(cpu.LimitCores(), tm.cfg.ResourceID) }),
	}
	// The series operators report through their metric hook (a Kafka
	// source's lag), from each subtask's registry.
	for _, s := range metrics.Hooked {
		removes = append(removes, r.Collect(s, func(emit metrics.Emit) {
			for _, h := range tm.live.hooked(tm.cfg.ResourceID) {
				metrics.EmitHooked(s, h.reg, emit, h.labels...)
			}
		}))
	}
	return func() {
		for _, rm := range removes {
			rm()
		}
	}
}
