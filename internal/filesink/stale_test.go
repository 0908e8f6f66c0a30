package filesink

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// committedFiles returns the committed parts of dir with their contents.
func committedFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range dirNames(t, dir) {
		if strings.HasPrefix(name, ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(b)
	}
	return out
}

// TestStalePartsRemovedAfterRestore: attempt 1 runs three subtasks and dies
// with parts pending for a checkpoint that never completed and parts in
// progress (a killed process runs no Abort). Attempt 2 restores checkpoint 2
// at parallelism 2, so subtask 0 restores the lists of old subtasks 0 and 1.
// Once attempt 2's first checkpoint completes, subtask 0 removes every part
// of attempt 1 left in .inprogress, and nothing else; the output is every
// line exactly once.
func TestStalePartsRemovedAfterRestore(t *testing.T) {
	dir := t.TempDir()
	var st2 [3][]byte
	for i := range 3 {
		w, err := NewWriter(Config{Dir: dir, Subtask: i, Attempt: 1, MaxPartBytes: 16})
		if err != nil {
			t.Fatal(err)
		}
		s := string(rune('a' + i))
		write(t, w, s+"1")
		preCommit(t, w, 1)
		if i != 2 {
			commit(t, w, 1) // subtask 2 never heard of it
		}
		write(t, w, s+"2")
		st2[i] = preCommit(t, w, 2) // completes; nobody is notified
		write(t, w, s+"3")
		preCommit(t, w, 3)                       // never completes
		write(t, w, s+"4-rolled-by-size", s+"4") // a rolled part and one in progress
	}
	// Attempt 1 is killed. A part of a newer attempt (this one is a stale
	// survivor's view) and a file that is no part must survive the clean-up.
	for _, name := range []string{"part-3-0-0", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, inProgressDir, name), []byte("keep\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Attempt 2: subtask 0 recovers and opens first, and hears of the
	// restored checkpoint 2 before subtask 1 recovered: that is no checkpoint
	// of this attempt and must not start the clean-up.
	if err := RecoverAndCommit(dir, [][]byte{st2[0], st2[1]}); err != nil {
		t.Fatal(err)
	}
	w0 := newWriter(t, dir, 0, 2)
	commit(t, w0, 2)
	if err := RecoverAndCommit(dir, [][]byte{st2[2]}); err != nil {
		t.Fatalf("subtask 1 of attempt 2 recovers after subtask 0's Commit(2): %v", err)
	}
	w1 := newWriter(t, dir, 1, 2)
	// Both replay what followed checkpoint 2.
	write(t, w0, "a3", "a4-rolled-by-size", "a4", "b3", "b4-rolled-by-size", "b4")
	write(t, w1, "c3", "c4-rolled-by-size", "c4")
	preCommit(t, w0, 4)
	preCommit(t, w1, 4)
	write(t, w1, "c5") // attempt 2's own part in progress: not stale
	before := committedFiles(t, dir)

	commit(t, w1, 4) // subtask 1 cleans nothing
	if names := dirNames(t, filepath.Join(dir, inProgressDir)); !slices.Contains(names, "part-1-0-2") {
		t.Fatalf("subtask 1's Commit removed another subtask's stale parts: %v", names)
	}
	commit(t, w0, 4)

	got := dirNames(t, filepath.Join(dir, inProgressDir))
	want := []string{"notes.txt", "part-2-1-1", "part-3-0-0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf(".inprogress after attempt 2's first completed checkpoint (-want +got):\n%s", diff)
	}
	after := committedFiles(t, dir)
	for name, content := range before {
		if after[name] != content {
			t.Errorf("committed part %s changed: %q, was %q", name, after[name], content)
		}
	}
	checkVisible(t, dir,
		"a1", "a2", "a3", "a4-rolled-by-size", "a4",
		"b1", "b2", "b3", "b4-rolled-by-size", "b4",
		"c1", "c2", "c3", "c4-rolled-by-size", "c4")
}
