package jobmanager_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// TestRescalesListTheInitialDeployment: GET /jobs/:jobid/rescales starts
// with the job's first deployment, trigger "initial", from parallelism 0,
// restoring nothing (checkpoint 0) — so that its pause shows too.
func TestRescalesListTheInitialDeployment(t *testing.T) {
	c := tidetest.Start(t, tidetest.Config{
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidetest.SliceSource("numbers", []int64{1, 2, 3}), stream.UID("numbers"))
			stream.Discard(src, stream.UID("discard"))
			return nil
		},
		TaskManagers: 1,
	})
	c.WaitState(tidetest.Finished, 20*time.Second)
	srv := rest.NewServer(rest.Config{Addr: "127.0.0.1:0"}, c.Backend())
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	resp, err := http.Get("http://" + srv.Addr() + "/jobs/" + c.JobID() + "/rescales")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Rescales []map[string]any `json:"rescales"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: %v", resp.Status, err)
	}
	if len(body.Rescales) == 0 {
		t.Fatalf("GET /jobs/:jobid/rescales lists nothing; want the initial deployment first")
	}
	first := body.Rescales[0]
	if first["trigger"] != "initial" || first["from"] != 0.0 || first["to"] != 1.0 || first["checkpoint"] != 0.0 || first["status"] != "COMPLETED" {
		t.Fatalf("first entry %v, want trigger initial from 0 to 1, checkpoint 0 (none), COMPLETED", first)
	}
}
