package checkpoint

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/exec"
)

func TestPeriodicCheckpoint(t *testing.T) {
	h := newHarness(t, Config{Interval: 10 * time.Second})
	h.tick(time.Minute) // no attempt yet: nothing to trigger
	h.expect(``)
	h.step(job)
	h.tick(9 * time.Second)
	h.expect(``)
	h.tick(time.Second)
	h.expect(`trigger chk-1 a1 savepoint=false sources=[src[0]]`)

	h.step(ack(1, 1, cnt1), ack(1, 1, src))
	h.expect(``)
	h.tick(2 * time.Second)
	h.step(ack(1, 1, cnt0))
	rd := h.expect(`persist chk-1 a1 savepoint=false cnt(p=2 keyed=2 list=0 pos=0) src(p=1 keyed=0 list=1 pos=10)`)
	m := rd.Persist
	if m.JobID != "job" || m.MaxParallelism != maxP || m.TimestampUnixMilli != t0.Add(70*time.Second).UnixMilli() {
		t.Fatalf("metadata header %+v", m)
	}
	if k := m.Operators[0].Keyed; k[0].Range.Start != 0 || k[1].Range.Start != 64 {
		t.Fatalf("keyed handles not in subtask order: %+v", k)
	}
	if _, err := Encode(m); err != nil {
		t.Fatalf("metadata does not encode: %v", err)
	}
	if _, _, ok := h.c.LatestCompleted(); ok {
		t.Fatal("a checkpoint is complete before its metadata is persisted")
	}

	h.tick(time.Second)
	h.step(Persisted{Checkpoint: 1, Path: "job/chk-1/_metadata"})
	h.expect(`completed chk-1 a1 path=job/chk-1/_metadata savepoint=false reason=periodic req=`)
	if id, path, ok := h.c.LatestCompleted(); !ok || id != 1 || path != "job/chk-1/_metadata" {
		t.Fatalf("LatestCompleted = %d, %q, %v", id, path, ok)
	}
	st := h.c.Stats()
	if st.Counts != (Counts{Completed: 1, Total: 1}) {
		t.Fatalf("counts %+v", st.Counts)
	}
	lc := st.Latest.Completed
	if lc == nil || lc.ID != 1 || lc.EndToEndDuration != 3000 || lc.StateSize != 128*100+int64(len("offset")) ||
		lc.Status != StatusCompleted || lc.NumAcknowledgedSubtasks != 3 || lc.ExternalPath != "job/chk-1/_metadata" {
		t.Fatalf("latest completed %+v", lc)
	}

	// The next period counts from the trigger (at 70 s).
	h.tick(6 * time.Second)
	h.expect(``)
	h.tick(time.Second)
	h.expect(`trigger chk-2 a1 savepoint=false sources=[src[0]]`)
	if st := h.c.Stats(); st.Counts.InProgress != 1 || len(st.History) != 2 || st.History[0].Status != StatusInProgress {
		t.Fatalf("stats while in progress: %+v", st)
	}
}

