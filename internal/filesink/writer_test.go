package filesink

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// visibleLines returns the lines of every visible (non-dot) file in dir,
// sorted, as a reader of the sink's output sees them.
func visibleLines(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if err := errors.Join(sc.Err(), f.Close()); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(lines)
	return lines
}

func newWriter(t *testing.T, dir string, subtask int, attempt uint64) *Writer {
	t.Helper()
	w, err := NewWriter(Config{Dir: dir, Subtask: subtask, Attempt: attempt})
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	return w
}

func write(t *testing.T, w *Writer, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if err := w.Write([]byte(l)); err != nil {
			t.Fatalf("Write(%q): %v", l, err)
		}
	}
}

func preCommit(t *testing.T, w *Writer, cp uint64) []byte {
	t.Helper()
	st, err := w.PreCommit(cp)
	if err != nil {
		t.Fatalf("PreCommit(%d): %v", cp, err)
	}
	return st
}

func commit(t *testing.T, w *Writer, cp uint64) {
	t.Helper()
	if err := w.Commit(cp); err != nil {
		t.Fatalf("Commit(%d): %v", cp, err)
	}
}

func checkVisible(t *testing.T, dir string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if diff := cmp.Diff(want, visibleLines(t, dir), cmpEmptyStrings); diff != "" {
		t.Errorf("visible lines (-want +got):\n%s", diff)
	}
}

var cmpEmptyStrings = cmp.FilterValues(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())

func TestWriterCommitCycle(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(t, dir, 0, 1)
	write(t, w, "a", "b")
	checkVisible(t, dir)
	st := preCommit(t, w, 1)
	checkVisible(t, dir) // pending is not visible
	parts, err := DecodeState(st)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Pending{{Name: "part-1-0-0", Checkpoint: 1}}, parts); diff != "" {
		t.Errorf("state after PreCommit(1) (-want +got):\n%s", diff)
	}
	commit(t, w, 1)
	checkVisible(t, dir, "a", "b")
	commit(t, w, 1) // idempotent
	checkVisible(t, dir, "a", "b")

	// A checkpoint with no records creates no part.
	st = preCommit(t, w, 2)
	if parts, _ := DecodeState(st); len(parts) != 0 {
		t.Errorf("state after empty checkpoint = %v, want none", parts)
	}
	commit(t, w, 2)
	if n := len(visibleLines(t, dir)); n != 2 {
		t.Errorf("%d visible lines after empty checkpoint, want 2", n)
	}
}

func TestPreCommitListsAllPending(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(t, dir, 2, 5)
	write(t, w, "x")
	preCommit(t, w, 3)
	write(t, w, "y")
	st := preCommit(t, w, 4) // checkpoint 3 not yet notified
	parts, err := DecodeState(st)
	if err != nil {
		t.Fatal(err)
	}
	want := []Pending{{Name: "part-5-2-0", Checkpoint: 3}, {Name: "part-5-2-1", Checkpoint: 4}}
	if diff := cmp.Diff(want, parts); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	// Completing checkpoint 4 commits checkpoint 3's part too (3 may have
	// failed; every record before barrier 4 belongs to checkpoint 4).
	commit(t, w, 4)
	checkVisible(t, dir, "x", "y")
	if p := w.Pending(); len(p) != 0 {
		t.Errorf("Pending() = %v after Commit(4), want none", p)
	}
}

func TestPreCommitRejectsOldCheckpoint(t *testing.T) {
	w := newWriter(t, t.TempDir(), 0, 0)
	preCommit(t, w, 5)
	for _, cp := range []uint64{5, 4} {
		if _, err := w.PreCommit(cp); err == nil {
			t.Errorf("PreCommit(%d) after PreCommit(5) succeeded, want an error", cp)
		}
	}
}

