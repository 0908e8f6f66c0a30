package tidetest

import (
	"testing"

	"github.com/tide-stream/tide/internal/jobmanager"
	"github.com/tide-stream/tide/internal/jobs"
	"github.com/tide-stream/tide/stream"
)

// TestBackendBeforeRun shows that a JobManager's Backend cannot be read
// between New and Run: the view is published by Run, and every read before
// dereferences a nil *View. `tide standalone-job` starts the REST server
// before Run, so an early GET /overview answers 500 (the server recovers the
// panic). The cluster works around it in awaitView.
func TestBackendBeforeRun(t *testing.T) {
	reg := &jobs.Registry{}
	job := func(env *stream.Env, _ []string) error {
		stream.Discard(stream.FromSource(env, SliceSource("numbers", []int64{1, 2, 3})))
		return nil
	}
	if err := reg.Register("job", job); err != nil {
		t.Fatal(err)
	}
	jm, err := jobmanager.New(jobmanager.Config{JobName: "job", Jobs: reg, MaxParallelism: 128,
		CheckpointsDir: "file://" + t.TempDir(), RPCAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if v := recover(); v != nil {
			t.Errorf("bug: Backend().Overview() before Run panics: %v", v)
		}
	}()
	jm.Backend().Overview()
	if _, err := jm.Backend().Job(jm.JobID()); err != nil {
		t.Errorf("Job before Run: %v", err)
	}
}
