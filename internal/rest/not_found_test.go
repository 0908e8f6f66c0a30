package rest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tide-stream/tide/internal/jobmanager"
	"github.com/tide-stream/tide/internal/jobs"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/stream"
)

// TestNotFoundNamesTheJobOnce serves a real JobManager's Backend, which
// wraps ErrNotFound with the job's id itself, and pins the exact 404
// messages: the job (and the savepoint request) are named once, not
// "job X: job X: not found".
func TestNotFoundNamesTheJobOnce(t *testing.T) {
	reg := &jobs.Registry{}
	if err := reg.Register("job", func(env *stream.Env, _ []string) error {
		stream.Discard(stream.FromSource(env, stream.Source[int64]{Name: "none",
			Open: func(stream.SourceContext, [][]byte) (stream.SourceReader[int64], error) { return nil, nil }}))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	jm, err := jobmanager.New(jobmanager.Config{JobName: "job", Jobs: reg, MaxParallelism: 128,
		CheckpointsDir: "file://" + t.TempDir(), RPCAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	h := rest.NewServer(rest.Config{}, jm.Backend()).Handler()
	other := strings.Repeat("0", 32)
	if other == jm.JobID() {
		other = strings.Repeat("1", 32)
	}
	vertex := jm.Graph().Vertices[0].ID.RESTID()
	for _, tt := range []struct {
		method, path, want string
	}{
		{"GET", "/jobs/" + other, "job " + other + ": not found"},
		{"GET", "/jobs/" + other + "/checkpoints", "job " + other + ": not found"},
		{"GET", "/jobs/" + other + "/rescales", "job " + other + ": not found"},
		{"PATCH", "/jobs/" + other, "job " + other + ": not found"},
		{"POST", "/jobs/" + other + "/savepoints", "job " + other + ": not found"},
		{"POST", "/jobs/" + other + "/stop", "job " + other + ": not found"},
		{"GET", "/jobs/" + other + "/savepoints/r1", "job " + other + `: savepoint request "r1": not found`},
		{"GET", "/jobs/" + jm.JobID() + "/savepoints/r1", "job " + jm.JobID() + `: savepoint request "r1": not found`},
		{"GET", "/jobs/" + other + "/config", "job " + other + ": not found"},
		{"GET", "/jobs/" + other + "/plan", "job " + other + ": not found"},
		{"GET", "/jobs/" + other + "/metrics", "job " + other + ": not found"},
		{"GET", "/jobs/" + other + "/checkpoints/config", "job " + other + ": not found"},
		{"GET", "/jobs/" + other + "/checkpoints/details/1", "job " + other + ": not found"},
		{"GET", "/jobs/" + other + "/vertices/" + vertex, "job " + other + ": not found"},
		{"GET", "/jobs/" + other + "/vertices/" + vertex + "/metrics", "job " + other + ": not found"},
		{"GET", "/jobs/" + jm.JobID() + "/vertices/" + other, "job " + jm.JobID() + ": vertex " + other + ": not found"},
		{"GET", "/jobs/" + jm.JobID() + "/vertices/" + other + "/metrics", "job " + jm.JobID() + ": vertex " + other + ": not found"},
		{"GET", "/jobs/" + jm.JobID() + "/checkpoints/details/1", "job " + jm.JobID() + ": checkpoint 1: not found"},
		{"GET", "/jobs/" + jm.JobID() + "/checkpoints/config", "job " + jm.JobID() + ": checkpointing is not enabled (execution.checkpointing.interval is off)"},
		{"GET", "/taskmanagers/tm-9-9", "taskmanager tm-9-9: not found"},
		{"GET", "/taskmanagers/tm-9-9/metrics", "taskmanager tm-9-9: not found"},
		// An unknown path is echoed, but not all of a long one.
		{"GET", "/" + strings.Repeat("x", 5000), "not found: /" + strings.Repeat("x", 199) + "…"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		var body struct{ Errors []string }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s %s: %v in %s", tt.method, tt.path, err, rec.Body)
		}
		if rec.Code != http.StatusNotFound || len(body.Errors) != 1 || body.Errors[0] != tt.want {
			t.Errorf("%s %s: %d %q, want 404 [%q]", tt.method, tt.path, rec.Code, body.Errors, tt.want)
		}
	}
}
