package stream_test

import (
	"errors"
	"testing"

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

// TestPanicInUserCodeFailsTheJob has a Map function panic: the panic is
// recovered at the subtask boundary and reported as a user failure.
func TestPanicInUserCodeFailsTheJob(t *testing.T) {
	t.Parallel()
	c := tidetest.Start(t, tidetest.Config{
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidetest.SliceSource("numbers", numbers(100), tidetest.Splits(numSplits)))
			stream.Discard(stream.Map(src, "panics", func(v int64) int64 {
				if v == 42 {
					panic("no")
				}
				return v
			}))
			return nil
		},
		TaskManagers: 1,
		Dynamic:      map[string]string{"restart-strategy": "none"},
	})
	c.WaitState(tidetest.Failed, timeout)
}
