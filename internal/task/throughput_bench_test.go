package task_test

// Throughput benchmarks of the task runtime, on the Throughput job
// (examples/throughput). They drive real task.Tasks: the job's graph is
// built and compiled as a TaskManager does, every subtask runs task.Run on
// its own goroutine, records between subtasks cross network.Managers over
// loopback TCP, and the harness plays the JobManager's part at the end of
// the bounded input (the final checkpoint). Run them through the bench tool
// (go run ./bench chained), or directly:
//
//	go test -run '^$' -bench 'Chained|Keyed' -count 5 ./internal/task/

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/tide-stream/tide/examples/throughput"
	"github.com/tide-stream/tide/internal/jobs"
	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/internal/task/tasktest"
	"github.com/tide-stream/tide/stream"
)

const (
	benchKeys = 1024
	benchMaxP = 128
)

// runJob runs the Throughput job with args to its end at parallelism p on
// managers loopback network managers and returns the sources' final
// positions summed.
func runJob(ctx context.Context, args []string, p, managers int) (int64, error) {
	var reg jobs.Registry
	if err := reg.Register("Throughput", throughput.Build); err != nil {
		return 0, err
	}
	jg, err := reg.Build("Throughput", args, benchMaxP)
	if err != nil {
		return 0, err
	}
	return tasktest.Run(ctx, jg, p, managers)
}

func chainedArgs(n int) []string {
	return []string{"--records", strconv.Itoa(n), "--keys", strconv.Itoa(benchKeys), "--splits", "1"}
}

// handLoop does the chained pipeline's per-record work for records [0, n)
// in one goroutine: generate, Scramble, Keep, Project, and a sink that
// only keeps a checksum of whole records so that nothing is optimized away. keys is a
// parameter of a function that is not inlined, as it is a runtime value in
// the job: a constant would turn Generate's i % keys into a mask.
//
//go:noinline
func handLoop(n, keys int64) int64 {
	var sum int64
	for i := range n {
		r := throughput.Scramble(throughput.Generate(i, keys))
		if throughput.Keep(r) {
			p := throughput.Project(r)
			sum += p.Key ^ p.Value
		}
	}
	return sum
}

// stages are the chained pipeline's functions as values, so that a loop can
// call them the way the operators do, through func values the compiler
// cannot inline.
type stages struct {
	generate func(i, keys int64) throughput.Record
	scramble func(throughput.Record) throughput.Record
	keep     func(throughput.Record) bool
	project  func(throughput.Record) throughput.Record
}

//go:noinline
func newStages() stages {
	return stages{throughput.Generate, throughput.Scramble, throughput.Keep, throughput.Project}
}

// handLoopCalls is handLoop with every function called through a func
// value: it separates what inlining buys from what the runtime costs.
//
//go:noinline
func handLoopCalls(n, keys int64, s stages) int64 {
	var sum int64
	for i := range n {
		r := s.scramble(s.generate(i, keys))
		if s.keep(r) {
			p := s.project(r)
			sum += p.Key ^ p.Value
		}
	}
	return sum
}

// BenchmarkChained measures records/s of source → Map → Filter → Map →
// Discard chained into one task in one slot (pipeline), and the same
// per-record work as a plain loop (handloop, the functions inlined as the
// compiler does for a hand-written loop; handloop-calls, each function called
// through a func value as the operators call it). Note that -count repeats
// each sub-benchmark in turn; the bench tool alternates them by running the
// test binary once per round.
func BenchmarkChained(b *testing.B) {
	tasktest.ComparePipeline(b,
		func(ctx context.Context, n int) (int64, error) { return runJob(ctx, chainedArgs(n), 1, 1) },
		func(n int64) int64 { return handLoop(n, benchKeys) },
		func(n int64) int64 { return handLoopCalls(n, benchKeys, newStages()) })
}

// BenchmarkKeyed measures records/s of source → KeyBy → Process (two
// ValueStates) → Discard at parallelism 2 in one process, with the two
// subtask pairs on two network.Managers, so that half of the records cross
// loopback TCP as they do between two TaskManagers. The bench tool's keyed
// figure, with real processes, is the reference; this one is for profiling.
func BenchmarkKeyed(b *testing.B) {
	n := max(b.N, 2*32) // at least one record per split
	args := []string{"--records", strconv.Itoa(n), "--keys", strconv.Itoa(benchKeys), "--stateful"}
	pos, err := runJob(b.Context(), args, 2, 2)
	if err != nil {
		b.Fatal(err)
	}
	if pos != int64(n) {
		b.Fatalf("source position %d, want %d", pos, n)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// TestThroughputJobRuns checks the harness and the job, untimed: both
// pipelines run to the end through the real task runtime, the stateless
// one compiles into a single chained task, and every record is emitted.
func TestThroughputJobRuns(t *testing.T) {
	env := stream.NewEnv(benchMaxP)
	if err := throughput.Build(env, chainedArgs(10)); err != nil {
		t.Fatal(err)
	}
	g, err := env.Plan()
	if err != nil {
		t.Fatal(err)
	}
	jg, err := plan.Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(jg.Vertices) != 1 || len(jg.Vertices[0].Operators) != 5 {
		t.Fatalf("stateless job compiles to %d vertices (first %q), want one chain of 5 operators", len(jg.Vertices), jg.Vertices[0].Name)
	}
	for _, tc := range []struct {
		name        string
		args        []string
		p, managers int
	}{
		{"chained", chainedArgs(100_000), 1, 1},
		{"keyed p2", []string{"--records", "100000", "--keys", "100", "--stateful"}, 2, 2},
		{"keyed p3 more subtasks than splits", []string{"--records", "5000", "--keys", "7", "--splits", "2", "--stateful"}, 3, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			pos, err := runJob(ctx, tc.args, tc.p, tc.managers)
			if err != nil {
				t.Fatal(err)
			}
			o, err := throughput.ParseArgs(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if pos != o.Records {
				t.Errorf("sources' final position %d, want %d", pos, o.Records)
			}
		})
	}
	if _, err := runJob(t.Context(), []string{"--keys", "0"}, 1, 1); err == nil {
		t.Errorf("bad job arguments: got %v, want an error", err)
	}
}
