package daemon

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseRecord(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    record
		wantErr bool
	}{
		{name: "flink style pid only", in: "4242\n", want: record{PID: 4242}},
		{name: "no trailing newline", in: "7", want: record{PID: 7}},
		{name: "padded", in: " 7 \r\n", want: record{PID: 7}},
		{name: "all keys", in: "7\nstart=99\nlog=/h/log/a.log\nout=/h/log/a.out\n",
			want: record{PID: 7, Start: 99, Log: "/h/log/a.log", Out: "/h/log/a.out"}},
		{name: "unknown keys and junk ignored", in: "7\nfuture=1\njunk\nstart=x\n", want: record{PID: 7}},
		{name: "value with equals", in: "7\nlog=/a=b\n", want: record{PID: 7, Log: "/a=b"}},
		{name: "stop timeout", in: "7\nstart=9\nstop-timeout=30s\n", want: record{PID: 7, Start: 9, StopTimeout: 30 * time.Second}},
		{name: "bad stop timeouts ignored", in: "7\nstop-timeout=soon\nstop-timeout=-1s\n", want: record{PID: 7}},
		{name: "empty", in: "", wantErr: true},
		{name: "not a number", in: "abc\n", wantErr: true},
		{name: "zero", in: "0\n", wantErr: true},
		{name: "negative", in: "-1\n", wantErr: true},
		{name: "pid not first", in: "start=1\n7\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRecord([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseRecord(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseRecord(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range []record{
		{PID: 1},
		{PID: 123456, Start: 1 << 40, Log: "/tmp/x y/tide.log", Out: "/tmp/x y/tide.out", StopTimeout: 90 * time.Second},
	} {
		got, err := parseRecord(r.encode())
		if err != nil {
			t.Fatalf("parseRecord(encode(%+v)): %v", r, err)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Errorf("round trip mismatch (-want +got):\n%s", diff)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	f.Add([]byte("4242\n"))
	f.Add([]byte("7\nstart=99\nlog=/a\nout=/b\n"))
	f.Add([]byte("x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseRecord(data)
		if err != nil {
			return
		}
		if r.PID <= 0 {
			t.Fatalf("accepted non-positive pid %d", r.PID)
		}
		again, err := parseRecord(r.encode())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", r.encode(), err)
		}
		if again != r {
			t.Fatalf("round trip %+v -> %+v", r, again)
		}
	})
}

func TestWritePIDFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "taskmanager-1.pid")
	want := record{PID: 42, Start: 7, Log: "/l", Out: "/o"}
	if err := writePIDFile(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := readPIDFile(path)
	if err != nil || got != want {
		t.Fatalf("readPIDFile = %+v, %v; want %+v", got, err, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the pid file (no temporaries)", len(entries))
	}
}

func TestOpenRotated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tide-taskmanager-1-host.log")
	for i := range MaxRotatedLogs + 2 {
		f, err := openRotated(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(string(rune('a' + i))); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Generations a..g were written; the newest (g) is current, f is .1, ..., b is .5; a is gone.
	check := func(name, want string) {
		t.Helper()
		got, err := os.ReadFile(name)
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", filepath.Base(name), got, err, want)
		}
	}
	check(path, "g")
	check(path+".1", "f")
	check(path+".5", "b")
	if _, err := os.Stat(path + ".6"); !os.IsNotExist(err) {
		t.Errorf("%s.6 exists; want at most %d rotated copies", path, MaxRotatedLogs)
	}
}
