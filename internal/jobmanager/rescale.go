package jobmanager

import (
	"slices"

	"github.com/tide-stream/tide/internal/scheduler"
)

// rescale is the JobManager's record of one rescale or restart, for
// GET /jobs/:jobid/rescales.
type rescale struct {
	rec scheduler.RescaleRecord
	// oldAttempt's last processed record and the new attempt's first one
	// bound the pause.
	oldAttempt    uint64
	newAttempt    uint64
	lastRecord    int64
	firstRecord   int64
	oldPosition   int64
	newPosition   int64
	restored      uint64
	restoredBytes int64
	localGroups   int
	ended         bool
	abandoned     bool
	message       string
	// lostTM is set when a TaskManager was lost while the record was open:
	// the task failures that opened it were that loss seen first on the
	// data plane, so the trigger is the loss.
	lostTM bool
}

func (r *rescale) trigger() scheduler.Trigger {
	if r.lostTM && r.rec.Trigger == scheduler.TriggerFailure {
		return scheduler.TriggerLost
	}
	return r.rec.Trigger
}

func (r *rescale) pauseMs() int64 {
	if r.lastRecord == 0 || r.firstRecord == 0 {
		return -1
	}
	return (r.firstRecord - r.lastRecord) / 1e6
}

func (r *rescale) reprocessed() int64 {
	if !r.ended {
		return 0
	}
	return max(0, r.oldPosition-r.newPosition)
}

func (jm *JobManager) rescaleStarted(rec *scheduler.RescaleRecord) {
	r := &rescale{rec: *rec}
	if a := jm.cur; a != nil {
		r.oldAttempt = a.id
	}
	if rec.RescaleCheckpointFailed {
		r.message = "the rescale checkpoint failed; restored the latest completed checkpoint"
	}
	jm.rescales = append(jm.rescales, r)
	if len(jm.rescales) > historyLimit {
		// The oldest records go; one still open (the newest, in practice)
		// stays.
		if i := slices.IndexFunc(jm.rescales, func(r *rescale) bool { return r.ended }); i >= 0 {
			jm.rescales = slices.Delete(jm.rescales, i, i+1)
		}
	}
	jm.log.Info("rescale started", "id", rec.ID, "trigger", rec.Trigger, "from", rec.From, "to", rec.To)
}

// historyLimit bounds the rescales and the savepoint requests a JobManager
// remembers for the REST API: a job that runs for months rescales and
// takes savepoints without end.
const historyLimit = 100

func (jm *JobManager) rescaleEnded(rec *scheduler.RescaleRecord) {
	for _, r := range jm.rescales {
		if r.rec.ID != rec.ID {
			continue
		}
		r.rec = *rec
		r.ended = true
		if a := jm.cur; a != nil && a.id == r.oldAttempt {
			r.abandoned = true
			r.message = "abandoned: the slots came back to the running parallelism"
		} else if a != nil {
			r.newAttempt = a.id
			r.restored = a.restored
			r.newPosition = a.restoredPos
			r.firstRecord = a.firstRecord
			r.restoredBytes, r.localGroups = a.restoredBytes, a.localGroups
		}
		if rec.RescaleCheckpointFailed && r.message == "" {
			r.message = "the rescale checkpoint failed; restored the latest completed checkpoint"
		}
		jm.log.Info("rescale ended", "id", rec.ID, "trigger", rec.Trigger, "from", rec.From, "to", rec.To,
			"restored_checkpoint", r.restored, "duration", rec.End.Sub(rec.Start))
	}
}

// notePause fills in the open rescale's bounds as task reports arrive: the
// old attempt's last record once it has stopped, the new attempt's first.
func (jm *JobManager) notePause() {
	a := jm.cur
	if a == nil || len(jm.rescales) == 0 {
		return
	}
	r := jm.rescales[len(jm.rescales)-1]
	switch a.id {
	case r.oldAttempt:
		r.lastRecord = max(r.lastRecord, a.lastRecord)
		r.oldPosition = max(r.oldPosition, a.sourcePosition())
	case r.newAttempt:
		if r.firstRecord == 0 || (a.firstRecord != 0 && a.firstRecord < r.firstRecord) {
			r.firstRecord = a.firstRecord
		}
	}
}
