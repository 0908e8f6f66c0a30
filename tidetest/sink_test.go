package tidetest

import (
	"context"
	"slices"
	"testing"
)

type fakeSinkContext struct{}

func (fakeSinkContext) JobID() string              { return "job" }
func (fakeSinkContext) Subtask() int               { return 0 }
func (fakeSinkContext) Parallelism() int           { return 1 }
func (fakeSinkContext) Attempt() uint64            { return 1 }
func (fakeSinkContext) RestoredCheckpoint() uint64 { return 0 }

func openWriter(t *testing.T, s *Sink[int], restored [][]byte) *sinkWriter[int] {
	t.Helper()
	w := &sinkWriter[int]{s: s}
	if err := w.Open(context.Background(), fakeSinkContext{}, restored); err != nil {
		t.Fatalf("open: %v", err)
	}
	return w
}

func write(t *testing.T, w *sinkWriter[int], vs ...int) {
	t.Helper()
	for _, v := range vs {
		if err := w.Write(context.Background(), v); err != nil {
			t.Fatal(err)
		}
	}
}

func preCommit(t *testing.T, w *sinkWriter[int], cp uint64) [][]byte {
	t.Helper()
	st, err := w.PreCommit(context.Background(), cp)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func wantValues(t *testing.T, s *Sink[int], want ...int) {
	t.Helper()
	if got := s.Values(); !slices.Equal(got, want) {
		t.Fatalf("values %v, want %v", got, want)
	}
}

func TestSinkCommitsOnCompletion(t *testing.T) {
	s := NewSink[int]()
	w := openWriter(t, s, nil)
	write(t, w, 1, 2)
	preCommit(t, w, 1)
	write(t, w, 3)
	wantValues(t, s)
	if err := w.Commit(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	wantValues(t, s, 1, 2)
	preCommit(t, w, 2)
	preCommit(t, w, 3) // empty
	if err := w.Commit(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	wantValues(t, s, 1, 2, 3)
	if err := w.Commit(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	wantValues(t, s, 1, 2, 3)
}

func TestSinkRecoversPendingOnRestore(t *testing.T) {
	s := NewSink[int]()
	old := openWriter(t, s, nil)
	write(t, old, 1)
	preCommit(t, old, 1)
	write(t, old, 2)
	st := preCommit(t, old, 2) // names checkpoints 1 and 2
	write(t, old, 3)
	preCommit(t, old, 3) // never completes: not restored
	old.Close()

	// Restoring checkpoint 2 commits its transactions once, even when the
	// state is restored twice (a restore that failed and is retried).
	openWriter(t, s, st)
	openWriter(t, s, st)
	wantValues(t, s, 1, 2)
	// A late commit from the old writer changes nothing.
	if err := old.Commit(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	wantValues(t, s, 1, 2)
}

func TestSinkRejectsForeignState(t *testing.T) {
	st := preCommit(t, openWriter(t, NewSink[int](), nil), 1)
	w := &sinkWriter[int]{s: NewSink[int]()}
	if err := w.Open(context.Background(), fakeSinkContext{}, st); err == nil {
		t.Fatal("restoring another Sink's state succeeded")
	}
	if err := w.Open(context.Background(), fakeSinkContext{}, [][]byte{{1, 2, 3}}); err == nil {
		t.Fatal("restoring a truncated state succeeded")
	}
}
