package jobmanager

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tide-stream/tide/internal/checkpointstore"
)

// errReplaced says that another JobManager has taken charge of the job: this
// one must neither complete checkpoints nor deploy anything more.
var errReplaced = errors.New("another JobManager has taken charge of the job")

// jobRecord is the job record (checkpointstore.Record) as this JobManager
// keeps it, shared by the loop and the IO worker. Every update checks, just
// before it writes, that the stored record is still this JobManager's — same
// epoch — and writes the newest state, under one lock, so that writes never
// go back and a JobManager that has been replaced (a second one started for
// the same job, a zombie that comes back from SIGSTOP or a partition) or
// whose checkpoint directory was swapped for another finds out at its next
// checkpoint instead of committing output beside the other. The check and
// the write are not atomic: two JobManagers that overlap may both complete
// one checkpoint before the older one sees the newer epoch.
type jobRecord struct {
	store *checkpointstore.Store
	mu    sync.Mutex
	rec   checkpointstore.Record
}

// get returns the record as last written or claimed.
func (r *jobRecord) get() checkpointstore.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rec
}

// claim writes rec as the new state of the job, taking charge of it.
func (r *jobRecord) claim(ctx context.Context, rec checkpointstore.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec.UpdatedUnixMilli = time.Now().UnixMilli()
	if err := r.store.WriteRecord(ctx, &rec); err != nil {
		return err
	}
	r.rec = rec
	return nil
}

// update applies f to the record and writes it, if the stored record is
// still this JobManager's. An error wrapping errReplaced means it is not.
func (r *jobRecord) update(ctx context.Context, f func(*checkpointstore.Record)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, err := r.store.ReadRecord(ctx)
	switch {
	case err != nil:
		return err
	case cur == nil:
		return fmt.Errorf("the job record %s is gone: is state.checkpoints.dir the same directory as at start?", r.store.RecordPath())
	case cur.Epoch > r.rec.Epoch:
		return fmt.Errorf("%w: the job record has epoch %d, this JobManager %d", errReplaced, cur.Epoch, r.rec.Epoch)
	}
	// A lower epoch is a replaced JobManager's late write: this one, the
	// newer, writes over it.
	next := r.rec
	f(&next)
	next.UpdatedUnixMilli = time.Now().UnixMilli()
	if err := r.store.WriteRecord(ctx, &next); err != nil {
		return err
	}
	r.rec = next
	return nil
}
