package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func (c *cluster) post(path string, body any, v any) error {
	b, _ := json.Marshal(body)
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d%s", c.restPort, path), "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, buf.String())
	}
	return json.Unmarshal(buf.Bytes(), v)
}

// waitSavepoint polls a savepoint request until it completes and returns
// its location.
func (c *cluster) waitSavepoint(t *testing.T, id, req string) string {
	t.Helper()
	var loc string
	eventually(t, 60*time.Second, "the savepoint to complete", func() (bool, string) {
		var st struct {
			Status    struct{ ID string } `json:"status"`
			Operation *struct {
				Location     string `json:"location"`
				FailureCause any    `json:"failure-cause"`
			} `json:"operation"`
		}
		if err := c.get("/jobs/"+id+"/savepoints/"+req, &st); err != nil {
			return false, err.Error()
		}
		if st.Status.ID != "COMPLETED" || st.Operation == nil {
			return false, st.Status.ID
		}
		if st.Operation.FailureCause != nil {
			t.Fatalf("savepoint failed: %v", st.Operation.FailureCause)
		}
		loc = st.Operation.Location
		return true, ""
	})
	return loc
}

// savepoint POSTs body to the job's savepoint endpoint path ("savepoints"
// or "stop") and waits for the savepoint's location.
func (c *cluster) savepoint(t *testing.T, id, path string, body map[string]any) string {
	t.Helper()
	var trig struct {
		RequestID string `json:"request-id"`
	}
	if err := c.post("/jobs/"+id+"/"+path, body, &trig); err != nil {
		t.Fatal(err)
	}
	return c.waitSavepoint(t, id, trig.RequestID)
}

// TestStopWithSavepointAndResume takes a savepoint through the REST API,
// stops the job with a savepoint into a target directory outside
// state.checkpoints.dir, starts a new JobManager from it on more
// TaskManagers with a checkpoint directory of its own, and checks that the
// bounded job then finishes with every count exactly once across both runs.
func TestStopWithSavepointAndResume(t *testing.T) {
	c := newCluster(t)
	out := filepath.Join(c.dir, "out")
	const count = "30000"
	args := []string{"--keys", "8", "--count", count, "--rate", "6000", "--output", out}
	jm := c.startJM("Verify", args...)
	id := c.jobID(t)
	c.startTM()
	c.waitRunningAt(t, id, countSum, 1)
	time.Sleep(time.Second)

	if loc := c.savepoint(t, id, "savepoints", map[string]any{}); loc == "" {
		t.Fatal("savepoint without a location")
	}
	time.Sleep(500 * time.Millisecond)
	target := filepath.Join(c.dir, "savepoints")
	loc := c.savepoint(t, id, "stop", map[string]any{"targetDirectory": target})
	t.Logf("stopped with savepoint %s", loc)
	if !strings.HasPrefix(loc, "file://"+target+"/") {
		t.Fatalf("savepoint at %s, not in its target directory %s", loc, target)
	}
	if j, err := c.job(id); err == nil && j.State != "FINISHED" {
		t.Errorf("job stopped with a savepoint is %s, want FINISHED (as Flink)", j.State)
	}
	jm.wait(t, 60*time.Second)
	c.stopAll()

	// A new JobManager, with a checkpoint directory of its own, restores the
	// savepoint at parallelism 2.
	c2 := newCluster(t, "-Dexecution.savepoint.path="+loc)
	jm2 := c2.startJM("Verify", args...)
	id2 := c2.jobID(t)
	c2.startTM()
	c2.startTM()
	eventually(t, 120*time.Second, "the resumed job to finish", func() (bool, string) {
		j, err := c2.job(id2)
		if err != nil {
			return jm2.exited(), err.Error()
		}
		return j.State == "FINISHED", fmt.Sprintf("%s %+v", j.State, j.Vertices)
	})
	var cps struct {
		Latest struct {
			Restored *struct{ ID int } `json:"restored"`
		} `json:"latest"`
	}
	if err := c2.get("/jobs/"+id2+"/checkpoints", &cps); err != nil || cps.Latest.Restored == nil {
		t.Errorf("resumed job reports no restored checkpoint: %+v %v", cps, err)
	}
	if o, err := tide(t, "verify", "--output", out, "--keys", "8", "--count", count); err != nil {
		t.Fatalf("verify across the stop and the resume: %v\n%s", err, o)
	}
}
