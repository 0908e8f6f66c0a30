package stream_test

import (
	"strings"
	"testing"

	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// unexported has no default codec: JSON would drop its field.
type unexported struct{ v int }

// TestMultiInputDeclarationErrors: mistakes in declaring multi-input
// operators and side outputs are errors of Plan, naming what is wrong.
func TestMultiInputDeclarationErrors(t *testing.T) {
	src := func(env *stream.Env, name string) stream.DataStream[int64] {
		return stream.FromSource(env, tidetest.SliceSource(name, numbers(10)))
	}
	for _, tc := range []struct {
		name  string
		build func(env *stream.Env)
		want  string
	}{
		{"union across environments", func(env *stream.Env) {
			stream.Union(src(env, "a"), src(stream.NewEnv(8), "b"))
		}, "different environments"},
		{"connect across environments", func(env *stream.Env) {
			stream.CoProcess[int64, int64, int64](stream.Connect(src(env, "a"), src(stream.NewEnv(8), "b")), "co", nil)
		}, "different environments"},
		{"tag without a name", func(env *stream.Env) {
			stream.GetSideOutput(src(env, "a"), stream.OutputTag[int64]{})
		}, "without a name"},
		{"one tag, two types", func(env *stream.Env) {
			a := src(env, "a")
			stream.GetSideOutput(a, stream.NewOutputTag[int64]("x"))
			stream.GetSideOutput(a, stream.NewOutputTag[string]("x"))
		}, `side output "x" of "a" read as int64 and as string`},
		{"union without a codec", func(env *stream.Env) {
			a := stream.Map(src(env, "a"), "wrap", func(v int64) unexported { return unexported{int(v)} })
			b := stream.Map(src(env, "b"), "wrap", func(v int64) unexported { return unexported{int(v)} })
			stream.Union(a, b)
		}, `records from "wrap" to "Union"`},
		{"key without a codec", func(env *stream.Env) {
			k := func(int64) unexported { return unexported{} }
			stream.KeyedCoProcess(stream.KeyByConnected(stream.Connect(src(env, "a"), src(env, "b")), k, k), "join",
				func() stream.KeyedCoProcessFunction[unexported, int64, int64, int64] { return nil })
		}, `key of "join"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := stream.NewEnv(8)
			tc.build(env)
			g, err := env.Plan()
			if err == nil {
				_, err = plan.Compile(g)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestSideOutputOfAnotherType: a function that emits into a side output
// with a tag of another type than the job reads fails the job, naming the
// side output, instead of restarting for ever.
func TestSideOutputOfAnotherType(t *testing.T) {
	t.Parallel()
	c := tidetest.Start(t, tidetest.Config{
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidetest.SliceSource("numbers", numbers(1000), tidetest.Rate(sourceRate)))
			p := process(src, "emit", func() *keyedFn {
				var side stream.Collector[string]
				return &keyedFn{
					open: func(rt *stream.KeyedRuntime[int64]) error {
						side = stream.SideOutput(rt, stream.NewOutputTag[string]("side"))
						return nil
					},
					process: func(_, v int64, _ stream.Collector[string]) error { side.Emit(itoa(v)); return nil },
				}
			})
			tidetest.NewSink[int64]().To(stream.GetSideOutput(p, stream.NewOutputTag[int64]("side")), "collect")
			return nil
		},
		TaskManagers: 1,
	})
	c.WaitState(tidetest.Failed, timeout)
	ex, err := c.Backend().Exceptions(c.JobID())
	if err != nil {
		t.Fatal(err)
	}
	if ex.RootException == nil || !strings.Contains(*ex.RootException, `side output "side"`) {
		t.Errorf("root exception %v, want the side output named", ex.RootException)
	} else if n := len(ex.ExceptionHistory.Entries); n != 1 {
		t.Errorf("%d entries in the exception history, want 1: a permanent failure is not restarted", n)
	}
}
