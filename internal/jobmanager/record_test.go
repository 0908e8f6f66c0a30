package jobmanager

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpointstore"
)

// TestRecordFencesAReplacedJobManager: two JobManagers of one job. The
// second claims the job with a higher epoch; the first's next update fails
// with errReplaced and writes nothing, and a write of the first that lands
// late (after its check) changes nothing the second or a third reads.
func TestRecordFencesAReplacedJobManager(t *testing.T) {
	ctx := context.Background()
	st, store := memStore(t)
	a, b := &jobRecord{store: store}, &jobRecord{store: store}
	base := checkpointstore.Record{JobName: "j", Run: 1, FirstCheckpoint: 1, Epoch: 1, Owner: "a"}
	if err := a.claim(ctx, nil, base); err != nil {
		t.Fatal(err)
	}
	if err := a.update(ctx, func(r *checkpointstore.Record) { r.Completed = 3 }); err != nil {
		t.Fatal(err)
	}
	seen, _ := store.ReadRecord(ctx)
	next := *seen
	next.Epoch, next.Owner = 2, "b"
	if err := b.claim(ctx, seen, next); err != nil {
		t.Fatal(err)
	}
	err := a.update(ctx, func(r *checkpointstore.Record) { r.Completed = 4 })
	if !errors.Is(err, errReplaced) {
		t.Fatalf("update of the replaced JobManager = %v, want errReplaced", err)
	}
	// A late write of the old epoch (its check passed before b claimed).
	late := a.get()
	late.Seq, late.Completed = 9, 14
	if err := store.WriteRecord(ctx, &late); err != nil {
		t.Fatal(err)
	}
	if r, _ := store.ReadRecord(ctx); r.Completed != 3 || r.Epoch != 2 {
		t.Fatalf("record after the late write: %+v; want b's", r)
	}
	if err := b.update(ctx, func(r *checkpointstore.Record) { r.Completed = 5 }); err != nil {
		t.Fatal(err)
	}
	if r, _ := store.ReadRecord(ctx); r.Completed != 5 || r.Epoch != 2 || r.Seq != 1 {
		t.Fatalf("record after b's update: %+v", r)
	}
	// Two JobManagers that claimed the same epoch tell each other apart.
	c := &jobRecord{store: store}
	c.rec = b.get()
	c.rec.Owner = "c"
	if err := c.update(ctx, func(*checkpointstore.Record) {}); !errors.Is(err, errReplaced) {
		t.Fatalf("update by another owner of the same epoch = %v, want errReplaced", err)
	}
	// A claim decided from a version that is no longer the newest refuses.
	d := &jobRecord{store: store}
	stale := *seen
	stale.Epoch = 3
	if err := d.claim(ctx, seen, stale); !errors.Is(err, errRecordChanged) {
		t.Fatalf("claim from a stale version = %v, want errRecordChanged", err)
	}
	// A record that is gone — the directory swapped for an empty one — is
	// no place to record a checkpoint in.
	keys, _ := st.List(ctx, store.RecordPath())
	for _, k := range keys {
		if err := st.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.update(ctx, func(r *checkpointstore.Record) { r.Completed = 6 }); err == nil {
		t.Fatal("update with the record gone succeeded")
	}
}

// TestTwoClaimsOfOneEpoch: two JobManagers that decided from the same
// version claim at once; the second write of the same version fails, and
// so does that claim.
func TestTwoClaimsOfOneEpoch(t *testing.T) {
	ctx := context.Background()
	_, store := memStore(t)
	a, b := &jobRecord{store: store}, &jobRecord{store: store}
	rec := checkpointstore.Record{JobName: "j", Run: 1, FirstCheckpoint: 1, Epoch: 1}
	rec.Owner = "a"
	if err := a.claim(ctx, nil, rec); err != nil {
		t.Fatal(err)
	}
	// b read "no record" before a claimed, and checks too late to see it —
	// the write itself must refuse.
	rec.Owner = "b"
	b.mu.Lock()
	rec.UpdatedUnixMilli = 1
	err := store.WriteRecord(ctx, &rec)
	b.mu.Unlock()
	if !errors.Is(err, blob.ErrExists) {
		t.Fatalf("the second write of epoch 1 version 0 = %v, want ErrExists", err)
	}
	if r, _ := store.ReadRecord(ctx); r.Owner != "a" {
		t.Fatalf("record owned by %q after the race, want a", r.Owner)
	}
}

// TestReplacedJobManagerDiscardsNothing: discards of a JobManager that no
// longer has charge of the job are skipped — its checkpoint ids may be the
// new JobManager's.
func TestReplacedJobManagerDiscardsNothing(t *testing.T) {
	ctx := context.Background()
	st, store := memStore(t)
	jm := &JobManager{io: newIOState(), events: make(chan event, 1), log: slog.New(slog.DiscardHandler),
		store: store, record: &jobRecord{store: store}}
	if err := jm.record.claim(ctx, nil, checkpointstore.Record{JobName: "j", Run: 1, FirstCheckpoint: 1, Epoch: 1, Owner: "old"}); err != nil {
		t.Fatal(err)
	}
	newer := checkpointstore.Record{JobName: "j", Run: 1, FirstCheckpoint: 1, Epoch: 2, Owner: "new"}
	if err := store.WriteRecord(ctx, &newer); err != nil {
		t.Fatal(err)
	}
	if err := st.Write(ctx, store.MetadataPath(3), []byte("the new JobManager's")); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { // owner: this test
		defer close(done)
		jm.ioWorker(ctx)
	}()
	jm.io.discardCheckpoint(3)
	jm.io.close()
	<-done
	if _, err := st.Read(ctx, store.MetadataPath(3)); err != nil {
		t.Fatalf("the replaced JobManager deleted checkpoint 3: %v", err)
	}
}

// memStore is the store of job "job" in fresh in-memory storage.
func memStore(t *testing.T) (blob.Storage, *checkpointstore.Store) {
	t.Helper()
	st, err := blob.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	return st, checkpointstore.New(st, "job", nil)
}
