package throughput

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/metrichook"
	"github.com/tide-stream/tide/stream"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    Options
		wantErr string
	}{
		{args: nil, want: Options{Records: 10_000_000, Keys: 1024, Splits: 32, Work: WorkTrivial}},
		{args: []string{"--records", "0", "--keys", "7", "--stateful", "--rate", "5", "--splits", "3", "--progress", "1s", "--state-bytes-per-key", "1024"},
			want: Options{Records: 0, Keys: 7, Stateful: true, Rate: 5, Splits: 3, Progress: time.Second, Work: WorkTrivial, StateBytesPerKey: 1024}},
		{args: []string{"--work", "text"}, want: Options{Records: 10_000_000, Keys: 1024, Splits: 32, Work: WorkText}},
		{args: []string{"--work", "heavy"}, wantErr: `--work "heavy"`},
		{args: []string{"--state-bytes-per-key", "8"}, wantErr: "needs --stateful"},
		{args: []string{"--stateful", "--state-bytes-per-key", "-1"}, wantErr: "--state-bytes-per-key -1"},
		{args: []string{"--stateful", "--state-bytes-per-key", "2000000"}, wantErr: "--state-bytes-per-key 2000000"},
		{args: []string{"--records", "-1"}, wantErr: "--records -1"},
		{args: []string{"--keys", "0"}, wantErr: "--keys 0"},
		{args: []string{"--rate", "-2"}, wantErr: "--rate -2"},
		{args: []string{"--splits", "0"}, wantErr: "--splits 0"},
		{args: []string{"--progress", "-1s"}, wantErr: "--progress -1s"},
		{args: []string{"--bogus"}, wantErr: "bogus"},
		{args: []string{"extra"}, wantErr: `unexpected "extra"`},
	} {
		got, err := ParseArgs(tc.args)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseArgs(%q) error %v, want one containing %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseArgs(%q) = %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
}

func FuzzRecordCodec(f *testing.F) {
	f.Add([]byte{})
	f.Add(RecordCodec{}.Append(nil, Record{Key: 3, Value: -9}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, n, err := RecordCodec{}.Decode(b)
		if err != nil {
			return
		}
		if n != 16 {
			t.Fatalf("decoded %d bytes, want 16", n)
		}
		if got := string(RecordCodec{}.Append(nil, r)); got != string(b[:16]) {
			t.Fatalf("re-encoded %x, want %x", got, b[:16])
		}
	})
}

type srcCtx struct{ subtask, parallelism int }

func (c srcCtx) Subtask() int                { return c.subtask }
func (c srcCtx) Parallelism() int            { return c.parallelism }
func (c srcCtx) Attempt() uint64             { return 1 }
func (c srcCtx) Now() time.Time              { return time.Unix(0, 0) }
func (c srcCtx) Wakeup()                     {}
func (c srcCtx) Context() context.Context    { return context.Background() }
func (c srcCtx) Logger() *slog.Logger        { return slog.New(slog.DiscardHandler) }
func (c srcCtx) Metrics() stream.MetricGroup { return metrichook.NewRegistry() }

type collect []Record

func (c *collect) Emit(r Record)                            { *c = append(*c, r) }
func (c *collect) EmitAt(r Record, _ int64)                 { c.Emit(r) }
func (c *collect) Split(string) stream.SourceOutput[Record] { return c }
func (c *collect) SplitDone(string)                         {}

// drain polls r to its end.
func drain(t *testing.T, r stream.SourceReader[Record], out *collect) {
	t.Helper()
	for range 1000 {
		st, _, err := r.Poll(context.Background(), out)
		if err != nil {
			t.Fatal(err)
		}
		if st == stream.Done {
			return
		}
	}
	t.Fatal("source did not finish")
}

// TestSourceEmitsEveryRecordOnceAcrossRestore reads part of the input at
// parallelism 2, restores the splits' state at parallelism 3, and checks
// that every record i < N arrived exactly once with key i mod K.
func TestSourceEmitsEveryRecordOnceAcrossRestore(t *testing.T) {
	o := Options{Records: 5000, Keys: 7, Splits: 5}
	src := Source(o, nil)
	var got collect
	var state [][]byte
	for sub := range 2 {
		r, err := src.Open(srcCtx{sub, 2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.Poll(context.Background(), &got); err != nil {
			t.Fatal(err)
		}
		s, err := r.Snapshot(0)
		if err != nil {
			t.Fatal(err)
		}
		state = append(state, s...)
	}
	for sub := range 3 {
		var mine [][]byte
		for i := sub; i < len(state); i += 3 {
			mine = append(mine, state[i])
		}
		r, err := src.Open(srcCtx{sub, 3}, mine)
		if err != nil {
			t.Fatal(err)
		}
		drain(t, r, &got)
	}
	seen := make([]bool, o.Records)
	for _, r := range got {
		if r.Value < 0 || r.Value >= o.Records || seen[r.Value] || r.Key != r.Value%o.Keys {
			t.Fatalf("bad or duplicate record %+v", r)
		}
		seen[r.Value] = true
	}
	if int64(len(got)) != o.Records {
		t.Fatalf("got %d records, want %d", len(got), o.Records)
	}
	if _, err := src.Open(srcCtx{0, 1}, [][]byte{{1, 2}}); err == nil {
		t.Error("restoring a 2-byte split state: no error")
	}
}

func TestStagesAreDeterministic(t *testing.T) {
	kept := 0
	for i := range int64(1 << 12) {
		r := Scramble(Generate(i, 10))
		if r.Key != i%10 || Scramble(Generate(i, 10)) != r {
			t.Fatalf("Scramble(Generate(%d)) = %+v", i, r)
		}
		if Keep(r) {
			kept++
		}
	}
	if kept < 3600 || kept > 4000 {
		t.Errorf("Keep kept %d of 4096, want about 15/16", kept)
	}
}
