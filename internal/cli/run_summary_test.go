package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/rest"
)

func TestSummary(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rescales := make([]rest.Rescale, 8)
	for i := range rescales {
		rescales[i] = rest.Rescale{Trigger: rest.TriggerTaskManagerJoined, From: i, To: i + 1, PauseMs: 100}
	}
	for _, tc := range []struct {
		name string
		s    summary
		want []string
		not  []string
	}{{
		name: "finished",
		s: summary{job: "Verify", jobArgs: []string{"--count", "2000", "--keys", "4"}, view: jobView{
			JobDetail:   rest.JobDetail{ID: "ab", State: rest.JobFinished, Duration: 1234},
			Checkpoints: &rest.CheckpointStats{Counts: rest.CheckpointCounts{Completed: 3, Failed: 1}, Latest: rest.LatestCheckpoints{Completed: &rest.CheckpointRecord{ID: 3, ExternalPath: "file:///h/chk-3"}}},
		}},
		want: []string{"job Verify (ab) FINISHED after 1.2s", "checkpoints: 3 completed, 1 failed; latest 3 at file:///h/chk-3", "rescales: 0",
			"records: 2000 over 4 keys, all emitted", "output: " + filepath.Join(wd, "verify-output"),
			"check it: tide verify --output " + filepath.Join(wd, "verify-output") + " --keys 4 --count 2000"},
	}, {
		name: "canceled bounded run checks what was committed",
		s: summary{job: "Verify", jobArgs: []string{"--output", "/tmp/my out"}, canceled: true, view: jobView{
			JobDetail: rest.JobDetail{ID: "ab", State: rest.JobCanceled}, Rescales: rescales}},
		want: []string{"CANCELED (canceled on request)", "rescales: 8 (taskmanager-joined 0→1,", "taskmanager-joined 5→6, and 2 more; paused 800ms in all)",
			"records: fewer than the 100000 asked for", "check it: tide verify --output '/tmp/my out' --keys 16 --count 0"},
	}, {
		name: "jobmanager died",
		s:    summary{job: "WordCount", view: jobView{JobDetail: rest.JobDetail{ID: "ab", State: rest.JobRunning}}},
		want: []string{"job WordCount (ab) did not end: it was RUNNING when last seen"},
		not:  []string{"records", "check it"},
	}, {
		name: "nothing known",
		s:    summary{job: "Verify", jobArgs: []string{"--keys", "0"}},
		want: []string{"final state is unknown"},
		not:  []string{"records", "check it"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.s.String()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("summary lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Errorf("summary has %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestNewRESTClient(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8081": "http://127.0.0.1:8081",
		"http://0.0.0.0:8081":   "http://127.0.0.1:8081",
		"http://[::]:8081":      "http://[::1]:8081",
		"http://localhost:9":    "http://localhost:9",
	} {
		c, err := newRESTClient(&config.Config{}, in, "ab")
		if err != nil || c.base != want {
			t.Errorf("newRESTClient(%q) = %v, %v; want base %s", in, c, err, want)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:8081", "http://host"} {
		if _, err := newRESTClient(&config.Config{}, bad, "ab"); err == nil {
			t.Errorf("newRESTClient(%q) succeeded", bad)
		}
	}
}
