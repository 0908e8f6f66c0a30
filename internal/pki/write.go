package pki

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// The modes of the files: keys and tokens are the owner's alone.
const (
	modeSecret os.FileMode = 0o600
	modePublic os.FileMode = 0o644
)

// writer writes files atomically, one after the other, and stops at the
// first error, which it keeps.
type writer struct {
	written []string
	dirs    []string
	err     error
}

// write replaces path with data, mode mode, through a temporary file in
// the same directory renamed over it: a reader sees the old file or the
// new one, never a part. The temporary file is made with mode 0600, so a
// key is never readable by others, even for a moment.
func (w *writer) write(path string, data []byte, mode os.FileMode) {
	if w.err != nil {
		return
	}
	if err := writeAtomic(path, data, mode); err != nil {
		w.err = fmt.Errorf("pki: write %s: %w", path, err)
		return
	}
	w.written = append(w.written, path)
	if d := filepath.Dir(path); !slices.Contains(w.dirs, d) {
		w.dirs = append(w.dirs, d)
	}
}

// syncDirs makes the renames durable.
func (w *writer) syncDirs() {
	for _, d := range w.dirs {
		if w.err != nil {
			return
		}
		if err := syncDir(d); err != nil {
			w.err = fmt.Errorf("pki: sync %s: %w", d, err)
		}
	}
}

func writeAtomic(path string, data []byte, mode os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
