package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// openAll returns a fresh Storage for every driver this package links in.
func openAll(t *testing.T) map[string]Storage {
	t.Helper()
	ctx := context.Background()
	out := map[string]Storage{}
	for name, u := range map[string]string{
		"mem":  "mem://",
		"file": "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "not", "yet", "there")),
	} {
		s, err := Open(ctx, u)
		if err != nil {
			t.Fatalf("Open(%q): %v", u, err)
		}
		t.Cleanup(func() { _ = s.Close() })
		out[name] = s
	}
	shared, err := Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = shared.Close() })
	h, err := Share(shared)(ctx, "ignored://")
	if err != nil {
		t.Fatal(err)
	}
	out["shared"] = h
	return out
}

// TestShare checks that handles of a shared store see each other's writes
// and that closing one leaves the others, and the store, open.
func TestShare(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	open := Share(s)
	a, _ := open(ctx, "mem://x")
	b, _ := open(ctx, "mem://y")
	if err := a.Write(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Read(ctx, "k"); err != nil || string(got) != "v" {
		t.Fatalf("the other handle reads %q, %v after one closed", got, err)
	}
	if _, err := a.Read(ctx, "k"); !errors.Is(err, ErrHandleClosed) {
		t.Errorf("read on a closed handle: %v, want ErrHandleClosed", err)
	}
	if err := a.Close(); !errors.Is(err, ErrHandleClosed) {
		t.Errorf("second Close: %v, want ErrHandleClosed", err)
	}
	if OpenerOr(nil) == nil || OpenerOr(open) == nil {
		t.Errorf("OpenerOr returned nil")
	}
}

func TestStorageContract(t *testing.T) {
	ctx := context.Background()
	for name, s := range openAll(t) {
		t.Run(name, func(t *testing.T) {
			if err := s.Write(ctx, "job/chk-2/a", []byte("0123456789")); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, "job/chk-1/_metadata", []byte("m")); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, "other/x", nil); err != nil {
				t.Fatal(err)
			}
			got, err := s.Read(ctx, "job/chk-2/a")
			if err != nil || string(got) != "0123456789" {
				t.Fatalf("Read = %q, %v", got, err)
			}
			for _, tc := range []struct {
				off, n int64
				want   string
			}{{0, 3, "012"}, {7, 3, "789"}, {4, -1, "456789"}, {10, 0, ""}} {
				got, err := s.ReadRange(ctx, "job/chk-2/a", tc.off, tc.n)
				if err != nil || string(got) != tc.want {
					t.Errorf("ReadRange(%d,%d) = %q, %v; want %q", tc.off, tc.n, got, err, tc.want)
				}
			}
			if _, err := s.ReadRange(ctx, "job/chk-2/a", 8, 5); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("short ReadRange: err = %v, want ErrUnexpectedEOF", err)
			}
			keys, err := s.List(ctx, "job/")
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"job/chk-1/_metadata", "job/chk-2/a"}; !slices.Equal(keys, want) {
				t.Fatalf("List = %q, want %q", keys, want)
			}
			_, err = s.Read(ctx, "job/missing")
			if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "job/missing") {
				t.Fatalf("Read(missing) = %v, want ErrNotFound naming the key", err)
			}
			if _, err := s.ReadRange(ctx, "job/missing", 0, 1); !errors.Is(err, ErrNotFound) {
				t.Fatalf("ReadRange(missing) = %v, want ErrNotFound", err)
			}
			if err := s.Delete(ctx, "job/chk-2/a"); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(ctx, "job/chk-2/a"); err != nil {
				t.Fatalf("Delete(missing) = %v, want nil", err)
			}
			keys, _ = s.List(ctx, "")
			if want := []string{"job/chk-1/_metadata", "other/x"}; !slices.Equal(keys, want) {
				t.Fatalf("List after delete = %q, want %q", keys, want)
			}
			// Overwrite replaces the whole object.
			if err := s.Write(ctx, "other/x", []byte("new")); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.Read(ctx, "other/x"); string(got) != "new" {
				t.Fatalf("after overwrite: %q", got)
			}
		})
	}
}

