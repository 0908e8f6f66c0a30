package stream_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/codec"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// TestOpenFailureFailsTheJob has a source whose Open fails, chained with a
// print sink that is therefore never opened: the subtask fails cleanly (no
// Close without Open, no crash), and with restart-strategy none the job is
// FAILED.
func TestOpenFailureFailsTheJob(t *testing.T) {
	t.Parallel()
	c := tidetest.Start(t, tidetest.Config{
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, stream.Source[int64]{
				Name: "broken",
				Open: func(stream.SourceContext, [][]byte) (stream.SourceReader[int64], error) {
					return nil, errors.New("cannot reach the input")
				},
			})
			stream.Print(src)
			return nil
		},
		TaskManagers: 1,
		Dynamic:      map[string]string{"restart-strategy": "none"},
	})
	c.WaitState(tidetest.Failed, timeout)
}

// TestUserErrorFailsTheJob has a keyed function return an error: the job
// fails (restart-strategy none) instead of hanging or crashing.
func TestUserErrorFailsTheJob(t *testing.T) {
	t.Parallel()
	c := tidetest.Start(t, tidetest.Config{
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidetest.SliceSource("numbers", numbers(100), tidetest.Splits(numSplits)))
			out := process(src, "fails", func() *keyedFn {
				return &keyedFn{
					open: func(*stream.KeyedRuntime[int64]) error { return nil },
					process: func(k, v int64, out stream.Collector[string]) error {
						if v == 42 {
							return errors.New("the answer is not allowed")
						}
						return nil
					},
				}
			})
			stream.Discard(out)
			return nil
		},
		TaskManagers: 1,
		Dynamic:      map[string]string{"restart-strategy": "none"},
	})
	c.WaitState(tidetest.Failed, timeout)
}

// poisonedJob has a Map function, named name, panic at record 42.
func poisonedJob(name string) stream.JobFunc {
	return func(env *stream.Env, _ []string) error {
		src := stream.FromSource(env, tidetest.SliceSource("numbers", numbers(100), tidetest.Splits(numSplits)))
		stream.Discard(stream.Map(src, name, func(v int64) int64 {
			if v == 42 {
				panic("poison")
			}
			return v
		}))
		return nil
	}
}

// TestPanicInUserCodeFailsTheJob has a Map function panic: the panic is
// recovered at the subtask boundary and reported as a user failure.
func TestPanicInUserCodeFailsTheJob(t *testing.T) {
	t.Parallel()
	c := tidetest.Start(t, tidetest.Config{Job: poisonedJob("panics"), TaskManagers: 1,
		Dynamic: map[string]string{"restart-strategy": "none"}})
	c.WaitState(tidetest.Failed, timeout)
}

// panickyCloser is a sink whose Close panics.
type panickyCloser struct{}

func (panickyCloser) Open(context.Context, stream.SinkContext, [][]byte) error { return nil }
func (panickyCloser) Write(context.Context, int64) error                       { return nil }
func (panickyCloser) PreCommit(context.Context, uint64) ([][]byte, error)      { return nil, nil }
func (panickyCloser) Commit(context.Context, uint64) error                     { return nil }
func (panickyCloser) Close() error                                             { panic("close boom") }

// TestPanicInCloseIsAFailureNotACrash: a sink's Close panics at the end of
// the job; the TaskManager survives (a crash would kill the test process)
// and the job ends.
func TestPanicInCloseIsAFailureNotACrash(t *testing.T) {
	t.Parallel()
	c := tidetest.Start(t, tidetest.Config{
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidetest.SliceSource("numbers", numbers(100), tidetest.Splits(numSplits)))
			stream.SinkTo(src, "closer", func() stream.SinkWriter[int64] { return panickyCloser{} })
			return nil
		},
		TaskManagers: 1,
		Dynamic:      map[string]string{"restart-strategy": "none"},
	})
	c.WaitFor("the job to end", timeout, func() bool {
		s := c.State()
		return s == tidetest.Failed || s == tidetest.Finished
	})
}

// lazyCodec decodes without consuming: a broken user codec.
type lazyCodec struct{ codec.Int64 }

func (lazyCodec) Decode([]byte) (int64, int, error) { return 0, 0, nil }

