package jobmanager

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/checkpointstore"
	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/exec"
)

// JobID derives a job's id from what identifies the job: its name, its
// arguments and its number of key groups. The same job started again — by
// hand, or a JobManager restarted after kill -9 or on another pod — has the
// same id, so it finds its checkpoints; a job with other arguments (another
// output, another input) is another job.
func JobID(name string, args []string, maxParallelism int) string {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field("tide-job-v1")
	field(name)
	for _, a := range args {
		field(a)
	}
	field(fmt.Sprint(maxParallelism))
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// attemptLease is how many attempt numbers a JobManager reserves in the job
// record at a time. Reserving is a blob write, so it is done rarely.
const attemptLease = 1000

// start is what a JobManager starts the job from, decided by recover and
// written to the job record by claim.
type start struct {
	// initial is the state the first attempt restores; nil: empty state.
	initial *restorePoint
	// firstID is the coordinator's first checkpoint id: above every
	// checkpoint directory the job has.
	firstID checkpoint.ID
	// attemptsAfter is the last attempt number predecessors may have used.
	attemptsAfter exec.Attempt
	// record is the job record to claim the job with; seen is the version
	// it was decided from (nil: none).
	record checkpointstore.Record
	seen   *checkpointstore.Record
	// retained are the resumed run's completed checkpoints older than the
	// one it resumes from, for retention to discard in turn; discard are
	// its checkpoint directories that never completed.
	retained []checkpoint.Retained
	discard  []checkpoint.ID
	// ended is the record of a run that ended FINISHED or CANCELED: the
	// JobManager shows the job so and runs nothing.
	ended *checkpointstore.Record
	// decision says what the JobManager does and why; claim logs it once
	// the JobManager holds its ports and has taken charge, so that a start
	// that fails before (a port in use) does not claim to have started.
	decision []logLine
}

// say keeps a line of the decision for claim to log.
func (s *start) say(msg string, args ...any) { s.decision = append(s.decision, logLine{msg, args}) }

// A JobManager that starts while its checkpoint storage fails — a store
// that is down, a volume being remounted, a JobManager restarted into an
// outage — waits for it rather than giving up at once: each start-up read or
// write of the storage (the writability probe, the job record, the list of
// checkpoints, the checkpoint to resume from, the record's claim) is retried
// with exponential backoff from storeRetryFirst, doubling up to
// storeRetryMax, until it succeeds, fails for good (a corrupt checkpoint, a
// record that does not decode, permission denied), or storeRetryFor has
// passed since the JobManager started; then the start fails with the last
// error. Each retry is logged at WARN with the attempt and the next delay;
// giving up at ERROR.
const (
	storeRetryFor   = 60 * time.Second
	storeRetryFirst = 200 * time.Millisecond
	storeRetryMax   = 5 * time.Second
)

// retry runs op until it succeeds, fails for good (permanent says so), or
// the start-up deadline (jm.retryUntil) has passed; it logs each retry.
func (jm *JobManager) retry(ctx context.Context, what string, permanent func(error) bool, op func() error) error {
	delay := storeRetryFirst
	began := time.Now()
	for i := 1; ; i++ {
		err := op()
		if err == nil || permanent(err) {
			return err
		}
		left := time.Until(jm.retryUntil)
		if left <= 0 || ctx.Err() != nil {
			jm.log.Error("checkpoint storage still failing; giving up", "what", what, "attempts", i,
				"waited", time.Since(began).Round(time.Millisecond), "err", err)
			return fmt.Errorf("%w (checkpoint storage still failing after %d attempts in %s)", err, i, time.Since(began).Round(time.Second))
		}
		d := min(delay, left)
		jm.log.Warn("checkpoint storage failed; retrying", "what", what, "attempt", i, "retry_in", d,
			"gives_up_in", left.Round(time.Second), "err", err)
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
		delay = min(2*delay, storeRetryMax)
	}
}

// probe proves state.checkpoints.dir writable now, not at the first
// checkpoint. Permission denied and a read-only file system are not waited
// for; other errors are (a store that is down).
func (jm *JobManager) probe(ctx context.Context) error {
	key := jm.jobID + "/.probe"
	err := jm.retry(ctx, "check that state.checkpoints.dir is writable", func(err error) bool {
		return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)
	}, func() error {
		return jm.storage.Write(ctx, key, []byte("tide"))
	})
	if err != nil {
		return fmt.Errorf("state.checkpoints.dir %s is not writable: %w", jm.cfg.CheckpointsDir, err)
	}
	jm.storage.Delete(ctx, key)
	return nil
}

// logLine is a line of the log kept for later.
type logLine struct {
	msg  string
	args []any
}

