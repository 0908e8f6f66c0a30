package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

var (
	_ DirRemover = (*bucket)(nil)
	_ DirRemover = (*FaultInjector)(nil)
	_ DirRemover = (*Logging)(nil)
)

// DirRemover is implemented by a Storage whose keys live in real
// directories (file://), where deleting the last object of a "directory"
// leaves the directory behind: gocloud's fileblob creates directories on
// write and never removes them. Object stores have no directories and need
// nothing. Call it through RemoveEmptyDirs.
type DirRemover interface {
	// RemoveEmptyDirs removes the directories under prefix that hold no
	// file, deepest first, and prefix's own directory if it ends up empty.
	// Directories above prefix are left alone. prefix is a key prefix
	// ending in "/" ("job/chk-3/"). A directory that is not empty (an
	// object, or a temporary file of a write in flight) stays and is not
	// an error.
	RemoveEmptyDirs(ctx context.Context, prefix string) error
}

// RemoveEmptyDirs calls s's RemoveEmptyDirs if it has one (see DirRemover),
// and does nothing otherwise.
//
// A Write under prefix that runs at the same time may fail when its
// directory is removed between its creation and the write's temporary file;
// call it only for prefixes nobody writes to any more (a discarded
// checkpoint).
func RemoveEmptyDirs(ctx context.Context, s Storage, prefix string) error {
	if d, ok := s.(DirRemover); ok {
		return d.RemoveEmptyDirs(ctx, prefix)
	}
	return nil
}

// fileRoot returns the absolute directory of a file:// URL, as fileblob's
// URL opener computes it.
func fileRoot(u *url.URL) (string, error) {
	p := u.Path
	if u.Host == "." || os.PathSeparator != '/' {
		p = strings.TrimPrefix(p, "/")
	}
	return filepath.Abs(filepath.FromSlash(p))
}

// RemoveEmptyDirs implements DirRemover for file:// buckets; for other
// drivers it does nothing.
func (s *bucket) RemoveEmptyDirs(ctx context.Context, prefix string) error {
	if s.root == "" {
		return nil
	}
	rel := strings.TrimSuffix(prefix, "/")
	// Only plain prefixes map to a path unchanged; fileblob escapes the
	// others, and a prefix that is not plain never names a checkpoint
	// directory.
	if rel == "" || path.Clean(rel) != rel || strings.HasPrefix(rel, "../") || rel == ".." ||
		strings.HasPrefix(rel, "/") || strings.ContainsFunc(rel, func(r rune) bool { return r < 32 || r == '\\' }) {
		return fmt.Errorf("blob: remove empty directories under %q in %s: not a plain directory prefix", prefix, s.url)
	}
	top := filepath.Join(s.root, filepath.FromSlash(rel))
	var dirs []string
	err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return ctx.Err()
	})
	if errors.Is(err, fs.ErrNotExist) && len(dirs) == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("blob: remove empty directories under %q in %s: %w", prefix, s.url, err)
	}
	// WalkDir visits a directory before its children: removing in reverse
	// removes children first.
	var errs []error
	for _, d := range slices.Backward(dirs) {
		err := os.Remove(d)
		if err == nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			continue
		}
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("blob: remove empty directories under %q in %s: %w", prefix, s.url, errors.Join(errs...))
	}
	return nil
}

// RemoveEmptyDirs implements DirRemover by passing the call on; an
// injected fault does not apply to it.
func (f *FaultInjector) RemoveEmptyDirs(ctx context.Context, prefix string) error {
	return RemoveEmptyDirs(ctx, f.s, prefix)
}

// RemoveEmptyDirs implements DirRemover by passing the call on.
func (l *Logging) RemoveEmptyDirs(ctx context.Context, prefix string) error {
	start := time.Now()
	err := RemoveEmptyDirs(ctx, l.s, prefix)
	l.log(ctx, "remove empty directories", prefix, start, err)
	return err
}