// TestCrashAndRecover is the end-to-end protocol: checkpoint 1 completes and
// is committed, checkpoint 2 is pre-committed but the attempt crashes before
// the commit notification. Which of its lines become visible depends only on
// the checkpoint the next attempt restores.
func TestCrashAndRecover(t *testing.T) {
	setup := func(t *testing.T, commit1 bool) (dir string, st1, st2 []byte) {
		dir = t.TempDir()
		w := newWriter(t, dir, 0, 1)
		write(t, w, "c1-a", "c1-b")
		st1 = preCommit(t, w, 1)
		if commit1 {
			commit(t, w, 1)
		}
		write(t, w, "c2-a")
		st2 = preCommit(t, w, 2)
		write(t, w, "after-2") // in progress when the attempt dies
		return dir, st1, st2   // crash: no Commit(2), no Abort
	}
	for _, commit1 := range []bool{true, false} {
		t.Run(fmt.Sprintf("restore checkpoint 1, committed before crash %v", commit1), func(t *testing.T) {
			dir, st1, _ := setup(t, commit1)
			for range 2 { // idempotent
				if err := RecoverAndCommit(dir, [][]byte{st1}); err != nil {
					t.Fatalf("RecoverAndCommit: %v", err)
				}
				checkVisible(t, dir, "c1-a", "c1-b")
			}
			// The next attempt replays from checkpoint 1 and never clashes.
			w := newWriter(t, dir, 0, 2)
			write(t, w, "c2-a")
			preCommit(t, w, 2)
			commit(t, w, 2)
			checkVisible(t, dir, "c1-a", "c1-b", "c2-a")
		})
		t.Run(fmt.Sprintf("restore checkpoint 2, committed before crash %v", commit1), func(t *testing.T) {
			dir, _, st2 := setup(t, commit1)
			for range 2 {
				if err := RecoverAndCommit(dir, [][]byte{st2}); err != nil {
					t.Fatalf("RecoverAndCommit: %v", err)
				}
				checkVisible(t, dir, "c1-a", "c1-b", "c2-a")
			}
		})
	}
}

func TestAbortDeletesOnlyInProgress(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(t, dir, 0, 0)
	write(t, w, "pending")
	st := preCommit(t, w, 1)
	write(t, w, "lost")
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("second Abort: %v", err)
	}
	names := dirNames(t, filepath.Join(dir, inProgressDir))
	if diff := cmp.Diff([]string{"part-0-0-0"}, names); diff != "" {
		t.Errorf(".inprogress after Abort (-want +got):\n%s", diff)
	}
	if err := RecoverAndCommit(dir, [][]byte{st}); err != nil {
		t.Fatal(err)
	}
	checkVisible(t, dir, "pending")
}

func TestRollBySize(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(Config{Dir: dir, Attempt: 1, MaxPartBytes: 4})
	if err != nil {
		t.Fatal(err)
	}
	write(t, w, "aaa", "bb", "c", "d") // rolls after "aaa\n" and after "bb\nc\n"
	parts, err := DecodeState(preCommit(t, w, 1))
	if err != nil {
		t.Fatal(err)
	}
	want := []Pending{{"part-1-0-0", 1}, {"part-1-0-1", 1}, {"part-1-0-2", 1}}
	if diff := cmp.Diff(want, parts); diff != "" {
		t.Errorf("pending after rolls (-want +got):\n%s", diff)
	}
	write(t, w, "eeee", "f") // "eeee" rolls; "f" is in progress
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	commit(t, w, 1)
	checkVisible(t, dir, "aaa", "bb", "c", "d")
	if names := dirNames(t, filepath.Join(dir, inProgressDir)); len(names) != 0 {
		t.Errorf(".inprogress after Abort and Commit = %v, want empty", names)
	}
}

func TestNamesSkipExisting(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(t, dir, 0, 7)
	write(t, w, "first")
	preCommit(t, w, 1)
	commit(t, w, 1)
	// A restart that reuses attempt 7 must not overwrite part-7-0-0.
	w2 := newWriter(t, dir, 0, 7)
	write(t, w2, "second")
	parts, err := DecodeState(preCommit(t, w2, 2))
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 || parts[0].Name != "part-7-0-1" {
		t.Fatalf("pending = %v, want part-7-0-1", parts)
	}
	commit(t, w2, 2)
	checkVisible(t, dir, "first", "second")
}

func TestNewWriterErrors(t *testing.T) {
	if _, err := NewWriter(Config{Subtask: -1}); err == nil ||
		!strings.Contains(err.Error(), "Dir is empty") || !strings.Contains(err.Error(), "Subtask -1") {
		t.Errorf("NewWriter(bad config) error = %v, want both problems named", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewWriter(Config{Dir: file}); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("NewWriter(dir is a file) error = %v, want it to name %s", err, file)
	}
	if os.Geteuid() != 0 { // root may write anywhere
		ro := filepath.Join(t.TempDir(), "ro")
		if err := os.MkdirAll(filepath.Join(ro, inProgressDir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(ro, 0o755) })
		if _, err := NewWriter(Config{Dir: ro}); err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Errorf("NewWriter(read-only dir) error = %v, want 'not writable'", err)
		}
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