// TestCodecThatConsumesNothingFailsTheJob: a codec whose Decode uses no
// bytes would spin forever on the receiving side; the subtask fails instead.
func TestCodecThatConsumesNothingFailsTheJob(t *testing.T) {
	t.Parallel()
	c := tidetest.Start(t, tidetest.Config{
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidetest.SliceSource("numbers", numbers(100), tidetest.Splits(numSplits))).WithCodec(lazyCodec{})
			stream.Discard(src.Rebalance())
			return nil
		},
		TaskManagers: 1,
		Dynamic:      map[string]string{"restart-strategy": "none"},
	})
	c.WaitState(tidetest.Failed, timeout)
}

// bigSplits is a source whose state is one 3 MiB entry: more than gRPC's
// default message size, which acknowledgements carry inline.
type bigSplits struct{ n int64 }

func (b *bigSplits) Poll(_ context.Context, out stream.SourceOutput[int64]) (stream.PollStatus, time.Duration, error) {
	if b.n >= 1000 {
		return stream.Done, 0, nil
	}
	out.Emit(b.n)
	b.n++
	return stream.Idle, time.Millisecond, nil
}
func (b *bigSplits) Snapshot(uint64) ([][]byte, error) { return [][]byte{make([]byte, 3<<20)}, nil }
func (b *bigSplits) Position() int64                   { return b.n }
func (b *bigSplits) Close() error                      { return nil }

// TestLargeOperatorStateCheckpoints checkpoints a source with 3 MiB of
// operator state.
func TestLargeOperatorStateCheckpoints(t *testing.T) {
	t.Parallel()
	c := tidetest.Start(t, tidetest.Config{
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, stream.Source[int64]{Name: "big", NonParallel: true,
				Open: func(stream.SourceContext, [][]byte) (stream.SourceReader[int64], error) { return &bigSplits{}, nil }})
			stream.Discard(src)
			return nil
		},
		TaskManagers:       1,
		CheckpointInterval: 100 * time.Millisecond,
		Dynamic:            map[string]string{"restart-strategy": "none"},
	})
	c.WaitCheckpoints(2, timeout)
}

// TestFileSinkRefusesAnotherJobsOutput: a job whose file sink writes into a
// directory that holds another job's output fails — at once, not after
// restarts — and leaves that output as it was; a job restored from a
// savepoint of the owner continues the output.
func TestFileSinkRefusesAnotherJobsOutput(t *testing.T) {
	t.Parallel()
	dir, checkpoints := t.TempDir(), "file://"+t.TempDir()
	job := func(env *stream.Env, _ []string) error {
		src := stream.FromSource(env, tidetest.SliceSource("numbers", numbers(2000), tidetest.Splits(numSplits), tidetest.Rate(2000)), stream.UID("numbers"))
		stream.FileSink(src, "out", dir, func(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }, stream.UID("out"))
		return nil
	}
	first := tidetest.Start(t, tidetest.Config{Name: "first", Job: job, TaskManagers: 1, CheckpointsDir: checkpoints, CheckpointInterval: 100 * time.Millisecond})
	first.WaitCheckpoints(1, timeout)
	loc := first.StopWithSavepoint(timeout)
	first.Stop()
	before := lines(t, dir)

	second := tidetest.Start(t, tidetest.Config{Name: "second", Job: job, TaskManagers: 1, CheckpointsDir: checkpoints})
	second.WaitState(tidetest.Failed, timeout)
	if rs := second.Rescales(); len(rs) != 0 {
		t.Errorf("the job restarted: %+v; the failure is permanent", rs)
	}
	second.Stop()
	if after := lines(t, dir); !slices.Equal(before, after) {
		t.Fatalf("the first job's output changed: %d lines, then %d", len(before), len(after))
	}

	third := tidetest.Start(t, tidetest.Config{Name: "third", Job: job, TaskManagers: 1, CheckpointsDir: checkpoints, SavepointPath: loc})
	third.WaitState(tidetest.Finished, timeout)
	got := lines(t, dir)
	if len(got) != 2000 {
		t.Fatalf("after the restore from the first job's savepoint: %d lines, want each of the 2000 once", len(got))
	}
	slices.Sort(got)
	if n := len(slices.Compact(got)); n != 2000 {
		t.Fatalf("%d distinct lines of 2000: duplicates", n)
	}
}

// lines reads the committed lines of a file sink's directory.
func lines(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if strings.HasPrefix(e.Name(), ".") || e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Fields(string(b))...)
	}
	return out
}
