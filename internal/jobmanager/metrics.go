package jobmanager

import (
	"github.com/tide-stream/tide/internal/metrics"
	"github.com/tide-stream/tide/internal/rest"
)

// RegisterMetrics feeds the JobManager's series to r, read from its
// published view at scrape time: nothing on the loop's path. It returns a
// function that removes them.
func (jm *JobManager) RegisterMetrics(r *metrics.Registry) (remove func()) {
	b := backend{jm}
	view := func() *View { return jm.view.Load() }
	job := func() []string { return []string{jm.jobID, jm.cfg.JobName} }
	var removes []func()
	add := func(s *metrics.Series, fn metrics.CollectFunc) { removes = append(removes, r.Collect(s, fn)) }

	add(metrics.TaskManagers, func(emit metrics.Emit) { emit(float64(view().Overview.TaskManagers)) })
	add(metrics.SlotsTotal, func(emit metrics.Emit) { emit(float64(view().Overview.SlotsTotal)) })
	add(metrics.SlotsAvailable, func(emit metrics.Emit) { emit(float64(view().Overview.SlotsAvailable)) })
	add(metrics.JobUptime, func(emit metrics.Emit) {
		j := b.job()
		up := 0.0
		if j.State == "RUNNING" {
			up = float64(j.Duration) / 1000
		}
		emit(up, job()...)
	})
	add(metrics.JobRestarts, func(emit metrics.Emit) {
		emit(float64(restarts(view().Rescales)), job()...)
	})
	byTrigger := func(value func(rest.Rescale) float64) metrics.CollectFunc {
		return func(emit metrics.Emit) {
			sums := map[rest.RescaleTrigger]float64{}
			for _, r := range view().Rescales {
				if r.Status == rest.RescaleCompleted {
					sums[r.Trigger] += value(r)
				}
			}
			for _, t := range rescaleTriggers {
				emit(sums[t], append([]string{string(t)}, job()...)...)
			}
		}
	}
	add(metrics.JobRescales, byTrigger(func(rest.Rescale) float64 { return 1 }))
	add(metrics.RescalePause, byTrigger(func(r rest.Rescale) float64 { return float64(r.PauseMs) / 1000 }))
	add(metrics.ReprocessedRecords, byTrigger(func(r rest.Rescale) float64 { return float64(max(r.ReprocessedRecords, 0)) }))
	add(metrics.CheckpointsCompleted, func(emit metrics.Emit) {
		emit(float64(view().Checkpoints.Counts.Completed), job()...)
	})
	add(metrics.CheckpointsFailed, func(emit metrics.Emit) {
		emit(float64(view().Checkpoints.Counts.Failed), job()...)
	})
	add(metrics.CheckpointLastDuration, func(emit metrics.Emit) {
		if c := view().Checkpoints.Latest.Completed; c != nil {
			emit(float64(c.EndToEndDuration)/1000, job()...)
		}
	})
	add(metrics.CheckpointLastSize, func(emit metrics.Emit) {
		if c := view().Checkpoints.Latest.Completed; c != nil {
			emit(float64(c.StateSize), job()...)
		}
	})
	return func() {
		for _, rm := range removes {
			rm()
		}
	}
}

// rescaleTriggers are the triggers tide_job_rescales_total always has a
// series for, so that a dashboard's rate() sees the first rescale of each.
var rescaleTriggers = []rest.RescaleTrigger{
	rest.TriggerInitial, rest.TriggerTaskManagerJoined, rest.TriggerTaskManagerLeaving,
	rest.TriggerTaskManagerLost, rest.TriggerManual, rest.TriggerFailure,
}

// restarts counts the restarts of a rescale history: the failures and the
// lost TaskManagers, not the planned rescales (tide_job_restarts_total,
// Flink's numRestarts).
func restarts(rs []rest.Rescale) int {
	n := 0
	for _, r := range rs {
		if r.Trigger == rest.TriggerFailure || r.Trigger == rest.TriggerTaskManagerLost {
			n++
		}
	}
	return n
}
