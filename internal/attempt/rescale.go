package attempt

import (
	"slices"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/scheduler"
)

// Rescale is the record of one rescale or restart, for
// GET /jobs/:jobid/rescales: the scheduler's record, and what the attempts
// on either side of it reported.
type Rescale struct {
	Record scheduler.RescaleRecord
	// oldAttempt's last processed record and the new attempt's first one
	// bound the pause.
	oldAttempt    exec.Attempt
	newAttempt    exec.Attempt
	lastRecord    int64
	firstRecord   int64
	oldPosition   int64
	newPosition   int64
	Restored      checkpoint.ID
	RestoredBytes int64
	LocalGroups   int
	ended         bool
	abandoned     bool
	// Message explains an abandoned rescale or a fallback.
	Message string
	// lostTM is set when a TaskManager was lost while the record was open:
	// the task failures that opened it were that loss seen first on the
	// data plane, so the trigger is the loss.
	lostTM bool
}

// Status is IN_PROGRESS, COMPLETED or ABANDONED.
func (r *Rescale) Status() string {
	switch {
	case r.abandoned:
		return "ABANDONED"
	case r.ended:
		return "COMPLETED"
	}
	return "IN_PROGRESS"
}

// Trigger is why the rescale happened. A failure seen while a TaskManager
// was lost is that loss.
func (r *Rescale) Trigger() scheduler.Trigger {
	if r.lostTM && r.Record.Trigger == scheduler.TriggerFailure {
		return scheduler.TriggerLost
	}
	return r.Record.Trigger
}

// PauseMs is the time between the last record the old attempt processed
// and the first the new one did; -1 while either is unknown.
func (r *Rescale) PauseMs() int64 {
	if r.lastRecord == 0 || r.firstRecord == 0 {
		return -1
	}
	return (r.firstRecord - r.lastRecord) / 1e6
}

// Reprocessed is how many source records the new attempt reads again: the
// old attempt's position beyond the checkpoint restored.
func (r *Rescale) Reprocessed() int64 {
	if !r.ended {
		return 0
	}
	return max(0, r.oldPosition-r.newPosition)
}

// Rescales returns copies of the rescale records, oldest first.
func (l *Lifecycle) Rescales() []Rescale {
	out := make([]Rescale, len(l.rescales))
	for i, r := range l.rescales {
		out[i] = *r
	}
	return out
}

const fallbackMessage = "the rescale checkpoint failed; restored the latest completed checkpoint"

func (l *Lifecycle) rescaleStarted(rec scheduler.RescaleRecord) {
	r := &Rescale{Record: rec, oldAttempt: l.Current()}
	if rec.RescaleCheckpointFailed {
		r.Message = fallbackMessage
	}
	l.rescales = append(l.rescales, r)
	if len(l.rescales) > l.cfg.HistoryLimit {
		// The oldest records go; one still open (the newest, in practice)
		// stays.
		if i := slices.IndexFunc(l.rescales, func(r *Rescale) bool { return r.ended }); i >= 0 {
			l.rescales = slices.Delete(l.rescales, i, i+1)
		}
	}
	l.log.Info("rescale started", "id", rec.ID, "trigger", rec.Trigger, "from", rec.From, "to", rec.To)
}

func (l *Lifecycle) rescaleEnded(rec scheduler.RescaleRecord) {
	for _, r := range l.rescales {
		if r.Record.ID != rec.ID {
			continue
		}
		r.Record = rec
		r.ended = true
		if a := l.cur; a != nil && a.id == r.oldAttempt {
			r.abandoned = true
			r.Message = "abandoned: the slots came back to the running parallelism"
		} else if a != nil {
			r.newAttempt = a.id
			r.Restored = a.restored
			r.newPosition = a.restoredPos
			r.firstRecord = a.firstRecord
			r.RestoredBytes, r.LocalGroups = a.restoredBytes, a.localGroups
		}
		if rec.RescaleCheckpointFailed && r.Message == "" {
			r.Message = fallbackMessage
		}
		l.log.Info("rescale ended", "id", rec.ID, "trigger", rec.Trigger, "from", rec.From, "to", rec.To,
			"restored_checkpoint", r.Restored, "duration", rec.End.Sub(rec.Start))
	}
}

// notePause fills in the open rescale's bounds as task reports arrive: the
// old attempt's last record once it has stopped, the new attempt's first.
func (l *Lifecycle) notePause() {
	a := l.cur
	if a == nil || len(l.rescales) == 0 {
		return
	}
	r := l.rescales[len(l.rescales)-1]
	switch a.id {
	case r.oldAttempt:
		r.lastRecord = max(r.lastRecord, a.lastRecord)
		var p int64
		for _, t := range a.tasks {
			if t.source {
				p += t.position
			}
		}
		r.oldPosition = max(r.oldPosition, p)
	case r.newAttempt:
		if r.firstRecord == 0 || (a.firstRecord != 0 && a.firstRecord < r.firstRecord) {
			r.firstRecord = a.firstRecord
		}
	}
}