func TestStaleAndBadInputIgnored(t *testing.T) {
	h := newHarness(t, Config{})
	h.step(job)
	h.step(TriggerRequest{Request: Request{Kind: KindManual, ID: "r1"}})
	h.expect(`trigger chk-1 a1 savepoint=false sources=[src[0]]`)
	h.step(ack(1, 1, src))
	h.step(
		ack(1, 1, src),  // duplicate
		ack(1, 9, cnt0), // unknown checkpoint
		ack(1, 1, exec.TaskKey{Vertex: "x", Subtask: 0}), // unknown task
		Decline{Attempt: 1, Checkpoint: 1, Task: exec.TaskKey{Vertex: "cnt", Subtask: 5}, Reason: "no"},
	)
	h.expect(``)
	for _, want := range []string{
		`msg="ignoring duplicate acknowledgement" component=checkpoint-coordinator job=job from=src[0] checkpoint=1`,
		`msg="ignoring acknowledgement of an unknown or aborted checkpoint" component=checkpoint-coordinator job=job from=cnt[0] checkpoint=9`,
		`msg="ignoring acknowledgement from a task not in the attempt" component=checkpoint-coordinator job=job from=x[0]`,
		`msg="ignoring decline from a task not in the attempt"`,
	} {
		if !strings.Contains(h.logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	// A future attempt is invalid input.
	if err := h.c.Step(ack(2, 1, cnt0)); err == nil || !strings.Contains(err.Error(), "attempt 2, which never started") {
		t.Fatalf("ack of future attempt: %v", err)
	}

	// Attempt 2 starts: chk-1 of attempt 1 is aborted; its acks are ignored.
	a2 := job
	a2.Attempt = 2
	h.step(a2)
	h.expect(`failed chk-1 req=r1: attempt 1 superseded by attempt 2`)
	h.step(ack(1, 1, cnt0), ack(1, 1, cnt1))
	h.expect(``)
	if !strings.Contains(h.logs.String(), `msg="ignoring acknowledgement from an old attempt" component=checkpoint-coordinator job=job from=cnt[0] checkpoint=1 attempt=1 current=2`) {
		t.Errorf("old-attempt ack not logged")
	}
	if err := h.c.Step(job); err == nil {
		t.Fatal("restarting an old attempt accepted")
	}
	if err := h.c.Step(Persisted{Checkpoint: 1}); err == nil {
		t.Fatal("Persisted of a checkpoint not awaiting it accepted")
	}
}

func TestDeclineAndTimeout(t *testing.T) {
	h := newHarness(t, Config{Interval: 10 * time.Second, Timeout: time.Minute})
	h.step(job)
	h.tick(10 * time.Second)
	h.expect(`trigger chk-1 a1 savepoint=false sources=[src[0]]`)
	h.step(Decline{Attempt: 1, Checkpoint: 1, Task: cnt1, Reason: "state backend busy"})
	h.expect(`failed chk-1 req=: declined by cnt[1]: state backend busy`)

	// The job keeps running: the next period triggers again.
	h.tick(10 * time.Second)
	h.expect(`trigger chk-2 a1 savepoint=false sources=[src[0]]`)
	h.step(ack(1, 2, src))
	for range 5 { // periodic triggers while chk-2 is in flight merge into one queued
		h.tick(10 * time.Second)
	}
	h.expect(``)
	h.tick(10 * time.Second) // 60 s after the trigger
	h.expect(`
		trigger chk-3 a1 savepoint=false sources=[src[0]]
		failed chk-2 req=: timed out after 1m0s: 1 of 3 tasks acknowledged, waiting for cnt[0], cnt[1]`)
	h.step(ack(1, 2, cnt0)) // late ack of the timed-out checkpoint
	h.expect(``)
	h.complete(1, 3)
	h.expect(`completed chk-3 a1 path=chk-3 savepoint=false reason=periodic req=`)
	st := h.c.Stats()
	if st.Counts != (Counts{Completed: 1, Failed: 2, Total: 3}) {
		t.Fatalf("counts %+v", st.Counts)
	}
	if f := st.Latest.Failed; f == nil || f.ID != 2 || !strings.HasPrefix(f.FailureMessage, "timed out") {
		t.Fatalf("latest failed %+v", f)
	}
}

func TestQueuedRequests(t *testing.T) {
	h := newHarness(t, Config{Interval: 10 * time.Second})
	h.step(TriggerRequest{Request: Request{Kind: KindManual, ID: "early"}})
	h.expect(`failed chk-0 req=early: request rejected: job not running`)
	h.step(job)
	h.tick(10 * time.Second)
	h.expect(`trigger chk-1 a1 savepoint=false sources=[src[0]]`)

	h.tick(10 * time.Second) // periodic queued behind chk-1
	h.step(TriggerRequest{Request: Request{Kind: KindSavepoint, ID: "sp1"}})
	h.step(TriggerRequest{Request: Request{Kind: KindRescale, ID: "rs1"}})
	h.expect(`failed chk-0 req=rs1: request rejected: checkpoint 1 in progress and request savepoint "sp1" already queued`)

	h.complete(1, 1)
	h.expect(`
		trigger chk-2 a1 savepoint=true sources=[src[0]]
		completed chk-1 a1 path=chk-1 savepoint=false reason=periodic req=`)
	h.complete(1, 2)
	h.expect(`completed chk-2 a1 path=chk-2 savepoint=true reason=savepoint req=sp1`)
	if id, _, _ := h.c.LatestCompleted(); id != 2 {
		t.Fatalf("latest completed %d, want the savepoint", id)
	}
	if st := h.c.Stats(); st.Latest.Savepoint == nil || st.Latest.Savepoint.ID != 2 || st.Latest.Completed.ID != 1 {
		t.Fatalf("latest %+v", st.Latest)
	}
}

func TestRetentionAndDiscard(t *testing.T) {
	h := newHarness(t, Config{NumRetained: 2})
	h.step(job)
	for id := ID(1); id <= 5; id++ {
		h.step(TriggerRequest{Request: Request{Kind: kindOf(id == 2), ID: "r"}})
		h.c.Advance(h.c.Ready())
		h.complete(1, id)
		want := map[ID]string{
			1: `completed chk-1 a1 path=chk-1 savepoint=false reason=manual req=r`,
			2: `completed chk-2 a1 path=chk-2 savepoint=true reason=savepoint req=r`,
			3: `completed chk-3 a1 path=chk-3 savepoint=false reason=manual req=r`,
			4: `completed chk-4 a1 path=chk-4 savepoint=false reason=manual req=r
			    discard chk-1`,
			5: `completed chk-5 a1 path=chk-5 savepoint=false reason=manual req=r
			    discard chk-3`,
		}[id]
		h.expect(want)
	}
	// A failed persist is not retained and discards nothing.
	h.step(TriggerRequest{Request: Request{Kind: KindManual}})
	h.c.Advance(h.c.Ready())
	h.step(ack(1, 6, src), ack(1, 6, cnt0), ack(1, 6, cnt1))
	h.c.Advance(h.c.Ready())
	h.step(Persisted{Checkpoint: 6, Err: errors.New("disk full")})
	h.expect(`failed chk-6 req=: persisting metadata: disk full`)
	if id, _, _ := h.c.LatestCompleted(); id != 5 {
		t.Fatalf("latest completed %d", id)
	}
}

func TestAttemptStopped(t *testing.T) {
	h := newHarness(t, Config{Interval: time.Second})
	h.step(job)
	h.tick(time.Second)
	h.expect(`trigger chk-1 a1 savepoint=false sources=[src[0]]`)
	h.step(TriggerRequest{Request: Request{Kind: KindRescale, ID: "rs"}})
	h.step(AttemptStopped{Attempt: 1})
	h.expect(`
		failed chk-1 req=: attempt stopped
		failed chk-0 req=rs: request rejected: attempt stopped`)
	h.tick(time.Hour) // no periodic checkpoints while stopped
	h.expect(``)
	h.step(AttemptStopped{Attempt: 1}) // repeated: ignored
	if err := h.c.Step(AttemptStopped{Attempt: 3}); err == nil {
		t.Fatal("stop of a future attempt accepted")
	}

	// A checkpoint with all acks in survives the end of its attempt.
	a2 := job
	a2.Attempt = 2
	h.step(a2)
	h.step(TriggerRequest{Request: Request{Kind: KindRescale, ID: "rs2"}})
	h.expect(`trigger chk-2 a2 savepoint=false sources=[src[0]]`)
	h.step(ack(2, 2, src), ack(2, 2, cnt0), ack(2, 2, cnt1))
	h.expect(`persist chk-2 a2 savepoint=false cnt(p=2 keyed=2 list=0 pos=0) src(p=1 keyed=0 list=1 pos=10)`)
	h.step(AttemptStopped{Attempt: 2})
	h.expect(``)
	h.step(Persisted{Checkpoint: 2, Path: "chk-2"})
	h.expect(`completed chk-2 a2 path=chk-2 savepoint=false reason=rescale req=rs2`)
}

func TestRestored(t *testing.T) {
	h := newHarness(t, Config{NumRetained: 1})
	h.tick(5 * time.Second)
	h.step(Restored{Metadata: &Metadata{JobID: "job", CheckpointID: 41, MaxParallelism: maxP}, Path: "job/chk-41/_metadata"})
	if id, path, ok := h.c.LatestCompleted(); !ok || id != 41 || path != "job/chk-41/_metadata" {
		t.Fatalf("LatestCompleted = %d %q %v", id, path, ok)
	}
	h.step(job)
	h.step(TriggerRequest{Request: Request{Kind: KindManual}})
	h.expect(`trigger chk-42 a1 savepoint=false sources=[src[0]]`)
	h.complete(1, 42)
	h.expect(`completed chk-42 a1 path=chk-42 savepoint=false reason=manual req=
		discard chk-41`)
	st := h.c.Stats()
	if st.Counts.Restored != 1 || st.Latest.Restored == nil || st.Latest.Restored.ID != 41 ||
		st.Latest.Restored.RestoreTimestamp != t0.Add(5*time.Second).UnixMilli() {
		t.Fatalf("restored stats %+v %+v", st.Counts, st.Latest.Restored)
	}
	// A restored savepoint moves ids on but is never discarded.
	h.step(Restored{Metadata: &Metadata{JobID: "job", CheckpointID: 100, Savepoint: true, MaxParallelism: maxP}, Path: "sp"})
	h.step(TriggerRequest{Request: Request{Kind: KindManual}})
	h.expect(`trigger chk-101 a1 savepoint=false sources=[src[0]]`)
	h.complete(1, 101)
	h.expect(`completed chk-101 a1 path=chk-101 savepoint=false reason=manual req=
		discard chk-42`)
	if err := h.c.Step(Restored{Path: "x"}); err == nil {
		t.Fatal("Restored without metadata accepted")
	}
}

func TestInvalidAck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		snaps []OperatorSnapshot
		want  string
	}{
		{"subtask", []OperatorSnapshot{{OperatorID: "cnt", Subtask: 1}}, "snapshot of subtask 1 from subtask 0"},
		{"twice", []OperatorSnapshot{{OperatorID: "cnt"}, {OperatorID: "cnt"}}, `operator "cnt" reported twice`},
		{"range", []OperatorSnapshot{{OperatorID: "cnt", Keyed: &KeyedHandle{Path: "p", Range: keygroupRange(0, 200)}}}, "inside [0, 128)"},
		{"vertex", []OperatorSnapshot{{OperatorID: "src"}}, `operator "src" reported by vertices`},
		{"another checkpoint's directory", withPath("job/chk-2/cnt-0"), `outside the checkpoint's directory "job/chk-1/"`},
		{"another job's directory", withPath("other/chk-1/cnt-0"), `outside the checkpoint's directory "job/chk-1/"`},
		{"the job record", withPath("job/_job/0000000000000001-0000000000000000"), "outside the checkpoint's directory"},
		{"a prefix of the directory", withPath("job/chk-10/cnt-0"), "outside the checkpoint's directory"},
		{"up and out", withPath("job/chk-1/../../other/chk-1/cnt-0"), "not a plain relative key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.step(job)
			h.step(TriggerRequest{Request: Request{Kind: KindManual}})
			h.c.Advance(h.c.Ready())
			h.step(ack(1, 1, src), ack(1, 1, cnt1))
			err := h.c.Step(Ack{Attempt: 1, Checkpoint: 1, Task: cnt0, Snapshots: tc.snaps})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Step = %v, want an error containing %q", err, tc.want)
			}
			rd := h.c.Ready()
			if len(rd.Failed) != 1 || rd.Persist != nil || !strings.Contains(rd.Failed[0].Reason, tc.want) {
				t.Fatalf("Ready %s", render(rd))
			}
		})
	}
}

