package main

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestPhasesFromJobManagerLog(t *testing.T) {
	log := `time=2026-11-25T23:28:45.289Z level=INFO msg="triggering checkpoint" job=Throughput checkpoint=7
time=2026-11-25T23:28:45.310Z level=INFO msg="rescale started" job=Throughput id=4 trigger=taskmanager-joined from=1 to=2
time=2026-11-25T23:28:45.310Z level=INFO msg="taking a checkpoint before rescaling" job=Throughput attempt=3
time=2026-11-25T23:28:45.831Z level=INFO msg="checkpoint complete" job=Throughput checkpoint=7 path=x reason=periodic
time=2026-11-25T23:28:47.357Z level=INFO msg="checkpoint complete" job=Throughput checkpoint=8 path=x reason=rescale
time=2026-11-25T23:28:47.361Z level=INFO msg="deployed attempt" job=Throughput attempt=4 restored_checkpoint=8
time=2026-11-25T23:28:47.892Z level=INFO msg="attempt running" job=Throughput attempt=4 restored_bytes=54692410 local_key_groups=64
time=2026-11-25T23:28:47.894Z level=INFO msg="rescale ended" job=Throughput id=4 trigger=taskmanager-joined from=1 to=2
time=2026-11-25T23:28:47.912Z level=INFO msg="rescale started" job=Throughput id=5 trigger=taskmanager-lost from=2 to=1
time=2026-11-25T23:28:48.930Z level=INFO msg="deployed attempt" job=Throughput attempt=5
time=2026-11-25T23:28:49.100Z level=INFO msg="attempt running" job=Throughput attempt=5
time=2026-11-25T23:28:49.101Z level=INFO msg="rescale ended" job=Throughput id=5
time=2026-11-25T23:28:50.000Z level=INFO msg="rescale started" job=Throughput id=6
not a log line
time=bad level=INFO msg="rescale ended" job=Throughput id=6`
	var events []logEvent
	for line := range strings.Lines(log) {
		if e, ok := parsePhaseLine(strings.TrimSpace(line)); ok {
			events = append(events, e)
		}
	}
	if len(events) != 11 {
		t.Fatalf("parsed %d phase lines, want 11: %+v", len(events), events)
	}
	for _, tc := range []struct {
		id   int64
		want Phases
		ok   bool
	}{
		{4, Phases{Checkpoint: 2047, Deploy: 4, Restore: 531, Total: 2584}, true},
		{5, Phases{Checkpoint: -1, Deploy: 1018, Restore: 170, Total: 1189}, true},
		{6, Phases{Checkpoint: -1, Deploy: -1, Restore: -1, Total: -1}, false}, // no end line
		{9, Phases{Checkpoint: -1, Deploy: -1, Restore: -1, Total: -1}, false},
	} {
		got, ok := rescalePhases(events, tc.id)
		if got != tc.want || ok != tc.ok {
			t.Errorf("rescalePhases(%d) = %+v, %v; want %+v, %v", tc.id, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRescaleOptions(t *testing.T) {
	parse := func(args ...string) (rescaleOptions, error) {
		var o rescaleOptions
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o.bind(fs)
		if err := fs.Parse(args); err != nil {
			return o, err
		}
		return o, o.validate()
	}
	o, err := parse()
	if err != nil || len(o.stateMB) != 1 || o.stateMB[0] != 0 || len(o.local) != 1 || !o.local[0] || o.interval != time.Second {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
	o, err = parse("--state-mb", "0, 100", "--local-recovery", "true,false", "--state-bytes-per-key", "1000")
	if err != nil || o.stateMB.String() != "0,100" || o.local.String() != "true,false" {
		t.Fatalf("lists: %v %v, %v", o.stateMB.String(), o.local.String(), err)
	}
	if got := o.stateKeys(rescaleConfig{stateMB: 100}); got != 104858 {
		t.Errorf("stateKeys(100 MiB, 1000 B/key) = %d, want 104858", got)
	}
	args := strings.Join(o.jobArgs(rescaleConfig{stateMB: 100}), " ")
	if !strings.Contains(args, "--keys 104858 --state-bytes-per-key 1000") || !strings.Contains(args, "--stateful") {
		t.Errorf("jobArgs(100 MiB) = %s", args)
	}
	if args := strings.Join(o.jobArgs(rescaleConfig{}), " "); strings.Contains(args, "state-bytes") || !strings.Contains(args, "--keys 1024") {
		t.Errorf("jobArgs(small) = %s", args)
	}
	if s := (rescaleConfig{stateMB: 100, local: false}).String(); s != "100 MiB state, local recovery off" {
		t.Errorf("config name %q", s)
	}
	for _, bad := range [][]string{
		{"--state-mb", "x"}, {"--state-mb", "-1"}, {"--local-recovery", "maybe"},
		{"--state-bytes-per-key", "0"}, {"--checkpoint-interval", "0s"}, {"--cycles", "0"},
	} {
		if _, err := parse(bad...); err == nil {
			t.Errorf("parse(%q): no error", bad)
		}
	}
}

func TestRescaleFigures(t *testing.T) {
	rep := newReport()
	c := rescaleConfig{stateMB: 100, local: true}
	mib := int64(1 << 20)
	samples := []RescaleSample{
		{Kind: kindUp, PauseMs: 600, RestoredBytes: 50 * mib, StateSize: 100 * mib},
		{Kind: kindUp, PauseMs: -1, RestoredBytes: 50 * mib, StateSize: 100 * mib},
		{Kind: kindTerm, PauseMs: 3500, RestoredBytes: 50 * mib, StateSize: 100 * mib},
		{Kind: kindKill, PauseMs: 1100, RestoredBytes: 100 * mib, DetectMs: 12},
	}
	o := rescaleOptions{perKey: 1024, rate: 1000, interval: time.Second}
	addRescaleFigures(rep, o, c, samples)
	by := map[string]Figure{}
	for _, f := range rep.Figures {
		by[strings.TrimSuffix(f.Name, " ["+c.String()+"]")] = f
	}
	if f := by["scale-up 1->2 pause"]; len(f.Samples) != 1 || f.Target != "< 3,000" || !*f.Met {
		t.Errorf("scale-up pause: %+v (an unknown pause must be left out)", f)
	}
	if f := by["SIGTERM 2->1 pause"]; *f.Met {
		t.Errorf("SIGTERM pause of 3.5 s meets the 3 s target: %+v", f)
	}
	if f := by["scale-up restored / state_size"]; f.Median != 0.5 {
		t.Errorf("restored share: %+v", f)
	}
	if f := by["SIGKILL restored / state_size"]; len(f.Samples) != 0 {
		t.Errorf("a share without a state size: %+v", f)
	}
	if f := by["kill -9 detection (kill -> rescale start)"]; f.Median != 12 || !*f.Met {
		t.Errorf("detection: %+v", f)
	}
	if f := by["checkpoint state_size"]; len(f.Samples) != 3 || f.Median != 100 {
		t.Errorf("state size: %+v", f)
	}
}