// TestFileHidesSideFiles checks that file:// writes no .attrs files and that
// List hides fileblob's temporary files left behind by a crash.
func TestFileHidesSideFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, "file://"+filepath.ToSlash(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(ctx, "a/b", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "c.17f3a0b2c.tmp"), []byte("torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".attrs") {
			t.Errorf("side file %s written", e.Name())
		}
	}
	keys, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"a/b"}) {
		t.Fatalf("List = %q", keys)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"nosuch://bucket", "file:///tmp/x?bogus=1", "::"} {
		if s, err := Open(ctx, u); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}

func TestFaultInjector(t *testing.T) {
	ctx := context.Background()
	mem, err := Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	f := NewFaultInjector(mem)
	defer f.Close()

	boom := errors.New("boom")
	f.FailNextWrite("job/chk-1/", boom)
	if err := f.Write(ctx, "job/chk-2/x", []byte("ok")); err != nil {
		t.Fatalf("unmatched write failed: %v", err)
	}
	if err := f.Write(ctx, "job/chk-1/x", []byte("abc")); !errors.Is(err, boom) || !strings.Contains(err.Error(), "job/chk-1/x") {
		t.Fatalf("matched write: err = %v", err)
	}
	if _, err := mem.Read(ctx, "job/chk-1/x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("failed write stored data: %v", err)
	}
	if err := f.Write(ctx, "job/chk-1/x", []byte("abc")); err != nil {
		t.Fatalf("fault not consumed: %v", err)
	}

	f.FailNextRead("job/", nil)
	if n := f.Pending(); n != 1 {
		t.Fatalf("Pending = %d with one fault armed", n)
	}
	if _, err := f.Read(ctx, "job/chk-1/x"); !errors.Is(err, ErrInjected) {
		t.Fatalf("read: err = %v, want ErrInjected", err)
	}
	if got, err := f.Read(ctx, "job/chk-1/x"); err != nil || string(got) != "abc" {
		t.Fatalf("read after fault: %q, %v", got, err)
	}
	if n := f.Pending(); n != 0 {
		t.Fatalf("Pending = %d after the one-off fault fired", n)
	}

	f.CorruptReads("job/chk-1/")
	for range 2 {
		got, err := f.Read(ctx, "job/chk-1/x")
		if err != nil || bytes.Equal(got, []byte("abc")) || len(got) != 3 {
			t.Fatalf("corrupt read: %q, %v", got, err)
		}
		got, err = f.ReadRange(ctx, "job/chk-1/x", 1, 2)
		if err != nil || string(got) == "bc" {
			t.Fatalf("corrupt range read: %q, %v", got, err)
		}
	}
	if got, _ := mem.Read(ctx, "job/chk-1/x"); string(got) != "abc" {
		t.Fatalf("corrupt read damaged the stored object: %q", got)
	}
	f.Reset()
	if got, _ := f.Read(ctx, "job/chk-1/x"); string(got) != "abc" {
		t.Fatalf("after Reset: %q", got)
	}

	f.Inject(Fault{Ops: OpWrite, Prefix: "c", Corrupt: true, Times: 1})
	if err := f.Write(ctx, "c", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if got, _ := mem.Read(ctx, "c"); string(got) == "hello" {
		t.Fatal("corrupt write stored intact data")
	}

	f.Inject(Fault{Ops: OpList | OpDelete, Times: 2})
	if _, err := f.List(ctx, ""); !errors.Is(err, ErrInjected) {
		t.Fatalf("list: %v", err)
	}
	if err := f.Delete(ctx, "c"); !errors.Is(err, ErrInjected) {
		t.Fatalf("delete: %v", err)
	}
	if err := f.Delete(ctx, "c"); err != nil {
		t.Fatalf("delete after faults used up: %v", err)
	}
}

func TestLoggingCountsBytes(t *testing.T) {
	ctx := context.Background()
	mem, err := Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	l := NewLogging(mem, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer l.Close()
	if err := l.Write(ctx, "k", []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Read(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ReadRange(ctx, "k", 2, 3); err != nil {
		t.Fatal(err)
	}
	_, _ = l.Read(ctx, "missing")
	if got := l.BytesRead(); got != 13 {
		t.Errorf("BytesRead = %d, want 13", got)
	}
	if got := l.BytesWritten(); got != 10 {
		t.Errorf("BytesWritten = %d, want 10", got)
	}
	for _, want := range []string{`msg="blob write" bytes=10 key=k`, `msg="blob read range"`, "key=missing"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestRemoveEmptyDirs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file, err := Open(ctx, "file://"+filepath.ToSlash(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	mem, err := Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	for name, s := range map[string]Storage{
		"file": file, "mem": mem,
		"fault(file)":   NewFaultInjector(file),
		"logging(file)": NewLogging(file, nil),
	} {
		t.Run(name, func(t *testing.T) {
			for _, k := range []string{"job/chk-3/a", "job/chk-3/sub/b", "job/chk-4/c", "job/chk-5/d"} {
				if err := s.Write(ctx, k, []byte("x")); err != nil {
					t.Fatal(err)
				}
			}
			for _, k := range []string{"job/chk-3/a", "job/chk-3/sub/b", "job/chk-4/c"} {
				if err := s.Delete(ctx, k); err != nil {
					t.Fatal(err)
				}
			}
			for _, p := range []string{"job/chk-3/", "job/chk-4/", "job/chk-5/", "job/chk-6/"} {
				if err := RemoveEmptyDirs(ctx, s, p); err != nil {
					t.Errorf("RemoveEmptyDirs(%q): %v", p, err)
				}
			}
			keys, err := s.List(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(keys, []string{"job/chk-5/d"}) {
				t.Errorf("List = %q, want only job/chk-5/d", keys)
			}
			if !strings.Contains(name, "file") {
				return
			}
			var left []string
			if err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					left = append(left, filepath.ToSlash(rel))
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if want := []string{".", "job", "job/chk-5"}; !slices.Equal(left, want) {
				t.Errorf("directories left %q, want %q", left, want)
			}
			if err := s.Delete(ctx, "job/chk-5/d"); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"", "../", "job/../x/", "job//chk-5/"} {
				if err := RemoveEmptyDirs(ctx, s, p); err == nil {
					t.Errorf("RemoveEmptyDirs(%q) succeeded, want an error", p)
				}
			}
		})
	}
}

func TestWriteNew(t *testing.T) {
	ctx := context.Background()
	for name, s := range openAll(t) {
		t.Run(name, func(t *testing.T) {
			if err := s.WriteNew(ctx, "a/meta", []byte("first")); err != nil {
				t.Fatal(err)
			}
			if err := s.WriteNew(ctx, "a/meta", []byte("second")); !errors.Is(err, ErrExists) {
				t.Fatalf("WriteNew over an object = %v, want ErrExists", err)
			}
			if b, err := s.Read(ctx, "a/meta"); err != nil || string(b) != "first" {
				t.Fatalf("Read = %q, %v; the first write must stay", b, err)
			}
		})
	}
}

// TestReadRangeRefusesLengthBeyondObject: the length of a range read
// comes from checkpoint metadata; one the object cannot hold is refused
// before a buffer of that length is allocated.
func TestReadRangeRefusesLengthBeyondObject(t *testing.T) {
	ctx := context.Background()
	for name, s := range openAll(t) {
		t.Run(name, func(t *testing.T) {
			if err := s.Write(ctx, "job/chk-1/a", []byte("0123456789")); err != nil {
				t.Fatal(err)
			}
			// An offset beyond the object may fail in the driver already (file://
			// cannot seek there); any error will do then.
			for _, tc := range []struct {
				off, n int64
				eof    bool
			}{{0, 256 << 20, true}, {5, 1<<63 - 1, true}, {11, 0, true}, {1<<63 - 1, 1, false}} {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, err := s.ReadRange(ctx, "job/chk-1/a", tc.off, tc.n)
				runtime.ReadMemStats(&after)
				if err == nil || (tc.eof && !errors.Is(err, io.ErrUnexpectedEOF)) {
					t.Errorf("ReadRange(%d, %d) of 10 bytes: %v, want ErrUnexpectedEOF", tc.off, tc.n, err)
				}
				if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
					t.Errorf("ReadRange(%d, %d) of 10 bytes allocated %d bytes", tc.off, tc.n, got)
				}
			}
		})
	}
}