// recover decides how the job starts, following jobmanager.recovery. It
// reads and checks, and writes nothing to the job's own directory (a
// savepoint from elsewhere is copied under _imported/): claim writes the decision once the
// JobManager holds its ports, so that a JobManager that cannot start does
// not take the job from one that runs.
//
//   - A job whose run has not ended (its JobManager stopped or died), or
//     ended (FINISHED, CANCELED, FAILED) with no execution.savepoint.path to
//     start a new run from, resumes the run from the checkpoint the record
//     names as its newest completed one. It must be restorable: the sinks
//     may have committed it, so starting from an older one or from nothing
//     would repeat committed output. A finished run resumed from its final
//     checkpoint finishes again at once, emitting nothing twice.
//   - A job that never ran, a run that ended and is given a savepoint to
//     start from, and jobmanager.recovery: none start a new run.
//
// The log says which, and why.
func (jm *JobManager) recover(ctx context.Context) (*start, error) {
	never := func(error) bool { return false }
	var rec *checkpointstore.Record
	err := jm.retry(ctx, "read the job record", func(err error) bool { return errors.Is(err, checkpointstore.ErrRecordInvalid) }, func() (err error) {
		rec, err = jm.store.ReadRecord(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: restore one of the job's checkpoints with execution.savepoint.path, or start the job over "+
			"with jobmanager.recovery: none (into a new output)", err)
	}
	var newest, completed checkpoint.ID
	if err := jm.retry(ctx, "list checkpoints", never, func() (err error) {
		newest, completed, err = jm.store.Scan(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	s := &start{firstID: newest + 1}
	next := checkpointstore.Record{JobName: jm.cfg.JobName, JobArgs: jm.cfg.JobArgs, MaxParallelism: jm.cfg.MaxParallelism}
	if rec != nil {
		s.attemptsAfter = rec.AttemptsBelow
		next.Epoch = rec.Epoch
	}
	next.Epoch++
	next.AttemptsBelow = s.attemptsAfter + attemptLease
	var fresh string
	switch {
	case jm.cfg.Recovery == config.RecoveryNone:
		fresh = "jobmanager.recovery is none"
	case rec == nil && completed > 0:
		return nil, fmt.Errorf("state.checkpoints.dir holds checkpoints of this job (the newest: %s) but no job record %s: "+
			"it was deleted, or they are from a Tide that did not write one. Starting over would repeat output they may have "+
			"committed: restore one with execution.savepoint.path, or start the job over with jobmanager.recovery: none (into a new output)",
			jm.location(jm.store.Dir(completed)), jm.location(jm.store.RecordPath()))
	case rec == nil:
		fresh = "no earlier run of this job in state.checkpoints.dir"
	case rec.Result != "" && jm.cfg.SavepointPath != "" && jm.cfg.SavepointPath != rec.StartedFrom:
		// A savepoint path the ended run did not start from asks for a new
		// run. The same one is what a restart with the same command line
		// (a pod restarted) gives: that resumes, emitting nothing twice.
		fresh = fmt.Sprintf("its previous run (run %d) ended %s and execution.savepoint.path names another savepoint than it started from", rec.Run, rec.Result)
	case rec.Result == "FINISHED" || rec.Result == "CANCELED":
		// The run ended by itself or by the user's stop or cancel: it is
		// not run again, as in Flink, where the job result store keeps a
		// restarted JobManager from running an ended job. The JobManager
		// shows the job as it ended and goes.
		s.say("the job's run has ended; not running it again: to run it again, start with execution.savepoint.path (from a savepoint) or jobmanager.recovery: none (over, into a new output)",
			"run", rec.Run, "result", rec.Result, "reason", rec.Reason)
		s.ended = rec
		return s, nil
	}
	if fresh != "" {
		next.Run, next.FirstCheckpoint = 1, s.firstID
		if rec != nil {
			next.Run = rec.Run + 1
		}
		if p := jm.cfg.SavepointPath; p != "" {
			rp, err := jm.loadSavepoint(ctx, p)
			if err != nil {
				return nil, err
			}
			s.initial, next.StartedFrom = rp, p
			s.say("starting the job from a savepoint", "why", fresh, "run", next.Run, "savepoint", p, "checkpoint", rp.md.CheckpointID)
		} else {
			s.say("starting the job fresh", "why", fresh, "run", next.Run)
		}
	} else {
		next.Run, next.FirstCheckpoint, next.StartedFrom, next.Completed = rec.Run, rec.FirstCheckpoint, rec.StartedFrom, rec.Completed
		why := "its previous JobManager stopped before the job ended"
		switch rec.Result {
		case "FAILED":
			why = fmt.Sprintf("its run FAILED (%s): a restart retries it", rec.Reason)
		case "FINISHED", "CANCELED":
			why = fmt.Sprintf("its run ended %s: resuming it emits nothing twice (jobmanager.recovery: none starts it over, into a new output)", rec.Result)
		}
		switch {
		case rec.Completed != 0:
			rp, err := jm.loadLatest(ctx, rec.Completed)
			if err != nil {
				return nil, err
			}
			s.initial = rp
			if err := jm.tidy(ctx, s, rec); err != nil {
				return nil, err
			}
			s.say("resuming the job from its latest checkpoint", "why", why, "run", rec.Run, "checkpoint", rp.md.CheckpointID, "path", jm.location(rp.path))
		case rec.StartedFrom != "":
			// No checkpoint completed since the run started from its
			// savepoint: nothing was committed after it.
			rp, err := jm.loadSavepoint(ctx, rec.StartedFrom)
			if err != nil {
				return nil, err
			}
			s.initial = rp
			s.say("resuming the job from the savepoint its run started from: no checkpoint completed since", "why", why, "run", rec.Run, "savepoint", rec.StartedFrom)
		default:
			s.say("resuming the job from empty state: no checkpoint of its run completed, so nothing was committed", "why", why, "run", rec.Run)
		}
		if p := jm.cfg.SavepointPath; p != "" && p != rec.StartedFrom {
			s.say("ignoring execution.savepoint.path: the run it would start is already going on from its own checkpoints", "savepoint", p)
		}
	}
	if s.initial != nil {
		if err := jm.checkClaimed(s.initial.md); err != nil {
			return nil, err
		}
	}
	next.Owner = jm.incarnation
	s.record, s.seen = next, rec
	return s, nil
}

// tidy finds what earlier JobManagers of a resumed run left: completed
// checkpoints older than the one it resumes from, which retention then
// discards in turn as new ones complete, and directories of checkpoints
// that never completed (torn, or whose completion the record does not
// name), which are discarded. Savepoints and earlier runs' checkpoints
// stay.
func (jm *JobManager) tidy(ctx context.Context, s *start, rec *checkpointstore.Record) error {
	var withMetadata, torn []checkpoint.ID
	if err := jm.retry(ctx, "list checkpoints", func(error) bool { return false }, func() (err error) {
		withMetadata, torn, err = jm.store.Inventory(ctx)
		return err
	}); err != nil {
		return err
	}
	for _, id := range torn {
		if id >= rec.FirstCheckpoint {
			s.discard = append(s.discard, id)
		}
	}
	for _, id := range withMetadata {
		if id < rec.FirstCheckpoint || id == rec.Completed {
			continue
		}
		md, err := jm.store.Load(ctx, jm.store.MetadataPath(id))
		switch {
		case err != nil && !isCorrupt(err):
			return err
		case err == nil && md.Savepoint:
			continue
		case err == nil && id < rec.Completed:
			s.retained = append(s.retained, checkpoint.Retained{ID: id, Path: jm.store.MetadataPath(id)})
		default: // newer than the run's newest completed one, or corrupt
			s.discard = append(s.discard, id)
		}
	}
	if len(s.retained)+len(s.discard) > 0 {
		jm.log.Info("found checkpoints of earlier JobManagers of the run", "retained", len(s.retained), "to_discard", s.discard)
	}
	return nil
}

// claim takes charge of the job: it writes the job record with this
// JobManager's epoch, run and attempt lease.
func (jm *JobManager) claim(ctx context.Context) error {
	if jm.start.ended == nil { // else nothing runs: nothing to take charge of
		jm.retryUntil = time.Now().Add(jm.retryFor())
		err := jm.retry(ctx, "write the job record", func(err error) bool { return errors.Is(err, errRecordChanged) }, func() error {
			return jm.record.claim(ctx, jm.start.seen, jm.start.record)
		})
		if err != nil {
			return err
		}
	}
	for _, l := range jm.start.decision {
		jm.log.Info(l.msg, l.args...)
	}
	return nil
}

// retryFor is how long start-up storage IO is retried.
func (jm *JobManager) retryFor() time.Duration {
	if jm.cfg.StoreRetryFor > 0 {
		return jm.cfg.StoreRetryFor
	}
	return storeRetryFor
}

// loadSavepoint loads and verifies an explicit execution.savepoint.path. It
// must be restorable, as in Flink: the start fails otherwise. A savepoint
// outside state.checkpoints.dir is copied in first, under the same keys, so
// that the TaskManagers restore it from the job's own storage.
func (jm *JobManager) loadSavepoint(ctx context.Context, location string) (*restorePoint, error) {
	key, ok := jm.key(location)
	if !ok {
		var err error
		if key, err = jm.importSavepoint(ctx, location); err != nil {
			return nil, fmt.Errorf("execution.savepoint.path %s cannot be restored: %w", location, err)
		}
	}
	rp, err := jm.load(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("execution.savepoint.path %s cannot be restored: %w", location, err)
	}
	return rp, nil
}

// importSavepoint copies a savepoint from outside state.checkpoints.dir into
// it (under checkpointstore.ImportPrefix), after checking that it is whole,
// and returns the copy's metadata key.
func (jm *JobManager) importSavepoint(ctx context.Context, location string) (string, error) {
	root, key, err := checkpointstore.SplitLocation(location)
	if err != nil {
		return "", err
	}
	ext, err := blob.Open(ctx, root)
	if err != nil {
		return "", err
	}
	defer ext.Close()
	from := checkpointstore.New(ext, "", jm.log)
	md, err := from.Load(ctx, key)
	if err != nil {
		return "", err
	}
	if err := from.Verify(ctx, md); err != nil {
		return "", err
	}
	jm.log.Info("copying the savepoint into state.checkpoints.dir to restore it", "savepoint", location,
		"copy", jm.location(checkpointstore.ImportPrefix+key))
	return checkpointstore.Copy(ctx, ext, jm.storage, md, key, checkpointstore.ImportPrefix)
}

// loadLatest loads the run's newest completed checkpoint at recovery.
func (jm *JobManager) loadLatest(ctx context.Context, id checkpoint.ID) (*restorePoint, error) {
	var rp *restorePoint
	err := jm.retry(ctx, fmt.Sprintf("load checkpoint %d", id), isCorrupt, func() (err error) {
		rp, err = jm.load(ctx, jm.store.MetadataPath(id))
		return err
	})
	if err != nil {
		if isCorrupt(err) {
			return nil, fmt.Errorf("the job's latest checkpoint %d cannot be restored (%w), and resuming from an older one "+
				"would repeat output its sinks may have committed: restore a savepoint with execution.savepoint.path, "+
				"or start the job over with jobmanager.recovery: none (into a new output)", id, err)
		}
		return nil, fmt.Errorf("resume the job from checkpoint %d, which its job record names as the run's newest completed one: %w "+
			"(is state.checkpoints.dir the directory the job ran with, and reachable?)", id, err)
	}
	return rp, nil
}

// load reads a checkpoint's metadata and checks that its state exists.
func (jm *JobManager) load(ctx context.Context, key string) (*restorePoint, error) {
	md, err := jm.store.Load(ctx, key)
	if err != nil {
		return nil, err
	}
	if md.MaxParallelism != 0 && md.MaxParallelism != jm.cfg.MaxParallelism {
		return nil, fmt.Errorf("checkpoint %d has %d key groups, the job %d (pipeline.max-parallelism): %w",
			md.CheckpointID, md.MaxParallelism, jm.cfg.MaxParallelism, checkpoint.ErrInvalid)
	}
	if err := jm.store.Verify(ctx, md); err != nil {
		return nil, err
	}
	return &restorePoint{md: md, path: key}, nil
}

// checkClaimed refuses a restore that holds state of operators the job no
// longer has, unless execution.savepoint.ignore-unclaimed-state: that state
// would be dropped silently.
func (jm *JobManager) checkClaimed(md *checkpoint.Metadata) error {
	have := map[string]bool{}
	for _, op := range jm.graph.Graph.Operators {
		have[op.ID] = true
	}
	var unclaimed []string
	for _, op := range md.Operators {
		if !have[op.OperatorID] && (len(op.Keyed) > 0 || len(op.List) > 0) {
			unclaimed = append(unclaimed, op.OperatorID)
		}
	}
	if len(unclaimed) == 0 {
		return nil
	}
	if jm.cfg.IgnoreUnclaimedState {
		jm.log.Warn("dropping state of operators the job no longer has (execution.savepoint.ignore-unclaimed-state)", "operators", unclaimed, "checkpoint", md.CheckpointID)
		return nil
	}
	var ids []string
	for _, op := range jm.graph.Graph.Operators {
		ids = append(ids, op.ID)
	}
	slices.Sort(ids)
	return fmt.Errorf("checkpoint %d holds state of operator(s) %s, which the job no longer has (its operators: %s): "+
		"give the operator its old id with stream.UID, or set execution.savepoint.ignore-unclaimed-state: true to drop that state",
		md.CheckpointID, strings.Join(unclaimed, ", "), strings.Join(ids, ", "))
}

// isCorrupt says a checkpoint can never be restored — its metadata or state
// does not verify, or state it names is missing — as opposed to a storage
// error worth retrying. A missing metadata object is not corruption: the
// JobManager only asks for checkpoints it knows completed, so their
// storage is unreachable, not wrong.
func isCorrupt(err error) bool {
	return errors.Is(err, checkpoint.ErrCorrupt) || errors.Is(err, checkpoint.ErrInvalid) || errors.Is(err, checkpointstore.ErrStateMissing)
}
