package jobmanager_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/checkpointstore"
	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/jobmanager"
	"github.com/tide-stream/tide/internal/jobs"
	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// fixture is a checkpoint directory and a job to start JobManagers for.
type fixture struct {
	t   *testing.T
	dir string
	reg *jobs.Registry
	st  blob.Storage
}

func newFixture(t *testing.T) *fixture {
	reg := &jobs.Registry{}
	job := func(env *stream.Env, _ []string) error {
		src := stream.FromSource(env, tidetest.SliceSource("numbers", []int64{1, 2, 3}), stream.UID("numbers"))
		stream.Discard(src, stream.UID("discard"))
		return nil
	}
	if err := reg.Register("job", job); err != nil {
		t.Fatal(err)
	}
	dir := "file://" + t.TempDir()
	st, err := blob.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &fixture{t: t, dir: dir, reg: reg, st: st}
}

func (f *fixture) jobID() string { return jobmanager.JobID("job", nil, 128) }

func (f *fixture) store(jobID string) *checkpointstore.Store {
	return checkpointstore.New(f.st, jobID, nil)
}

// start runs jobmanager.New and returns its log.
func (f *fixture) start(edit func(*jobmanager.Config)) (string, error) {
	var log jobmanager.LogBuffer
	cfg := jobmanager.Config{JobName: "job", Jobs: f.reg, MaxParallelism: 128, CheckpointsDir: f.dir,
		RPCAddr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(&log, nil))}
	if edit != nil {
		edit(&cfg)
	}
	// New decides, Claim writes the job record; the job never runs.
	jm, err := jobmanager.New(cfg)
	if err == nil {
		err = jm.Claim(context.Background())
	}
	return log.String(), err
}

// checkpoint writes a completed checkpoint of job with state for op, whose
// keyed state object exists when withState.
func (f *fixture) checkpoint(jobID string, id checkpoint.ID, op string, withState bool) string {
	f.t.Helper()
	s := f.store(jobID)
	obj := s.Dir(id) + op + "-0-a1"
	if withState {
		if err := f.st.Write(context.Background(), obj, []byte("state")); err != nil {
			f.t.Fatal(err)
		}
	}
	md := &checkpoint.Metadata{JobID: jobID, CheckpointID: id, Attempt: 1, MaxParallelism: 128,
		Operators: []checkpoint.OperatorState{{OperatorID: op, Parallelism: 1, Keyed: []checkpoint.KeyedHandle{{
			Path: obj, Range: keygroup.Range{Start: 0, End: 127}, Offsets: make([]int64, 129), CRCs: make([]uint32, 128)}}}}}
	path, err := s.WriteMetadata(context.Background(), md)
	if err != nil {
		f.t.Fatal(err)
	}
	if jobID == f.jobID() {
		f.completed(id)
	}
	return f.dir + "/" + path
}

// completed records checkpoint id as the run's newest completed one, as the
// JobManager does before its sinks commit.
func (f *fixture) completed(id checkpoint.ID) {
	f.t.Helper()
	r := f.record()
	r.Completed = id
	f.writeRecord(r)
}

