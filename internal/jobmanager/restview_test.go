package jobmanager

import (
	"regexp"
	"testing"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/rest"
)

// TestVertexRESTIDs: a vertex's REST id is 32 lowercase hex characters,
// the same every time, and differs between vertices.
func TestVertexRESTIDs(t *testing.T) {
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	a, b := exec.VertexID("v1-CountSum"), exec.VertexID("v0-VerifySource")
	again := exec.VertexID("v1-" + "CountSum")
	if !hex32.MatchString(a.RESTID()) || a.RESTID() != again.RESTID() || a.RESTID() == b.RESTID() {
		t.Fatalf("RESTID: %q, %q", a.RESTID(), b.RESTID())
	}
	if got := restTMID("host-42#3"); got != "host-42-3" {
		t.Fatalf("restTMID = %q", got)
	}
}

// TestVertexStatus follows Flink's aggregate vertex state.
func TestVertexStatus(t *testing.T) {
	for _, tt := range []struct {
		tasks map[string]int
		n     int
		want  string
	}{
		{map[string]int{}, 0, "CREATED"},
		{map[string]int{"DEPLOYING": 2}, 2, "DEPLOYING"},
		{map[string]int{"DEPLOYING": 1, "RUNNING": 1}, 2, "RUNNING"},
		{map[string]int{"FINISHED": 2}, 2, "FINISHED"},
		{map[string]int{"FINISHED": 1, "RUNNING": 1}, 2, "RUNNING"},
		{map[string]int{"CANCELED": 1, "RUNNING": 1}, 2, "CANCELED"},
		{map[string]int{"FAILED": 1, "CANCELED": 1}, 2, "FAILED"},
	} {
		if got := vertexStatus(tt.tasks, tt.n); got != tt.want {
			t.Errorf("vertexStatus(%v, %d) = %s, want %s", tt.tasks, tt.n, got, tt.want)
		}
	}
}

// TestCheckpointSummary adds each completed checkpoint once, oldest first,
// and keeps the last maxSummarized.
func TestCheckpointSummary(t *testing.T) {
	var s checkpointSummary
	done := func(id checkpoint.ID, d int64) checkpoint.CheckpointStats {
		return checkpoint.CheckpointStats{ID: id, Status: "COMPLETED", EndToEndDuration: d, StateSize: d * 10}
	}
	s.add([]checkpoint.CheckpointStats{{ID: 3, Status: "IN_PROGRESS"}, done(2, 20), done(1, 10)})
	s.add([]checkpoint.CheckpointStats{done(4, 40), {ID: 3, Status: "FAILED"}, done(2, 20)})
	v := s.view()
	if v.EndToEndDuration.Min != 10 || v.EndToEndDuration.Max != 40 || v.StateSize.Max != 400 || len(s.durations) != 3 {
		t.Fatalf("summary %+v of %v", v, s.durations)
	}
	for i := range maxSummarized + 5 {
		s.add([]checkpoint.CheckpointStats{done(checkpoint.ID(10+i), int64(i))})
	}
	if len(s.durations) != maxSummarized || s.durations[0] != 5 {
		t.Fatalf("kept %d, oldest %d; want %d from 5", len(s.durations), s.durations[0], maxSummarized)
	}
}

// TestEffectiveConfigMasksSecrets masks what Flink masks, and only that.
func TestEffectiveConfigMasksSecrets(t *testing.T) {
	vals := map[string]string{"rest.port": "8081", "rest.auth.token-file": "/etc/tide/token",
		"s3.secret-key": "hunter2", "security.ssl.internal.key-password": ""}
	got := EffectiveConfig([]string{"rest.port", "rest.auth.token-file", "s3.secret-key", "security.ssl.internal.key-password"},
		func(k string) string { return vals[k] })
	want := map[string]string{"rest.port": "8081", "rest.auth.token-file": "******", "s3.secret-key": "******",
		"security.ssl.internal.key-password": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// TestCheckpointRecordKinds: a completed checkpoint past num-retained is
// discarded (a savepoint never is); a failed one says when it failed.
func TestCheckpointRecordKinds(t *testing.T) {
	jm := &JobManager{cfg: Config{}}
	c := checkpoint.CheckpointStats{ID: 9, Status: "COMPLETED"}
	for rank, want := range map[int]bool{0: false, 2: false, 3: true} {
		if r := jm.checkpointRecord(c, rank); r.Discarded == nil || *r.Discarded != want {
			t.Errorf("rank %d: discarded %v, want %v", rank, r.Discarded, want)
		}
	}
	c.IsSavepoint = true
	if r := jm.checkpointRecord(c, 5); *r.Discarded {
		t.Error("a savepoint is discarded")
	}
	f := jm.checkpointRecord(checkpoint.CheckpointStats{ID: 8, Status: "FAILED", TriggerTimestamp: 100, EndToEndDuration: 50}, -1)
	if f.Status != rest.CheckpointFailed || f.FailureTimestamp == nil || *f.FailureTimestamp != 150 || f.Discarded != nil {
		t.Errorf("failed checkpoint %+v", f)
	}
}
