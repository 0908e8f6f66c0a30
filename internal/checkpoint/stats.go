package checkpoint

// Checkpoint statuses in CheckpointStats, as Flink's REST API spells them.
const (
	StatusInProgress = "IN_PROGRESS"
	StatusCompleted  = "COMPLETED"
	StatusFailed     = "FAILED"
)

// Stats is the checkpointing summary that GET /jobs/:jobid/checkpoints
// serves; its JSON is Flink's.
type Stats struct {
	Counts Counts      `json:"counts"`
	Latest LatestStats `json:"latest"`
	// History holds the last checkpoints, newest first (at most 10).
	History []CheckpointStats `json:"history"`
}

// Counts counts checkpoints by outcome.
type Counts struct {
	Completed  int `json:"completed"`
	Failed     int `json:"failed"`
	InProgress int `json:"in_progress"`
	Restored   int `json:"restored"`
	Total      int `json:"total"`
}

// LatestStats holds the newest checkpoint of each kind; nil if none.
type LatestStats struct {
	Completed *CheckpointStats `json:"completed"`
	Savepoint *CheckpointStats `json:"savepoint"`
	Failed    *CheckpointStats `json:"failed"`
	Restored  *RestoredStats   `json:"restored"`
}

// CheckpointStats describes one checkpoint. Times are Unix milliseconds,
// durations milliseconds, sizes bytes; all are taken from the coordinator's
// clock (its Ticks).
type CheckpointStats struct {
	ID                      ID     `json:"id"`
	Status                  string `json:"status"`
	IsSavepoint             bool   `json:"is_savepoint"`
	Reason                  string `json:"reason,omitempty"`
	TriggerTimestamp        int64  `json:"trigger_timestamp"`
	LatestAckTimestamp      int64  `json:"latest_ack_timestamp"`
	EndToEndDuration        int64  `json:"end_to_end_duration"`
	StateSize               int64  `json:"state_size"`
	NumSubtasks             int    `json:"num_subtasks"`
	NumAcknowledgedSubtasks int    `json:"num_acknowledged_subtasks"`
	ExternalPath            string `json:"external_path,omitempty"`
	FailureMessage          string `json:"failure_message,omitempty"`
}

// RestoredStats describes the checkpoint the job was last restored from.
type RestoredStats struct {
	ID               ID     `json:"id"`
	RestoreTimestamp int64  `json:"restore_timestamp"`
	IsSavepoint      bool   `json:"is_savepoint"`
	ExternalPath     string `json:"external_path"`
}

// Stats returns a copy of the checkpointing summary; the caller may keep
// and publish it.
func (c *Coordinator) Stats() Stats {
	s := Stats{Counts: c.stats.Counts}
	if c.cur != nil {
		s.Counts.InProgress = 1
	}
	s.Counts.Total = s.Counts.Completed + s.Counts.Failed + s.Counts.InProgress
	s.Latest.Completed = clonePtr(c.stats.Latest.Completed)
	s.Latest.Savepoint = clonePtr(c.stats.Latest.Savepoint)
	s.Latest.Failed = clonePtr(c.stats.Latest.Failed)
	s.Latest.Restored = clonePtr(c.stats.Latest.Restored)
	s.History = make([]CheckpointStats, 0, len(c.history))
	for _, h := range c.history {
		e := *h
		if c.cur != nil && h == c.cur.stats {
			e.EndToEndDuration = c.now.Sub(c.cur.triggered).Milliseconds()
		}
		s.History = append(s.History, e)
	}
	return s
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// addHistory records a new checkpoint's stats, which the coordinator keeps
// updating through the pointer until the checkpoint ends.
func (c *Coordinator) addHistory(s *CheckpointStats) {
	c.history = append([]*CheckpointStats{s}, c.history[:min(len(c.history), historySize-1)]...)
}
