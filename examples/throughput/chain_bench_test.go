package throughput_test

// BenchmarkChainedText compares the text pipeline (--work text), chained
// into one task and run by a real task.Task, with a hand-written loop that
// calls the same functions. It is internal/task's BenchmarkChained with
// realistic per-record work; run it through the bench tool
// (go run ./bench chained), or directly:
//
//	go test -run '^$' -bench ChainedText ./examples/throughput/

import (
	"context"
	"fmt"
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

func textArgs(n int) []string {
	return []string{"--records", strconv.Itoa(n), "--keys", strconv.Itoa(benchKeys), "--splits", "1", "--work", "text"}
}

// runChain runs the stateless Throughput job with args to its end in one
// slot: its graph must compile into a single chained task, which runs as a
// real task.Task (tasktest.Run). It returns the source's final position.
func runChain(ctx context.Context, args []string) (int64, error) {
	var reg jobs.Registry
	if err := reg.Register("Throughput", throughput.Build); err != nil {
		return 0, err
	}
	jg, err := reg.Build("Throughput", args, benchMaxP)
	if err != nil {
		return 0, err
	}
	if len(jg.Vertices) != 1 {
		return 0, fmt.Errorf("the job compiles to %d tasks, want one chain", len(jg.Vertices))
	}
	return tasktest.Run(ctx, jg, 1, 1)
}

// handLoopText does the text pipeline's per-record work for records
// [0, n) in one goroutine, with the functions inlined where the compiler
// can, into a checksum of the result strings' lengths.
//
//go:noinline
func handLoopText(n, keys int64) int64 {
	var sum int64
	for i := range n {
		r := throughput.ParseLine(throughput.FormatLine(throughput.Generate(i, keys)))
		if throughput.Valid(r) {
			sum += int64(len(throughput.Render(r)))
		}
	}
	return sum
}

// textStages are the text pipeline's functions as values, called the way
// the operators call them.
type textStages struct {
	generate func(i, keys int64) throughput.Record
	format   func(throughput.Record) string
	parse    func(string) throughput.Record
	valid    func(throughput.Record) bool
	render   func(throughput.Record) string
}

//go:noinline
func newTextStages() textStages {
	return textStages{throughput.Generate, throughput.FormatLine, throughput.ParseLine, throughput.Valid, throughput.Render}
}

//go:noinline
func handLoopTextCalls(n, keys int64, s textStages) int64 {
	var sum int64
	for i := range n {
		r := s.parse(s.format(s.generate(i, keys)))
		if s.valid(r) {
			sum += int64(len(s.render(r)))
		}
	}
	return sum
}

// BenchmarkChainedText: see the file comment. Sub-benchmarks have the
// names of internal/task's BenchmarkChained, which the bench tool reads.
func BenchmarkChainedText(b *testing.B) {
	tasktest.ComparePipeline(b,
		func(ctx context.Context, n int) (int64, error) { return runChain(ctx, textArgs(n)) },
		func(n int64) int64 { return handLoopText(n, benchKeys) },
		func(n int64) int64 { return handLoopTextCalls(n, benchKeys, newTextStages()) })
}

// TestTextJobRuns checks the harness and the text pipeline, untimed: the
// job compiles into one chain of six operators and runs to its end through
// the real task runtime with every record emitted.
func TestTextJobRuns(t *testing.T) {
	env := stream.NewEnv(benchMaxP)
	if err := throughput.Build(env, textArgs(10)); err != nil {
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
	if len(jg.Vertices) != 1 || len(jg.Vertices[0].Operators) != 6 {
		t.Fatalf("text job compiles to %d vertices (first %q), want one chain of 6 operators", len(jg.Vertices), jg.Vertices[0].Name)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const n = 50_000
	pos, err := runChain(ctx, textArgs(n))
	if err != nil {
		t.Fatal(err)
	}
	if pos != n {
		t.Fatalf("source position %d, want %d", pos, n)
	}
	if handLoopText(100, 7) != handLoopTextCalls(100, 7, newTextStages()) {
		t.Error("the two hand loops disagree")
	}
}