func (f *fixture) record() *checkpointstore.Record {
	f.t.Helper()
	r, err := f.store(f.jobID()).ReadRecord(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// writeRecord writes r as the record's next version.
func (f *fixture) writeRecord(r *checkpointstore.Record) {
	f.t.Helper()
	r.Seq++
	if err := f.store(f.jobID()).WriteRecord(context.Background(), r); err != nil {
		f.t.Fatal(err)
	}
}

func TestJobIDIsStableAndDistinct(t *testing.T) {
	a := jobmanager.JobID("Verify", []string{"--count", "10"}, 128)
	if b := jobmanager.JobID("Verify", []string{"--count", "10"}, 128); a != b {
		t.Fatalf("same job, two ids: %s %s", a, b)
	}
	if len(a) != 32 {
		t.Fatalf("id %q is not 32 hex characters", a)
	}
	for _, other := range []string{
		jobmanager.JobID("Verify", []string{"--count", "100"}, 128),
		jobmanager.JobID("Verify", []string{"--count1", "0"}, 128),
		jobmanager.JobID("Verify", []string{"--count", "10"}, 256),
		jobmanager.JobID("WordCount", []string{"--count", "10"}, 128),
	} {
		if other == a {
			t.Fatalf("another job has the id %s", a)
		}
	}
}

func TestFirstStartWritesTheRecord(t *testing.T) {
	f := newFixture(t)
	log, err := f.start(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "starting the job fresh") || !strings.Contains(log, "no earlier run") {
		t.Fatalf("log does not say the job starts fresh and why:\n%s", log)
	}
	r := f.record()
	if r == nil || r.Run != 1 || r.FirstCheckpoint != 1 || r.AttemptsBelow == 0 || r.Result != "" {
		t.Fatalf("record after the first start: %+v", r)
	}
}

func TestRestartResumesFromTheLatestCheckpoint(t *testing.T) {
	f := newFixture(t)
	if _, err := f.start(nil); err != nil {
		t.Fatal(err)
	}
	first := f.record()
	f.checkpoint(f.jobID(), 1, "numbers", true)
	f.checkpoint(f.jobID(), 2, "numbers", true)
	log, err := f.start(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "resuming the job from its latest checkpoint") || !strings.Contains(log, "checkpoint=2") {
		t.Fatalf("log does not say the job resumes from checkpoint 2:\n%s", log)
	}
	r := f.record()
	if r.Run != first.Run || r.AttemptsBelow <= first.AttemptsBelow {
		t.Fatalf("record after a resume: %+v (before: %+v): same run, attempts above the previous lease", r, first)
	}
}

// TestRestartWaitsForTheStore: a JobManager started again while its
// checkpoint storage fails every read and list (a store that is down) for
// longer than a few retries waits for it, logging each retry at WARN, and
// resumes the job once it is back.
func TestRestartWaitsForTheStore(t *testing.T) {
	f := newFixture(t)
	if _, err := f.start(nil); err != nil {
		t.Fatal(err)
	}
	f.checkpoint(f.jobID(), 1, "numbers", true)
	f.checkpoint(f.jobID(), 2, "numbers", true)
	fi := blob.NewFaultInjector(f.st)
	fi.Inject(blob.Fault{Ops: blob.OpRead | blob.OpList, Err: errors.New("503 service unavailable")})
	const away = 4 * time.Second
	back := time.AfterFunc(away, fi.Reset)
	defer back.Stop()
	began := time.Now()
	log, err := f.start(func(c *jobmanager.Config) { c.OpenStorage = blob.Share(fi) })
	if err != nil {
		t.Fatalf("the jobmanager gave up on a store away for %v: %v\n%s", away, err, log)
	}
	if took := time.Since(began); took < away {
		t.Fatalf("started in %v, while the store was away for %v", took, away)
	}
	if !strings.Contains(log, "resuming the job from its latest checkpoint") || !strings.Contains(log, "checkpoint=2") {
		t.Fatalf("log does not say the job resumes from checkpoint 2:\n%s", log)
	}
	retries := 0
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "checkpoint storage failed; retrying") {
			retries++
			for _, want := range []string{"level=WARN", "attempt=", "retry_in=", "503 service unavailable"} {
				if !strings.Contains(l, want) {
					t.Errorf("a retry line lacks %q: %s", want, l)
				}
			}
		}
	}
	if retries < 2 {
		t.Errorf("%d retries logged:\n%s", retries, log)
	}
	if strings.Contains(log, "level=ERROR") {
		t.Errorf("a store that comes back logs an ERROR:\n%s", log)
	}
}

// TestStartGivesUpOnAStoreThatStaysAway: the wait is bounded; then the
// start fails with the store's error, logged at ERROR.
func TestStartGivesUpOnAStoreThatStaysAway(t *testing.T) {
	f := newFixture(t)
	fi := blob.NewFaultInjector(f.st)
	fi.Inject(blob.Fault{Ops: blob.OpRead | blob.OpList | blob.OpWrite, Err: errors.New("503 service unavailable")})
	log, err := f.start(func(c *jobmanager.Config) {
		c.OpenStorage = blob.Share(fi)
		c.StoreRetryFor = 1500 * time.Millisecond
	})
	if err == nil || !strings.Contains(err.Error(), "503 service unavailable") || !strings.Contains(err.Error(), "still failing") {
		t.Fatalf("err = %v, want the store's error and that it was still failing", err)
	}
	if !strings.Contains(log, "level=ERROR") || !strings.Contains(log, "giving up") {
		t.Fatalf("giving up is not logged at ERROR:\n%s", log)
	}
}

