package jobmanager

import (
	"testing"
	"time"
)

// TestViewIsPublishedOnChange: the loop builds the REST view when something
// happens, not every few milliseconds; what moves with the clock alone (the
// job's duration) is brought up to date when read.
func TestViewIsPublishedOnChange(t *testing.T) {
	jm, _, _ := startJM(t)
	// No TaskManager: once the loop has started, nothing happens but the
	// scheduler's waiting for resources.
	time.Sleep(200 * time.Millisecond)
	first := jm.view.Load()
	j1, err := jm.Backend().Job(jm.JobID())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if jm.view.Load() != first {
		t.Fatal("the view was rebuilt though nothing happened")
	}
	j2, _ := jm.Backend().Job(jm.JobID())
	if j2.Duration-j1.Duration < 250 || j2.Now-j1.Now < 250 {
		t.Fatalf("duration %d -> %d, now %d -> %d over 300ms: clock fields not brought up to date on read",
			j1.Duration, j2.Duration, j1.Now, j2.Now)
	}
}
