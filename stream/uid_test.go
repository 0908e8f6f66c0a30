package stream_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// TestUIDKeepsStateAcrossInsertedFilter stops a keyed count-and-sum with a
// savepoint, inserts a Filter before the keyed operator, and restores the
// new job from the savepoint: with UIDs on the stateful operators, their
// state is found and the output is that of an undisturbed run. Before
// stable ids, the operators after the Filter had new, position-based ids
// and the restore silently dropped their state.
func TestUIDKeepsStateAcrossInsertedFilter(t *testing.T) {
	t.Parallel()
	vs := numbers(6000)
	sink := tidetest.NewSink[string]()
	job := func(filter bool) stream.JobFunc {
		return func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, tidetest.SliceSource("numbers", vs, tidetest.Splits(numSplits), tidetest.Rate(2000)), stream.UID("numbers"))
			if filter {
				src = stream.Filter(src, "keep all", func(int64) bool { return true })
			}
			sink.To(countSum(src, stream.UID("count-sum")), "collect", stream.UID("collect"))
			return nil
		}
	}
	dir := "file://" + t.TempDir()
	first := tidetest.Start(t, tidetest.Config{Job: job(false), TaskManagers: 1, CheckpointInterval: 100 * time.Millisecond, CheckpointsDir: dir})
	first.WaitParallelism(1, timeout)
	first.WaitCheckpoints(1, timeout)
	loc := first.StopWithSavepoint(timeout)
	first.Stop()
	if n := sink.Len(); n == 0 || n >= len(vs) {
		t.Fatalf("the first run committed %d records; the test needs some but not all %d", n, len(vs))
	}

	second := tidetest.Start(t, tidetest.Config{Job: job(true), TaskManagers: 1, CheckpointInterval: 100 * time.Millisecond, CheckpointsDir: dir, SavepointPath: loc})
	second.WaitState(tidetest.Finished, timeout)
	requireUndisturbed(t, sink, vs)
}

// ids returns the operator ids of a job, by operator name.
func ids(t *testing.T, job func(env *stream.Env)) (map[string]string, error) {
	t.Helper()
	env := stream.NewEnv(16)
	job(env)
	g, err := env.Plan()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, op := range g.Operators {
		out[op.Name] = op.ID
	}
	return out, nil
}

func TestUIDIsTheID(t *testing.T) {
	got, err := ids(t, func(env *stream.Env) {
		src := stream.FromSource(env, tidetest.SliceSource("numbers", numbers(10)), stream.UID("src.v1"))
		tidetest.NewSink[string]().To(countSum(src, stream.UID("count_sum-2")), "collect")
	})
	if err != nil {
		t.Fatal(err)
	}
	if got["numbers"] != "src.v1" || got["countSum"] != "count_sum-2" {
		t.Errorf("ids %v; want the uids verbatim", got)
	}
	if id := got["collect"]; !strings.HasPrefix(id, "collect-") || len(id) != len("collect-")+8 {
		t.Errorf("default id %q; want collect-<8 hex>", id)
	}
}

func TestUIDRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		job  func(env *stream.Env)
		want []string
	}{
		"duplicate": {
			job: func(env *stream.Env) {
				src := stream.FromSource(env, tidetest.SliceSource("numbers", numbers(10)), stream.UID("x"))
				stream.Discard(stream.Map(src, "double", func(v int64) int64 { return 2 * v }, stream.UID("x")))
			},
			want: []string{`"numbers"`, `"double"`, `both have uid "x"`},
		},
		"empty": {
			job: func(env *stream.Env) {
				stream.FromSource(env, tidetest.SliceSource("numbers", numbers(10)), stream.UID(""))
			},
			want: []string{`"numbers"`, "uid is empty"},
		},
		"slash": {
			job: func(env *stream.Env) {
				stream.FromSource(env, tidetest.SliceSource("numbers", numbers(10)), stream.UID("../state"))
			},
			want: []string{`"numbers"`, `"../state"`},
		},
		"too long": {
			job: func(env *stream.Env) {
				stream.FromSource(env, tidetest.SliceSource("numbers", numbers(10)), stream.UID(strings.Repeat("a", plan.MaxUIDLen+1)))
			},
			want: []string{`"numbers"`, "longer than"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ids(t, tc.job)
			if err == nil {
				t.Fatal("the job was accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %s", err, w)
				}
			}
		})
	}
}
