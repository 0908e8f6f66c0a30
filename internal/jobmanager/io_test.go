package jobmanager

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/checkpointstore"
)

// stalledStorage blocks every Delete until released, as a slow store does,
// and counts the metadata objects deleted.
type stalledStorage struct {
	blob.Storage
	release chan struct{}
	mu      sync.Mutex
	deleted map[string]bool
}

func (s *stalledStorage) Delete(ctx context.Context, key string) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	if strings.HasSuffix(key, "/"+checkpointstore.MetadataName) {
		s.deleted[key] = true
	}
	s.mu.Unlock()
	return s.Storage.Delete(ctx, key)
}

// TestDiscardsAreNeverDropped asks for many more discards than any queue
// would hold while the store is stalled: every one of them is done once it
// recovers (a lost discard leaks a checkpoint's files for good), and the
// job record asked for last is written before the worker stops.
func TestDiscardsAreNeverDropped(t *testing.T) {
	mem, err := blob.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	st := &stalledStorage{Storage: mem, release: make(chan struct{}), deleted: map[string]bool{}}
	store := checkpointstore.New(st, "job", nil)
	jm := &JobManager{io: newIOState(), events: make(chan event, 1), log: slog.New(slog.DiscardHandler),
		store: store, record: &jobRecord{store: store}}
	if err := jm.record.claim(context.Background(), nil, checkpointstore.Record{JobName: "j", Run: 1, FirstCheckpoint: 1, Epoch: 1}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { // owner: this test, which closes jm.io and waits for done
		defer close(done)
		jm.ioWorker(context.Background())
	}()
	const n = 500
	for id := checkpoint.ID(1); id <= n; id++ {
		jm.io.discardCheckpoint(id)
	}
	jm.io.discardCheckpoint(7) // asked twice, done once
	jm.io.endRun(runEnd{result: "FINISHED", reason: "test"})
	close(st.release)
	jm.io.close()
	<-done
	if len(st.deleted) != n {
		t.Fatalf("%d of %d discarded checkpoints deleted", len(st.deleted), n)
	}
	got, err := jm.store.ReadRecord(context.Background())
	if err != nil || got == nil || got.Result != "FINISHED" {
		t.Fatalf("job record after the worker stopped: %+v, %v", got, err)
	}
}