// withPath is subtask 0's snapshot of checkpoint 1 with its keyed state
// at path.
func withPath(path string) []OperatorSnapshot {
	snaps := snapshots(1, cnt0)
	snaps[0].Keyed.Path = path
	return snaps
}

func TestKeyedSliceValidate(t *testing.T) {
	h := snapshots(1, cnt0)[0].Keyed
	r := h.Range
	if err := (KeyedSlice{Handle: *h, Range: r}).Validate(maxP); err != nil {
		t.Fatalf("the whole handle: %v", err)
	}
	if err := (KeyedSlice{Handle: *h, Range: keygroupRange(int(r.End), int(r.End))}).Validate(maxP); err != nil {
		t.Fatalf("its last key group: %v", err)
	}
	short := *h
	short.Offsets = short.Offsets[:2]
	for name, s := range map[string]KeyedSlice{
		"beyond the handle": {Handle: *h, Range: keygroupRange(int(r.Start), int(r.End)+1)},
		"before the handle": {Handle: *h, Range: keygroupRange(int(r.Start)-1, int(r.Start))},
		"empty":             {Handle: *h, Range: keygroupRange(int(r.End), int(r.Start))},
		"too few offsets":   {Handle: short, Range: keygroupRange(int(r.Start), int(r.Start))},
		"more key groups":   {Handle: *h, Range: r},
	} {
		maxPar := maxP
		if name == "more key groups" {
			maxPar = int(r.End) // the handle's range is not inside [0, maxPar)
		}
		if err := s.Validate(maxPar); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", name, err)
		}
	}
}

