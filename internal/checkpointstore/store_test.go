package checkpointstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/keygroup"
)

// storages returns a fresh Storage per driver.
func storages(t *testing.T) map[string]blob.Storage {
	t.Helper()
	out := map[string]blob.Storage{}
	for name, u := range map[string]string{
		"mem":  "mem://",
		"file": "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "checkpoints")),
	} {
		s, err := blob.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		out[name] = s
	}
	return out
}

func meta(id checkpoint.ID) *checkpoint.Metadata {
	return &checkpoint.Metadata{
		JobID:          "job",
		CheckpointID:   id,
		Attempt:        1,
		MaxParallelism: 4,
		Operators: []checkpoint.OperatorState{{
			OperatorID:  "cnt",
			Parallelism: 1,
			Keyed: []checkpoint.KeyedHandle{{
				Path:    fmt.Sprintf("job/chk-%d/cnt-0", id),
				Range:   keygroup.Range{Start: 0, End: 3},
				Offsets: []int64{0, 1, 2, 3, 4},
				CRCs:    make([]uint32, 4),
			}},
		}},
	}
}

// writeCheckpoint writes a state object into chk-<id> and, if complete,
// the metadata after it, as the runtime does.
func writeCheckpoint(t *testing.T, st *Store, s blob.Storage, id checkpoint.ID, complete bool) {
	t.Helper()
	ctx := context.Background()
	if err := s.Write(ctx, st.Dir(id)+"cnt-0", []byte("abcd")); err != nil {
		t.Fatal(err)
	}
	if complete {
		path, err := st.WriteMetadata(ctx, meta(id))
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("job/chk-%d/_metadata", id); path != want {
			t.Fatalf("WriteMetadata path %q, want %q", path, want)
		}
	}
}

func newLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestWriteLoadLatest(t *testing.T) {
	ctx := context.Background()
	for name, s := range storages(t) {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			st := New(s, "job", newLogger(&logs))
			if m, path, err := st.Latest(ctx); m != nil || path != "" || err != nil {
				t.Fatalf("Latest of an empty store = %v, %q, %v", m, path, err)
			}
			if st.Dir(12) != "job/chk-12/" {
				t.Fatalf("Dir = %q", st.Dir(12))
			}
			for _, id := range []checkpoint.ID{2, 9, 10} {
				writeCheckpoint(t, st, s, id, true)
			}
			// Another job's checkpoint and a stray object are not ours.
			if _, err := New(s, "other", nil).WriteMetadata(ctx, &checkpoint.Metadata{JobID: "other", CheckpointID: 50, MaxParallelism: 1}); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, "job/chk-x/junk", []byte("x")); err != nil {
				t.Fatal(err)
			}

			m, path, err := st.Latest(ctx)
			if err != nil || path != "job/chk-10/_metadata" {
				t.Fatalf("Latest = %q, %v", path, err)
			}
			if diff := cmp.Diff(meta(10), m); diff != "" {
				t.Fatalf("Latest metadata (-want +got):\n%s", diff)
			}
			for _, p := range []string{"job/chk-9/_metadata", "job/chk-9/", "job/chk-9"} {
				m, err := st.Load(ctx, p)
				if err != nil || m.CheckpointID != 9 {
					t.Fatalf("Load(%q) = %v, %v", p, m, err)
				}
			}
			if _, err := st.Load(ctx, "job/chk-7"); !errors.Is(err, blob.ErrNotFound) || !strings.Contains(err.Error(), "job/chk-7") {
				t.Fatalf("Load(missing) = %v", err)
			}
			if _, err := st.WriteMetadata(ctx, &checkpoint.Metadata{JobID: "job"}); !errors.Is(err, checkpoint.ErrInvalid) {
				t.Fatalf("WriteMetadata(invalid) = %v", err)
			}
			if _, err := st.WriteMetadata(ctx, func() *checkpoint.Metadata { m := meta(3); m.JobID = "other"; return m }()); err == nil {
				t.Fatal("WriteMetadata of another job's metadata accepted")
			}
		})
	}
}

func TestTornAndCorruptSkipped(t *testing.T) {
	ctx := context.Background()
	for name, s := range storages(t) {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			fi := blob.NewFaultInjector(s)
			st := New(fi, "job", newLogger(&logs))
			writeCheckpoint(t, st, s, 3, true)
			writeCheckpoint(t, st, s, 4, true)  // corrupt below
			writeCheckpoint(t, st, s, 5, false) // torn: the JobManager died before the metadata
			fi.CorruptReads("job/chk-4/_metadata")

			m, path, err := st.Latest(ctx)
			if err != nil || m == nil || m.CheckpointID != 3 || path != "job/chk-3/_metadata" {
				t.Fatalf("Latest = %v, %q, %v", m, path, err)
			}
			for _, want := range []string{
				`level=WARN msg="skipping torn checkpoint: state objects without metadata" component=checkpointstore job=job checkpoint=5 dir=job/chk-5/ objects=1`,
				`level=WARN msg="skipping corrupt checkpoint" component=checkpointstore job=job checkpoint=4 dir=job/chk-4/ path=job/chk-4/_metadata err="decode checkpoint metadata: checkpoint: corrupt metadata: checksum mismatch`,
			} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("log lacks\n%s\nlog:\n%s", want, logs.String())
				}
			}
			if _, err := st.Load(ctx, "job/chk-4"); !errors.Is(err, checkpoint.ErrCorrupt) {
				t.Fatalf("Load(corrupt) = %v, want ErrCorrupt", err)
			}

			// A read that fails for another reason is an error, not a skip:
			// restoring an older checkpoint would make sinks emit twice.
			fi.Reset()
			boom := errors.New("connection reset")
			fi.FailNextRead("job/chk-4/_metadata", boom)
			if _, _, err := st.Latest(ctx); !errors.Is(err, boom) {
				t.Fatalf("Latest with a failing read = %v, want %v", err, boom)
			}
			fi.Inject(blob.Fault{Ops: blob.OpList, Times: 1})
			if _, _, err := st.Latest(ctx); !errors.Is(err, blob.ErrInjected) {
				t.Fatalf("Latest with a failing list = %v", err)
			}
		})
	}
}