// TestDecisionLoggedOnceInCharge: what a JobManager does with the job
// (starting it fresh, resuming it) is logged once it has taken charge, after
// its ports are bound, not by a start that then fails (a port in use).
func TestDecisionLoggedOnceInCharge(t *testing.T) {
	f := newFixture(t)
	var log jobmanager.LogBuffer
	jm, err := jobmanager.New(jobmanager.Config{JobName: "job", Jobs: f.reg, MaxParallelism: 128, CheckpointsDir: f.dir,
		RPCAddr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "starting the job") {
		t.Fatalf("logged before the jobmanager took charge:\n%s", log.String())
	}
	if err := jm.Claim(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "starting the job fresh") {
		t.Fatalf("not logged once in charge:\n%s", log.String())
	}
}

// TestRestartAfterTheRunEnded: a run that FINISHED or was CANCELED (by a
// stop-with-savepoint, say) is not run again, as in Flink — a restarted pod
// does not revive a job stopped on purpose — unless a savepoint to start a
// new run from is given.
func TestRestartAfterTheRunEnded(t *testing.T) {
	other := jobmanager.JobID("job", []string{"old"}, 128)
	for _, result := range []string{"FINISHED", "CANCELED"} {
		t.Run(result, func(t *testing.T) {
			f := newFixture(t)
			if _, err := f.start(nil); err != nil {
				t.Fatal(err)
			}
			f.checkpoint(f.jobID(), 1, "numbers", true)
			r := f.record()
			r.Result, r.Reason = result, "test"
			f.writeRecord(r)
			log, err := f.start(nil)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(log, "not running it again") || !strings.Contains(log, "result="+result) {
				t.Fatalf("log does not say the ended run is not run again:\n%s", log)
			}
			if r2 := f.record(); r2.Run != r.Run || r2.Epoch != r.Epoch || r2.Seq != r.Seq {
				t.Fatalf("the record changed: %+v (was %+v): nothing runs, nothing is written", r2, r)
			}

			r = f.record()
			r.Result = result
			f.writeRecord(r)
			sp := f.checkpoint(other, 1, "numbers", true)
			log, err = f.start(func(c *jobmanager.Config) { c.SavepointPath = sp })
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(log, "starting the job from a savepoint") || !strings.Contains(log, "ended "+result) {
				t.Fatalf("log does not say a new run starts from the savepoint:\n%s", log)
			}
			r2 := f.record()
			if r2.Run != r.Run+1 || r2.FirstCheckpoint != 2 || r2.Result != "" || r2.Completed != 0 || r2.StartedFrom != sp {
				t.Fatalf("record of the new run: %+v", r2)
			}

			// The same command line again once that run ended — a
			// restarted pod — does not start it over.
			r2.Result = result
			f.writeRecord(r2)
			log, err = f.start(func(c *jobmanager.Config) { c.SavepointPath = sp })
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(log, "not running it again") {
				t.Fatalf("log does not say the ended run is not run again:\n%s", log)
			}
			if r3 := f.record(); r3.Run != r2.Run {
				t.Fatalf("record after the same command line again: %+v", r3)
			}
		})
	}
}

func TestFailedRunIsResumedNotRestarted(t *testing.T) {
	f := newFixture(t)
	if _, err := f.start(nil); err != nil {
		t.Fatal(err)
	}
	f.checkpoint(f.jobID(), 1, "numbers", true)
	r := f.record()
	r.Result = "FAILED"
	f.writeRecord(r)
	log, err := f.start(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "resuming the job from its latest checkpoint") {
		t.Fatalf("a FAILED run must resume from its checkpoint, never start over:\n%s", log)
	}
}

func TestRecoveryNoneStartsFresh(t *testing.T) {
	f := newFixture(t)
	if _, err := f.start(nil); err != nil {
		t.Fatal(err)
	}
	f.checkpoint(f.jobID(), 1, "numbers", true)
	log, err := f.start(func(c *jobmanager.Config) { c.Recovery = config.RecoveryNone })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "jobmanager.recovery is none") {
		t.Fatalf("log:\n%s", log)
	}
	if r := f.record(); r.Run != 2 || r.FirstCheckpoint != 2 {
		t.Fatalf("record: %+v: a new run whose checkpoints start above the old ones", r)
	}
}

func TestCorruptLatestCheckpointRefusesTheResume(t *testing.T) {
	f := newFixture(t)
	if _, err := f.start(nil); err != nil {
		t.Fatal(err)
	}
	f.checkpoint(f.jobID(), 1, "numbers", true)
	// Checkpoint 2 completed (the record says so) but its metadata does
	// not verify.
	if err := f.st.Write(context.Background(), f.store(f.jobID()).MetadataPath(2), []byte("not metadata")); err != nil {
		t.Fatal(err)
	}
	f.completed(2)
	_, err := f.start(nil)
	if err == nil || !strings.Contains(err.Error(), "latest checkpoint 2 cannot be restored") {
		t.Fatalf("start = %v, want a refusal naming checkpoint 2", err)
	}
}

// TestNewerOrOlderCheckpointsDoNotMoveTheResume: the record names the
// checkpoint to resume from. A newer one whose record write failed (it
// never completed) is not used, and an older one is never used instead of
// it when it is gone: its output may be committed.
func TestNewerOrOlderCheckpointsDoNotMoveTheResume(t *testing.T) {
	f := newFixture(t)
	if _, err := f.start(nil); err != nil {
		t.Fatal(err)
	}
	f.checkpoint(f.jobID(), 1, "numbers", true)
	f.checkpoint(f.jobID(), 2, "numbers", true)
	f.completed(1)
	log, err := f.start(nil)
	if err != nil || !strings.Contains(log, "checkpoint=1") {
		t.Fatalf("start = %v, want a resume from checkpoint 1, the record's:\n%s", err, log)
	}
	f.completed(2)
	if err := f.st.Delete(context.Background(), f.store(f.jobID()).MetadataPath(2)); err != nil {
		t.Fatal(err)
	}
	// Not found is waited for, as a store that is away (a start-up retry
	// bound of 1s instead of 60s), then refused.
	_, err = f.start(func(c *jobmanager.Config) { c.StoreRetryFor = time.Second })
	if err == nil || !strings.Contains(err.Error(), "checkpoint 2") {
		t.Fatalf("start with the record's checkpoint gone = %v, want a refusal naming checkpoint 2", err)
	}
}

