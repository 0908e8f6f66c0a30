package jobmanager

import "context"

// Claim takes charge of the job as Run does first, for tests that check
// what a start decides without running the job.
func (jm *JobManager) Claim(ctx context.Context) error { return jm.claim(ctx) }

// LogBuffer is a log sink a test reads while the JobManager writes.
type LogBuffer = syncBuffer
