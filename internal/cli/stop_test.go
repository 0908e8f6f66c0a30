//go:build unix

package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tide-stream/tide/internal/daemon"
)

// TestTaskManagerStopSaysWhatItWaitsFor: `taskmanager stop` says that the TaskManager hands its
// work over first and for how long at most, and the TaskManager's log tells one story: released
// by the JobManager, or — with the JobManager frozen — the decommission timeout passed.
func TestTaskManagerStopSaysWhatItWaitsFor(t *testing.T) {
	e := newEnv(t)
	r := e.tide(append(append([]string{"standalone-job", "start", "-j", "Verify"}, e.dynamic("-Dexecution.checkpointing.interval=500ms")...),
		"--", "--count", "0", "--rate", "500", "--output", filepath.Join(e.dir, "out"))...)
	if r.code != 0 {
		t.Fatalf("standalone-job start: %v", r)
	}
	// The first one will face a frozen JobManager; the second one leaves normally first.
	for _, timeout := range []string{"2s", "5min"} {
		if r := e.tide(append([]string{"taskmanager", "start"}, e.dynamic("-Dtaskmanager.decommission.timeout="+timeout)...)...); r.code != 0 {
			t.Fatalf("taskmanager start: %v", r)
		}
	}
	tms, err := daemon.Running(e.home, daemon.KindTaskManager)
	if err != nil || len(tms) != 2 {
		t.Fatalf("taskmanagers %+v, %v", tms, err)
	}
	eventually(t, "the job to run on 2 slots", func() bool {
		body, err := e.get("/taskmanagers")
		return err == nil && strings.Count(body, `"freeSlots":0`) == 2
	})

	r = e.tide("taskmanager", "stop")
	if r.code != 0 {
		t.Fatalf("taskmanager stop: %v", r)
	}
	for _, want := range []string{
		fmt.Sprintf("Stopping taskmanager (pid %d): it hands its work over first (decommission)", tms[1].PID),
		"for at most 5m0s (its taskmanager.decommission.timeout)",
		fmt.Sprintf("Stopped taskmanager (pid %d)", tms[1].PID),
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("taskmanager stop did not say %q:\n%s", want, r.stdout)
		}
	}
	if log := readFile(tms[1].Log); !strings.Contains(log, "released by the jobmanager") {
		t.Errorf("the taskmanager that left normally does not say it was released:\n%s", log)
	}

	jms, err := daemon.Running(e.home, daemon.KindStandaloneJob)
	if err != nil || len(jms) != 1 {
		t.Fatalf("jobmanagers %+v, %v", jms, err)
	}
	if err := syscall.Kill(jms[0].PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(jms[0].PID, syscall.SIGCONT)
	r = e.tide("taskmanager", "stop")
	if r.code != 0 {
		t.Fatalf("taskmanager stop with the jobmanager frozen: %v", r)
	}
	for _, want := range []string{
		fmt.Sprintf("Stopping taskmanager (pid %d): it hands its work over first", tms[0].PID),
		"for at most 2s (its taskmanager.decommission.timeout)",
		fmt.Sprintf("Stopped taskmanager (pid %d)", tms[0].PID),
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("taskmanager stop did not say %q:\n%s", want, r.stdout)
		}
	}
	log := readFile(tms[0].Log)
	if !strings.Contains(log, "decommission timeout passed") || strings.Contains(log, "released by the jobmanager") {
		t.Errorf("the log of the taskmanager whose decommission timed out contradicts itself or does not say so:\n%s", log)
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
