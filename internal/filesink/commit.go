package filesink

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// commitPart makes the part name visible in dir by renaming it from
// dir/.inprogress. It reports whether it renamed; a part that is already
// committed is not an error. A part that is neither pending nor committed is,
// and so is one that is both, which only a name clash can cause, because the
// rename is atomic.
func commitPart(dir, name string) (renamed bool, err error) {
	src := filepath.Join(dir, inProgressDir, name)
	dst := filepath.Join(dir, name)
	srcOK, err := exists(src)
	if err != nil {
		return false, fmt.Errorf("commit part %s: %w", name, err)
	}
	dstOK, err := exists(dst)
	if err != nil {
		return false, fmt.Errorf("commit part %s: %w", name, err)
	}
	switch {
	case srcOK && dstOK:
		return false, fmt.Errorf("commit part %s: both %s and %s exist (name clash)", name, src, dst)
	case dstOK:
		return false, nil
	case !srcOK:
		return false, fmt.Errorf("commit part %s: neither pending (%s) nor committed (%s)", name, src, dst)
	}
	if err := os.Rename(src, dst); err != nil {
		// Another committer of the same part (a restored subtask and a
		// late Commit of the same attempt) may have won the race.
		if errors.Is(err, fs.ErrNotExist) {
			if ok, _ := exists(dst); ok {
				return false, nil
			}
		}
		return false, fmt.Errorf("commit part %s: %w", name, err)
	}
	return true, nil
}

// exists reports whether path exists, without following a final symlink.
func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}

// syncDir fsyncs a directory so that the entries created, renamed or removed
// in it are durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// syncDirs fsyncs both ends of a commit's renames: the output directory,
// where the parts appeared, and its .inprogress directory, where they left.
func syncDirs(dir string) error {
	return errors.Join(syncDir(dir), syncDir(filepath.Join(dir, inProgressDir)))
}

// RecoverAndCommit commits every part named in states, the restored entries
// of the sink's operator list state that were handed to this subtask. Those
// entries come from a completed checkpoint, so all their parts must become
// visible: a pending part is renamed, a committed one is fine, and a part
// that is neither is an error naming it. RecoverAndCommit is idempotent; it
// commits as much as it can and returns all errors joined.
//
// Call it before the restored subtask writes anything. It does not need a
// Writer, so a subtask that restores sink state at a different parallelism
// commits whatever share of the list it receives.
func RecoverAndCommit(dir string, states [][]byte) error {
	var errs []error
	seen := make(map[string]bool)
	renamed := 0
	for i, st := range states {
		parts, err := DecodeState(st)
		if err != nil {
			errs = append(errs, fmt.Errorf("file sink: recover state entry %d: %w", i, err))
			continue
		}
		for _, p := range parts {
			if seen[p.Name] {
				continue
			}
			seen[p.Name] = true
			ok, err := commitPart(dir, p.Name)
			if err != nil {
				errs = append(errs, fmt.Errorf("file sink: recover checkpoint %d: %w", p.Checkpoint, err))
				continue
			}
			if ok {
				renamed++
			}
		}
	}
	if renamed > 0 {
		if err := syncDirs(dir); err != nil {
			errs = append(errs, fmt.Errorf("file sink: recover: %w", err))
		}
	}
	return errors.Join(errs...)
}

// CleanStale deletes the part files in dir/.inprogress whose names are not
// in keep, and returns how many it deleted. Other files are left alone.
//
// It is for an operator or a tool, not for running subtasks: it must not run
// while a Writer of the job writes into dir, nor while a restore may still
// commit pending parts that keep does not list. Pass the parts named in the
// sink state of the checkpoint the job will restore from (see DecodeState).
// A running job removes the parts of older attempts itself (see Writer.Commit).
func CleanStale(dir string, keep map[string]bool) (int, error) {
	n, err := removeParts(dir, func(p partName) bool { return !keep[p.String()] })
	if err != nil {
		return n, fmt.Errorf("file sink: clean stale parts: %w", err)
	}
	return n, nil
}

// removeParts deletes the regular files in dir/.inprogress that have a
// canonical part name for which remove is true, and returns how many it
// deleted.
func removeParts(dir string, remove func(partName) bool) (int, error) {
	tmpDir := filepath.Join(dir, inProgressDir)
	entries, err := os.ReadDir(tmpDir)
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		p, err := parsePartName(e.Name())
		if err != nil || !remove(p) {
			continue
		}
		path := filepath.Join(tmpDir, e.Name())
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove part %s: %w", path, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
