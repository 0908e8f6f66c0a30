package checkpointstore

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tide-stream/tide/internal/blob"
)

func TestRecordRoundTrip(t *testing.T) {
	for name, s := range storages(t) {
		t.Run(name, func(t *testing.T) {
			st := New(s, "job", nil)
			ctx := context.Background()
			if r, err := st.ReadRecord(ctx); r != nil || err != nil {
				t.Fatalf("ReadRecord of a new job = %+v, %v; want nil, nil", r, err)
			}
			want := &Record{JobName: "Verify", JobArgs: []string{"--count", "0"}, MaxParallelism: 128, Run: 2,
				FirstCheckpoint: 7, AttemptsBelow: 2000, Result: "FINISHED", Reason: "done", UpdatedUnixMilli: 42}
			if err := st.WriteRecord(ctx, want); err != nil {
				t.Fatal(err)
			}
			got, err := st.ReadRecord(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("record (-want +got):\n%s", diff)
			}
			// The record is no checkpoint: listing skips it.
			if md, _, err := st.Latest(ctx); md != nil || err != nil {
				t.Fatalf("Latest with only a record = %v, %v", md, err)
			}
		})
	}
}

func TestDecodeRecordRefusesNonsense(t *testing.T) {
	for _, in := range []string{
		``, `{`, `[]`, `{"run":1,"first_checkpoint":1}`,
		`{"job_name":"j","run":0,"first_checkpoint":1}`,
		`{"job_name":"j","run":1,"first_checkpoint":0}`,
		`{"job_name":"j","run":1,"first_checkpoint":1,"result":"RUNNING"}`,
	} {
		if r, err := DecodeRecord([]byte(in)); !errors.Is(err, ErrRecordInvalid) {
			t.Errorf("DecodeRecord(%q) = %+v, %v; want ErrRecordInvalid", in, r, err)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	b, _ := EncodeRecord(&Record{JobName: "j", Run: 1, FirstCheckpoint: 1, AttemptsBelow: 1000})
	f.Add(b)
	f.Add([]byte(`{"job_name":"j","run":1,"first_checkpoint":1,"result":"FAILED"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := DecodeRecord(in)
		if err != nil {
			if !errors.Is(err, ErrRecordInvalid) {
				t.Fatalf("error %v does not wrap ErrRecordInvalid", err)
			}
			return
		}
		again, err := EncodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := DecodeRecord(again)
		if err != nil {
			t.Fatalf("a decoded record does not decode again: %v", err)
		}
		if diff := cmp.Diff(r, r2); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

func TestScan(t *testing.T) {
	for name, s := range storages(t) {
		t.Run(name, func(t *testing.T) {
			st := New(s, "job", nil)
			ctx := context.Background()
			newest, completed, err := st.Scan(ctx)
			if newest != 0 || completed != 0 || err != nil {
				t.Fatalf("Scan of nothing = %d, %d, %v", newest, completed, err)
			}
			writeCheckpoint(t, st, s, 3, true)
			writeCheckpoint(t, st, s, 5, false) // torn: its directory must not be reused
			// Metadata that does not verify still counts as completed: the
			// sinks may have committed it.
			if err := s.Write(ctx, st.MetadataPath(4), []byte("garbage")); err != nil {
				t.Fatal(err)
			}
			newest, completed, err = st.Scan(ctx)
			if newest != 5 || completed != 4 || err != nil {
				t.Fatalf("Scan = %d, %d, %v; want 5, 4", newest, completed, err)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	for name, s := range storages(t) {
		t.Run(name, func(t *testing.T) {
			st := New(s, "job", nil)
			ctx := context.Background()
			writeCheckpoint(t, st, s, 1, true)
			if err := st.Verify(ctx, meta(1)); err != nil {
				t.Fatalf("Verify of a whole checkpoint: %v", err)
			}
			if err := s.Delete(ctx, st.Dir(1)+"cnt-0"); err != nil {
				t.Fatal(err)
			}
			err := st.Verify(ctx, meta(1))
			if !errors.Is(err, ErrStateMissing) {
				t.Fatalf("Verify with a state object missing = %v, want ErrStateMissing", err)
			}
		})
	}
}

func TestSplitLocation(t *testing.T) {
	for _, tc := range []struct{ in, root, key string }{
		{"file:///sp/abc/chk-4", "file:///sp", "abc/chk-4"},
		{"file:///sp/abc/chk-4/", "file:///sp", "abc/chk-4"},
		{"file:///sp/abc/chk-4/_metadata", "file:///sp", "abc/chk-4"},
		{"/sp/x/abc/chk-4", "file:///sp/x", "abc/chk-4"},
		{"/abc/chk-4", "file:///", "abc/chk-4"},
		{"s3://bucket/sp/abc/chk-12?region=eu", "s3://bucket/sp?region=eu", "abc/chk-12"},
	} {
		root, key, err := SplitLocation(tc.in)
		if err != nil || root != tc.root || key != tc.key {
			t.Errorf("SplitLocation(%q) = %q, %q, %v; want %q, %q", tc.in, root, key, err, tc.root, tc.key)
		}
	}
	for _, bad := range []string{"", "relative/abc/chk-4", "file:///sp/abc/savepoint-1", "file:///chk-4", "file:///sp//chk-4",
		"file:///sp/../chk-4", "file:///sp/./chk-4", "/sp/%2e%2e/chk-4"} {
		if root, key, err := SplitLocation(bad); err == nil {
			t.Errorf("SplitLocation(%q) = %q, %q; want an error", bad, root, key)
		}
	}
}

func TestTargetURL(t *testing.T) {
	for in, want := range map[string]string{"/sp/": "file:///sp", "file:///sp": "file:///sp", "s3://b/sp/": "s3://b/sp",
		"/sp//": "file:///sp", "/": "file:///", "//": "file:///", "file:///": "file:///", "mem://": "mem://"} {
		if got, err := TargetURL(in); err != nil || got != want {
			t.Errorf("TargetURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"sp", "./sp", "c:x", "file:///sp?dir_file_mode=0777", "/sp?base_url=x&secret_key_path=/etc/shadow", "/sp?", "/sp#x"} {
		if got, err := TargetURL(bad); err == nil {
			t.Errorf("TargetURL(%q) = %q; want an error", bad, got)
		}
	}
}

func TestCopy(t *testing.T) {
	ss := storages(t)
	from, to := ss["file"], ss["mem"]
	st := New(from, "job", nil)
	writeCheckpoint(t, st, from, 3, true)
	ctx := context.Background()
	md, err := st.Load(ctx, st.Dir(3))
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"", ImportPrefix} {
		key, err := Copy(ctx, from, to, md, st.Dir(3), prefix)
		if err != nil {
			t.Fatal(err)
		}
		if want := prefix + "job/chk-3/_metadata"; key != want {
			t.Fatalf("Copy to %q = %q, want %q", prefix, key, want)
		}
		dst := New(to, "job", nil)
		got, err := dst.Load(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if err := dst.Verify(ctx, got); err != nil {
			t.Fatalf("the copy is not whole: %v", err)
		}
		if p := got.Operators[0].Keyed[0].Path; p != prefix+"job/chk-3/cnt-0" {
			t.Fatalf("the copy names state object %q", p)
		}
	}
}

// TestMetadataIsNeverOverwritten: a JobManager that was replaced may number
// a checkpoint as its successor does; its metadata must not replace the
// successor's.
func TestMetadataIsNeverOverwritten(t *testing.T) {
	for name, s := range storages(t) {
		t.Run(name, func(t *testing.T) {
			st := New(s, "job", nil)
			ctx := context.Background()
			writeCheckpoint(t, st, s, 3, true)
			m := meta(3)
			m.Attempt = 99
			if _, err := st.WriteMetadata(ctx, m); !errors.Is(err, blob.ErrExists) {
				t.Fatalf("second metadata of checkpoint 3 = %v, want ErrExists", err)
			}
			if got, err := st.Load(ctx, st.Dir(3)); err != nil || got.Attempt != 1 {
				t.Fatalf("checkpoint 3 after the refused write: %+v, %v", got, err)
			}
		})
	}
}