func TestReadyAdvanceKeepsNewWork(t *testing.T) {
	h := newHarness(t, Config{})
	h.step(job, TriggerRequest{Request: Request{Kind: KindManual, ID: "a"}})
	rd := h.c.Ready()
	h.step(TriggerRequest{Request: Request{Kind: KindManual, ID: "b"}}, TriggerRequest{Request: Request{Kind: KindManual, ID: "c"}})
	h.c.Advance(rd)
	h.expect(`failed chk-0 req=c: request rejected: checkpoint 1 in progress and request manual "b" already queued`)
}

func TestHistoryBounded(t *testing.T) {
	h := newHarness(t, Config{})
	h.step(job)
	for id := ID(1); id <= 15; id++ {
		h.step(TriggerRequest{Request: Request{Kind: KindManual}})
		h.c.Advance(h.c.Ready())
		h.step(Decline{Attempt: 1, Checkpoint: id, Task: src, Reason: "x"})
		h.c.Advance(h.c.Ready())
	}
	st := h.c.Stats()
	if len(st.History) != 10 || st.History[0].ID != 15 || st.History[9].ID != 6 || st.Counts.Failed != 15 {
		t.Fatalf("history %d entries, first %d, last %d", len(st.History), st.History[0].ID, st.History[len(st.History)-1].ID)
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{Interval: -1, NumRetained: -1}
	c.EnsureDefaults()
	err := c.Validate()
	for _, want := range []string{"interval -1ns is negative", "retain -1", "empty job id", "max parallelism 0"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to mention %q", err, want)
		}
	}
	ok := Config{JobID: "j", MaxParallelism: 128}
	ok.EnsureDefaults()
	if err := ok.Validate(); err != nil || ok.Timeout != DefaultTimeout || ok.NumRetained != DefaultNumRetained {
		t.Fatalf("defaults: %+v, %v", ok, err)
	}
}

