package jobmanager

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpointstore"
)

// errReplaced says that another JobManager has taken charge of the job: this
// one must neither complete checkpoints nor deploy anything more.
var errReplaced = errors.New("another JobManager has taken charge of the job")

// errRecordChanged says the job record changed while a JobManager started.
var errRecordChanged = errors.New("the job record changed while this JobManager started")

// jobRecord is the job record (checkpointstore.Record) as this JobManager
// keeps it, shared by the loop and the IO worker.
//
// A JobManager takes charge of the job by writing a version of the record
// with a higher epoch than any before (claim), and checks before each later
// write (update) that the newest version is still its own. One that finds
// a newer epoch, or its epoch written by another process, has been replaced
// — a second JobManager was started for the job, or it is a zombie back
// from SIGSTOP or a partition — and stops instead of completing checkpoints
// beside the other; one that finds no record at all is not looking at the
// directory it started with. Every version is a new object named by epoch
// and sequence number (checkpointstore.ReadRecord), so a write that lands
// late, after its writer was replaced, sorts below the newer versions and
// changes nothing. Checking and writing are not atomic: two JobManagers that
// overlap may both complete one checkpoint before the older one sees the
// newer epoch.
type jobRecord struct {
	store *checkpointstore.Store
	mu    sync.Mutex // serializes writes; guards rec
	rec   checkpointstore.Record
}

// get returns the record as last written.
func (r *jobRecord) get() checkpointstore.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rec
}

// claim takes charge of the job with rec, whose epoch is one above seen's,
// the version recover decided from. If the record has changed since — a
// JobManager of the job is running and completing checkpoints — it refuses:
// resuming from what recover read would repeat what that one committed.
func (r *jobRecord) claim(ctx context.Context, seen *checkpointstore.Record, rec checkpointstore.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, err := r.store.ReadRecord(ctx)
	if err != nil {
		return err
	}
	if changed := (cur == nil) != (seen == nil) || cur != nil && (cur.Epoch != seen.Epoch || cur.Seq != seen.Seq); changed {
		return fmt.Errorf("%w (now %s): another JobManager of the job is running; stop it first (run one JobManager per job)",
			errRecordChanged, describe(cur))
	}
	rec.Seq, rec.UpdatedUnixMilli = 0, time.Now().UnixMilli()
	if err := r.store.WriteRecord(ctx, &rec); err != nil {
		if errors.Is(err, blob.ErrExists) {
			return fmt.Errorf("%w: another JobManager took charge of the job at the same time (epoch %d): run one JobManager per job",
				errRecordChanged, rec.Epoch)
		}
		return err
	}
	r.rec = rec
	return nil
}

func describe(r *checkpointstore.Record) string {
	if r == nil {
		return "none"
	}
	return fmt.Sprintf("epoch %d version %d, by %s, newest completed checkpoint %d", r.Epoch, r.Seq, r.Owner, r.Completed)
}

// owned reports whether the newest version of the record is still this
// JobManager's: only then may it delete anything in the job's directory.
func (r *jobRecord) owned(ctx context.Context) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, err := r.store.ReadRecord(ctx)
	if err != nil {
		return false, err
	}
	return cur != nil && cur.Epoch == r.rec.Epoch && cur.Owner == r.rec.Owner, nil
}

// update applies f to the record and writes it as a new version, if the
// newest version is still this JobManager's. An error wrapping errReplaced
// means it is not.
func (r *jobRecord) update(ctx context.Context, f func(*checkpointstore.Record)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, err := r.store.ReadRecord(ctx)
	switch {
	case err != nil:
		return err
	case cur == nil:
		return fmt.Errorf("the job record %s is gone: is state.checkpoints.dir the same directory as at start?", r.store.RecordPath())
	case cur.Epoch > r.rec.Epoch || cur.Epoch == r.rec.Epoch && cur.Owner != r.rec.Owner:
		return fmt.Errorf("%w: the job record is at %s; this JobManager has epoch %d", errReplaced, describe(cur), r.rec.Epoch)
	}
	next := r.rec
	f(&next)
	next.Seq = max(cur.Seq, r.rec.Seq) + 1
	next.UpdatedUnixMilli = time.Now().UnixMilli()
	if err := r.store.WriteRecord(ctx, &next); err != nil {
		if errors.Is(err, blob.ErrExists) {
			return fmt.Errorf("%w: another process wrote version %d of epoch %d", errReplaced, next.Seq, next.Epoch)
		}
		return err
	}
	r.rec = next
	return nil
}
