package autoscaler

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Phase is where a TaskManager is in its life, as a pod's phase is to the
// HorizontalPodAutoscaler.
type Phase uint8

const (
	// Running: the process runs (it may not be ready yet).
	Running Phase = iota
	// Pending: asked for but not started (a pod not scheduled, a process not
	// spawned yet). The HPA counts it as unready.
	Pending
	// Leaving: being decommissioned or stopped (a pod with a deletion
	// timestamp, or failed). The HPA ignores it.
	Leaving
)

func (p Phase) String() string {
	switch p {
	case Running:
		return "running"
	case Pending:
		return "pending"
	case Leaving:
		return "leaving"
	}
	return "phase?"
}

// TaskManager is one TaskManager at a sync, as the HPA sees a pod.
type TaskManager struct {
	ID    string
	Phase Phase
	// Ready: registered with the JobManager and past its start-up. For the
	// hpa policy the caller applies the HPA's CPU-initialization rule here
	// (HPAConfig.SampleReady): a sample taken before one full metric window
	// after readiness is not a ready sample.
	Ready bool
	// CPU is the cores it used, the rate of tide_taskmanager_cpu_seconds_total
	// over the last metric window; meaningful only when HasCPU.
	CPU    float64
	HasCPU bool
	// Request is its CPU request in cores (the seed's 250m is 0.25).
	Request float64
}

// Vertex is one job vertex's processing over the last metric window.
type Vertex struct {
	Name string
	// Parallelism is its subtasks now; MaxParallelism bounds it (0 means
	// unbounded). In reactive mode a vertex runs at min(slots, max
	// parallelism), so one at its bound does not grow with TaskManagers.
	Parallelism    int
	MaxParallelism int
	// Busy is the fraction of wall time its subtasks were busy (neither idle
	// nor back-pressured), averaged over them: the rate of
	// tide_task_busy_seconds_total over the window, divided by Parallelism.
	Busy float64
	// Rate is the records per second all its subtasks processed (the rate of
	// tide_task_records_in_total).
	Rate float64
}

// JobMetrics is what the engine reports, for the tide policy.
type JobMetrics struct {
	// At is when the newest of these samples was taken.
	At time.Time
	// InputRate is the records per second arriving at the source's topic
	// (the growth of the lag plus ConsumedRate, or the topic's end offsets'
	// rate).
	InputRate float64
	// ConsumedRate is the records per second the source read.
	ConsumedRate float64
	// Lag is the records in the topic not read yet (the sum over partitions
	// of tide_kafka_consumer_lag_records).
	Lag float64
	// SlotsPerTaskManager is taskmanager.numberOfTaskSlots.
	SlotsPerTaskManager int
	Vertices            []Vertex
	// RescalePause is the measured pause of recent rescales (the rescale
	// history's pause); zero when none was measured.
	RescalePause time.Duration
	// Rescaling: a rescale is under way, so the rates say nothing about
	// capacity.
	Rescaling bool
}

// Input is what a policy reads at one sync.
type Input struct {
	// Time is the sync's time (an injected clock; never read by the policy).
	Time time.Time
	// Current is the TaskManager count the driver was last asked for (a
	// Deployment's spec.replicas): what the HPA calls current replicas.
	Current int
	// TaskManagers are the TaskManagers that exist now (the hpa policy's
	// input; the tide policy reads only their readiness).
	TaskManagers []TaskManager
	// Job is the engine's metrics (the tide policy's input); nil when they
	// could not be read.
	Job *JobMetrics
}

// Figure is one named number a decision was made from, for logs and
// metrics.
type Figure struct {
	Name  string
	Value float64
}

// Decision is one sync's outcome. The caller logs it, applies it through
// its driver when Change, then reports success with the policy's Applied.
type Decision struct {
	Policy  string
	Time    time.Time
	Current int
	Desired int
	// Change is Desired != Current.
	Change bool
	// Reason says in words why, with the figures that mattered.
	Reason string
	// Figures are the derived numbers (utilization, rates, counts), in a
	// fixed order per policy.
	Figures []Figure
	// Input is what the decision was made from.
	Input Input
}

func (d Decision) String() string {
	verb := "hold"
	if d.Change {
		verb = "scale"
	}
	return fmt.Sprintf("%s %s %d->%d: %s", d.Policy, verb, d.Current, d.Desired, d.Reason)
}

// Figure returns the named figure and whether the decision has it.
func (d Decision) Figure(name string) (float64, bool) {
	for _, f := range d.Figures {
		if f.Name == name {
			return f.Value, true
		}
	}
	return 0, false
}

// ErrInput is wrapped by every error about an Input that makes no sense.
var ErrInput = errors.New("autoscaler: bad input")

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func (in *Input) validate(last time.Time) error {
	var errs []error
	if in.Time.IsZero() {
		errs = append(errs, errors.New("no time"))
	} else if in.Time.Before(last) {
		errs = append(errs, fmt.Errorf("time %s is before the previous sync's %s", in.Time.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano)))
	}
	if in.Current < 0 {
		errs = append(errs, fmt.Errorf("current count %d is negative", in.Current))
	}
	for _, tm := range in.TaskManagers {
		if tm.HasCPU && (!finite(tm.CPU) || tm.CPU < 0) {
			errs = append(errs, fmt.Errorf("TaskManager %s: CPU %v", tm.ID, tm.CPU))
		}
		if !finite(tm.Request) || tm.Request < 0 {
			errs = append(errs, fmt.Errorf("TaskManager %s: CPU request %v", tm.ID, tm.Request))
		}
	}
	if j := in.Job; j != nil {
		for _, x := range []struct {
			name string
			v    float64
		}{{"input rate", j.InputRate}, {"consumed rate", j.ConsumedRate}, {"lag", j.Lag}} {
			if !finite(x.v) || x.v < 0 {
				errs = append(errs, fmt.Errorf("%s %v", x.name, x.v))
			}
		}
		if j.SlotsPerTaskManager < 1 {
			errs = append(errs, fmt.Errorf("%d slots per TaskManager", j.SlotsPerTaskManager))
		}
		for _, v := range j.Vertices {
			if !finite(v.Busy) || v.Busy < 0 || v.Busy > 1.0001 {
				errs = append(errs, fmt.Errorf("vertex %s: busy fraction %v not in [0,1]", v.Name, v.Busy))
			}
			if !finite(v.Rate) || v.Rate < 0 {
				errs = append(errs, fmt.Errorf("vertex %s: rate %v", v.Name, v.Rate))
			}
			if v.Parallelism < 0 || v.MaxParallelism < 0 {
				errs = append(errs, fmt.Errorf("vertex %s: parallelism %d, max %d", v.Name, v.Parallelism, v.MaxParallelism))
			}
		}
		if j.RescalePause < 0 {
			errs = append(errs, fmt.Errorf("rescale pause %v", j.RescalePause))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w at %s: %w", ErrInput, in.Time.Format(time.RFC3339Nano), errors.Join(errs...))
}