// TestRetainedFromAnEarlierJobManager: checkpoints a recovered JobManager
// found are retained as if it had taken them, and discarded in turn.
func TestRetainedFromAnEarlierJobManager(t *testing.T) {
	h := newHarness(t, Config{NumRetained: 2, Retained: []Retained{{ID: 7, Path: "chk-7"}, {ID: 5, Path: "chk-5"}}})
	h.step(job)
	h.step(TriggerRequest{Request: Request{Kind: KindManual, ID: "r"}})
	h.c.Advance(h.c.Ready())
	h.complete(1, 8)
	h.expect(`completed chk-8 a1 path=chk-8 savepoint=false reason=manual req=r
		discard chk-5`)
}

// kindOf is KindSavepoint for a savepoint, KindManual otherwise.
func kindOf(savepoint bool) Kind {
	if savepoint {
		return KindSavepoint
	}
	return KindManual
}

// TestDeadline: the shell ticks at Deadline instead of polling — the next
// periodic checkpoint, or the in-flight one's timeout if that is earlier.
func TestDeadline(t *testing.T) {
	h := newHarness(t, Config{Interval: 10 * time.Second, Timeout: 15 * time.Second})
	if _, ok := h.c.Deadline(); ok {
		t.Fatal("a deadline before any attempt runs")
	}
	h.step(job)
	next := func() time.Duration {
		t.Helper()
		at, ok := h.c.Deadline()
		if !ok {
			t.Fatal("no deadline while the attempt runs")
		}
		return at.Sub(h.now)
	}
	if d := next(); d != 10*time.Second {
		t.Fatalf("first deadline in %v, want the interval", d)
	}
	h.tick(10 * time.Second)
	h.expect(`trigger chk-1 a1 savepoint=false sources=[src[0]]`)
	if d := next(); d != 10*time.Second {
		t.Fatalf("deadline in %v, want the next period", d)
	}
	h.tick(10 * time.Second) // the period is due; chk-1 still in flight
	h.expect(``)
	if d := next(); d != 5*time.Second {
		t.Fatalf("deadline in %v, want chk-1's timeout 15s after its trigger", d)
	}
	h.tick(5 * time.Second)
	h.expect(`
		trigger chk-2 a1 savepoint=false sources=[src[0]]
		failed chk-1 req=: timed out after 15s: 0 of 3 tasks acknowledged, waiting for cnt[0], cnt[1], src[0]`)
}