// TestTornMetadataWrite covers a metadata object cut short (a store
// without atomic writes, or a damaged disk).
func TestTornMetadataWrite(t *testing.T) {
	ctx := context.Background()
	s := storages(t)["mem"]
	st := New(s, "job", nil)
	writeCheckpoint(t, st, s, 1, true)
	b, err := checkpoint.Encode(meta(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, st.MetadataPath(2), b[:len(b)/2]); err != nil {
		t.Fatal(err)
	}
	m, _, err := st.Latest(ctx)
	if err != nil || m.CheckpointID != 1 {
		t.Fatalf("Latest = %v, %v", m, err)
	}
}

func TestMisplacedMetadataSkipped(t *testing.T) {
	ctx := context.Background()
	s := storages(t)["mem"]
	var logs bytes.Buffer
	st := New(s, "job", newLogger(&logs))
	writeCheckpoint(t, st, s, 1, true)
	b, _ := checkpoint.Encode(meta(1))
	if err := s.Write(ctx, st.MetadataPath(8), b); err != nil { // chk-1's metadata copied into chk-8
		t.Fatal(err)
	}
	m, _, err := st.Latest(ctx)
	if err != nil || m.CheckpointID != 1 {
		t.Fatalf("Latest = %v, %v", m, err)
	}
	if !strings.Contains(logs.String(), `msg="skipping invalid checkpoint" component=checkpointstore job=job checkpoint=8`) {
		t.Errorf("log:\n%s", logs.String())
	}
	if _, err := st.Load(ctx, "job/chk-8"); err == nil {
		t.Fatal("Load of misplaced metadata succeeded")
	}
}

func TestDiscard(t *testing.T) {
	ctx := context.Background()
	for name, s := range storages(t) {
		t.Run(name, func(t *testing.T) {
			fi := blob.NewFaultInjector(s)
			st := New(fi, "job", nil)
			writeCheckpoint(t, st, s, 1, true)
			writeCheckpoint(t, st, s, 11, true)
			if err := st.Discard(ctx, 1); err != nil {
				t.Fatal(err)
			}
			keys, err := s.List(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"job/chk-11/_metadata", "job/chk-11/cnt-0"}; !slices.Equal(keys, want) {
				t.Fatalf("after Discard(1): %q, want %q", keys, want)
			}
			if err := st.Discard(ctx, 1); err != nil {
				t.Fatalf("second Discard: %v", err)
			}

			// The metadata goes first: if deleting it fails, no state object
			// is touched, so the checkpoint still verifies and is whole.
			fi.Inject(blob.Fault{Ops: blob.OpDelete, Prefix: "job/chk-11/_metadata", Times: 1})
			if err := st.Discard(ctx, 11); err == nil || !strings.Contains(err.Error(), "discard checkpoint 11") {
				t.Fatalf("Discard with a failing metadata delete = %v", err)
			}
			if keys, _ := s.List(ctx, "job/chk-11/"); len(keys) != 2 {
				t.Fatalf("state deleted although the metadata was not: %q", keys)
			}
			// Once the metadata is gone, a failed state delete leaves a torn
			// checkpoint, never a verifying one with missing state.
			fi.Inject(blob.Fault{Ops: blob.OpDelete, Prefix: "job/chk-11/cnt-0"})
			if err := st.Discard(ctx, 11); err == nil || !strings.Contains(err.Error(), "1 of 1 objects not deleted") {
				t.Fatalf("Discard with a failing delete = %v", err)
			}
			if m, _, err := st.Latest(ctx); m != nil || err != nil {
				t.Fatalf("Latest after a half discard = %v, %v", m, err)
			}
		})
	}
}

// TestDiscardRemovesDirectory: on file:// storage, discarding a checkpoint
// leaves no chk-N directory behind, whether it was complete or torn, and
// keeps the job directory and the other checkpoints.
func TestDiscardRemovesDirectory(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "checkpoints")
	s, err := blob.Open(ctx, "file://"+filepath.ToSlash(root))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st := New(blob.NewLogging(s, nil), "job", nil)
	writeCheckpoint(t, st, s, 1, true)
	writeCheckpoint(t, st, s, 2, false) // torn: a failed checkpoint
	writeCheckpoint(t, st, s, 3, true)
	for _, id := range []checkpoint.ID{1, 2} {
		if err := st.Discard(ctx, id); err != nil {
			t.Fatalf("Discard(%d): %v", id, err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(root, "job"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"chk-3"}; !slices.Equal(names, want) {
		t.Errorf("job directory after discarding checkpoints 1 and 2 holds %q, want %q", names, want)
	}
	if err := st.Discard(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "job")); err != nil {
		t.Errorf("job directory after discarding every checkpoint: %v, want it kept", err)
	}
}
