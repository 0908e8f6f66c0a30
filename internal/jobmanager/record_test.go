package jobmanager

import (
	"context"
	"errors"
	"testing"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpointstore"
)

// TestRecordFencesAReplacedJobManager: two JobManagers of one job. The
// second claims the job with a higher epoch; the first's next update fails
// with errReplaced and writes nothing, and a late write of the first (the
// window between its check and its write) is written over by the second.
func TestRecordFencesAReplacedJobManager(t *testing.T) {
	ctx := context.Background()
	st, err := blob.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	store := checkpointstore.New(st, "job", nil)
	a, b := &jobRecord{store: store}, &jobRecord{store: store}
	base := checkpointstore.Record{JobName: "j", Run: 1, FirstCheckpoint: 1}
	base.Epoch = 1
	if err := a.claim(ctx, base); err != nil {
		t.Fatal(err)
	}
	if err := a.update(ctx, func(r *checkpointstore.Record) { r.Completed = 3 }); err != nil {
		t.Fatal(err)
	}
	next := a.get()
	next.Epoch = 2
	if err := b.claim(ctx, next); err != nil {
		t.Fatal(err)
	}
	err = a.update(ctx, func(r *checkpointstore.Record) { r.Completed = 4 })
	if !errors.Is(err, errReplaced) {
		t.Fatalf("update of the replaced JobManager = %v, want errReplaced", err)
	}
	if r, _ := store.ReadRecord(ctx); r.Completed != 3 || r.Epoch != 2 {
		t.Fatalf("record after the refused update: %+v", r)
	}
	// A late write of the old epoch lands anyway; the new JobManager writes
	// over it at its next update.
	late := a.get()
	late.Completed = 9
	if err := store.WriteRecord(ctx, &late); err != nil {
		t.Fatal(err)
	}
	if err := b.update(ctx, func(r *checkpointstore.Record) { r.Completed = 5 }); err != nil {
		t.Fatal(err)
	}
	if r, _ := store.ReadRecord(ctx); r.Completed != 5 || r.Epoch != 2 {
		t.Fatalf("record after the new JobManager's update: %+v", r)
	}
	// A record that is gone — the directory swapped for an empty one — is
	// no place to record a checkpoint in.
	if err := st.Delete(ctx, store.RecordPath()); err != nil {
		t.Fatal(err)
	}
	if err := b.update(ctx, func(r *checkpointstore.Record) { r.Completed = 6 }); err == nil {
		t.Fatal("update with the record gone succeeded")
	}
}