// TestCheckpointsWithoutRecordRefuseTheStart: checkpoints of the job with no
// job record (deleted) are no fresh start.
func TestCheckpointsWithoutRecordRefuseTheStart(t *testing.T) {
	f := newFixture(t)
	if _, err := f.start(nil); err != nil {
		t.Fatal(err)
	}
	f.checkpoint(f.jobID(), 1, "numbers", true)
	keys, _ := f.st.List(context.Background(), f.store(f.jobID()).RecordPath())
	for _, k := range keys {
		if err := f.st.Delete(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.start(nil)
	if err == nil || !strings.Contains(err.Error(), "no job record") {
		t.Fatalf("start = %v, want a refusal", err)
	}
	if _, err := f.start(func(c *jobmanager.Config) { c.Recovery = config.RecoveryNone }); err != nil {
		t.Fatalf("with jobmanager.recovery none: %v", err)
	}
}

func TestCheckpointWithMissingStateRefusesTheResume(t *testing.T) {
	f := newFixture(t)
	if _, err := f.start(nil); err != nil {
		t.Fatal(err)
	}
	f.checkpoint(f.jobID(), 1, "numbers", false)
	_, err := f.start(nil)
	if err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "numbers-0-a1") {
		t.Fatalf("start = %v, want a refusal naming the missing state object", err)
	}
}

func TestSavepointChecks(t *testing.T) {
	other := jobmanager.JobID("job", []string{"old"}, 128)
	t.Run("unreadable", func(t *testing.T) {
		f := newFixture(t)
		sp := f.checkpoint(other, 4, "numbers", false)
		_, err := f.start(func(c *jobmanager.Config) { c.SavepointPath = sp })
		if err == nil || !strings.Contains(err.Error(), "execution.savepoint.path") || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("start = %v, want the savepoint refused for a missing state object", err)
		}
	})
	t.Run("unclaimed state", func(t *testing.T) {
		f := newFixture(t)
		sp := f.checkpoint(other, 4, "counter", true)
		_, err := f.start(func(c *jobmanager.Config) { c.SavepointPath = sp })
		if err == nil || !strings.Contains(err.Error(), "counter") || !strings.Contains(err.Error(), "stream.UID") ||
			!strings.Contains(err.Error(), "ignore-unclaimed-state") {
			t.Fatalf("start = %v, want a refusal naming operator counter and the ways out", err)
		}
		log, err := f.start(func(c *jobmanager.Config) { c.SavepointPath = sp; c.IgnoreUnclaimedState = true })
		if err != nil {
			t.Fatalf("with ignore-unclaimed-state: %v", err)
		}
		if !strings.Contains(log, "dropping state of operators the job no longer has") {
			t.Fatalf("dropping state is not logged:\n%s", log)
		}
	})
	t.Run("claimed", func(t *testing.T) {
		f := newFixture(t)
		sp := f.checkpoint(other, 4, "numbers", true)
		log, err := f.start(func(c *jobmanager.Config) { c.SavepointPath = sp })
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(log, "starting the job from a savepoint") {
			t.Fatalf("log:\n%s", log)
		}
	})
}

// TestResumeTidiesWhatEarlierJobManagersLeft: the resumed run's older
// completed checkpoints are retained (retention discards them in turn),
// and directories of checkpoints that never completed are discarded.
func TestResumeTidiesWhatEarlierJobManagersLeft(t *testing.T) {
	f := newFixture(t)
	if _, err := f.start(nil); err != nil {
		t.Fatal(err)
	}
	for id := checkpoint.ID(1); id <= 3; id++ {
		f.checkpoint(f.jobID(), id, "numbers", true)
	}
	// 4 is torn; 5 has metadata but the record never named it.
	if err := f.st.Write(context.Background(), f.store(f.jobID()).Dir(4)+"numbers-0-a1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	f.checkpoint(f.jobID(), 5, "numbers", true)
	f.completed(3)
	log, err := f.start(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "retained=2") || !strings.Contains(log, "to_discard=\"[4 5]\"") {
		t.Fatalf("log does not say 2 retained and 4, 5 discarded:\n%s", log)
	}
}
