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
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/tide-stream/tide/examples/throughput"
	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/network"
	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/task"
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
// real task.Task on a network.Manager with mem:// storage, and the harness
// plays the JobManager's part at the end (the final checkpoint). It returns
// the source's final position.
func runChain(ctx context.Context, args []string) (int64, error) {
	env := stream.NewEnv(benchMaxP)
	if err := throughput.Build(env, args); err != nil {
		return 0, err
	}
	g, err := env.Plan()
	if err != nil {
		return 0, err
	}
	jg, err := plan.Compile(g)
	if err != nil {
		return 0, err
	}
	if len(jg.Vertices) != 1 {
		return 0, fmt.Errorf("the job compiles to %d tasks, want one chain", len(jg.Vertices))
	}
	v := jg.Vertices[0]
	net, err := network.Listen(network.Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		return 0, fmt.Errorf("listen: %w", err)
	}
	defer net.Close()
	store, err := blob.Open(ctx, "mem://")
	if err != nil {
		return 0, err
	}
	defer store.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan *rpc.Envelope, 1024) // Report must not block: the loop below drains it
	t := task.New(task.Config{
		JobID: "bench", Graph: jg, Vertex: 0, Subtask: 0, Attempt: 1,
		Parallelism: map[string]int{v.ID: 1}, DataAddrs: map[string][]string{v.ID: {net.Addr()}},
		KeyGroups: keygroup.RangeFor(v.KeyGroups, 1, 0),
		Net:       net, Storage: store,
		BufferSize: 32 << 10, BufferTimeout: 100 * time.Millisecond,
		Report:   func(e *rpc.Envelope) { events <- e },
		StateDir: func(id uint64) string { return fmt.Sprintf("bench/chk-%d/", id) },
		Logger:   slog.New(slog.DiscardHandler),
	})
	done := make(chan error, 1)
	go func() { done <- t.Run(ctx) }() // owner: runChain, which waits for it below
	var position int64
	handle := func(e *rpc.Envelope) error {
		switch {
		case e.TaskStatus != nil && e.TaskStatus.SourceDone:
			t.TriggerCheckpoint(1, true, false)
		case e.TaskStatus != nil && e.TaskStatus.State == rpc.TaskFinished:
			position += e.TaskStatus.SourcePosition
		case e.Ack != nil:
			t.CheckpointComplete(e.Ack.Checkpoint)
		case e.Decline != nil:
			return fmt.Errorf("declined checkpoint %d: %s", e.Decline.Checkpoint, e.Decline.Reason)
		}
		return nil
	}
	for {
		select {
		case err := <-done:
			for { // final statuses are reported before Run returns
				select {
				case e := <-events:
					if herr := handle(e); herr != nil && err == nil {
						err = herr
					}
					continue
				default:
				}
				return position, err
			}
		case e := <-events:
			if err := handle(e); err != nil {
				cancel()
				<-done
				return 0, err
			}
		}
	}
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
	b.Run("pipeline", func(b *testing.B) {
		pos, err := runChain(b.Context(), textArgs(b.N))
		if err != nil {
			b.Fatal(err)
		}
		if pos != int64(b.N) {
			b.Fatalf("source position %d, want %d", pos, b.N)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("handloop", func(b *testing.B) {
		if handLoopText(int64(b.N), benchKeys) == 1 {
			b.Log("checksum 1") // keeps the result alive
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("handloop-calls", func(b *testing.B) {
		if handLoopTextCalls(int64(b.N), benchKeys, newTextStages()) == 1 {
			b.Log("checksum 1")
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
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
