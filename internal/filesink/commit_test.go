package filesink

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRecoverAndCommitErrors(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(t, dir, 1, 3)
	write(t, w, "kept")
	st := preCommit(t, w, 1)
	missing := encodeState([]Pending{{Name: "part-2-1-9", Checkpoint: 1}})

	err := RecoverAndCommit(dir, [][]byte{missing, {1, 2, 3}, st})
	if err == nil {
		t.Fatal("RecoverAndCommit succeeded, want errors")
	}
	for _, want := range []string{"part-2-1-9", "neither pending", "state entry 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	// The good entry was committed despite the bad ones.
	checkVisible(t, dir, "kept")
}

func TestCommitNameClash(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(t, dir, 0, 0)
	write(t, w, "x")
	preCommit(t, w, 1)
	if err := os.WriteFile(filepath.Join(dir, "part-0-0-0"), []byte("other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(1); err == nil || !strings.Contains(err.Error(), "name clash") {
		t.Fatalf("Commit with a clashing committed file: error = %v, want a name clash", err)
	}
	if len(w.Pending()) != 1 {
		t.Errorf("Pending() = %v after a failed commit, want the part kept", w.Pending())
	}
}

func TestCleanStale(t *testing.T) {
	dir := t.TempDir()
	old := newWriter(t, dir, 0, 1)
	write(t, old, "committed")
	st := preCommit(t, old, 1)
	write(t, old, "stale")
	preCommit(t, old, 2) // never completes
	write(t, old, "stale too")
	// Attempt 1 dies; attempt 2 restores checkpoint 1 and is stopped later.
	if err := RecoverAndCommit(dir, [][]byte{st}); err != nil {
		t.Fatal(err)
	}
	cur := newWriter(t, dir, 0, 2)
	write(t, cur, "pending")
	st2 := preCommit(t, cur, 2)
	if err := os.WriteFile(filepath.Join(dir, inProgressDir, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	parts, err := DecodeState(st2)
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]bool{}
	for _, p := range parts {
		keep[p.Name] = true
	}
	n, err := CleanStale(dir, keep)
	if err != nil {
		t.Fatalf("CleanStale: %v", err)
	}
	if n != 2 {
		t.Errorf("CleanStale deleted %d parts, want 2", n)
	}
	got := dirNames(t, filepath.Join(dir, inProgressDir))
	want := []string{"notes.txt", "part-2-0-0"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf(".inprogress after CleanStale = %v, want %v", got, want)
	}
	if err := RecoverAndCommit(dir, [][]byte{st2}); err != nil {
		t.Fatal(err)
	}
	checkVisible(t, dir, "committed", "pending")
}
