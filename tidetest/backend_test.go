package tidetest

import (
	"testing"

	"github.com/tide-stream/tide/internal/jobmanager"
	"github.com/tide-stream/tide/internal/jobs"
	"github.com/tide-stream/tide/stream"
)

// TestBackendBeforeRun: a JobManager's Backend can be read between New and
// Run — `tide standalone-job` starts the REST server before Run, and an
// early GET /overview must not fail. (It once dereferenced a nil view; New
// now publishes the first one.)
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
			t.Errorf("Backend().Overview() before Run panics: %v", v)
		}
	}()
	jm.Backend().Overview()
	if _, err := jm.Backend().Job(jm.JobID()); err != nil {
		t.Errorf("Job before Run: %v", err)
	}
}
