// Package tasktest runs a compiled job graph on real task.Tasks in one
// process, without a JobManager: the harness of the runtime's benchmarks.
package tasktest

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/network"
	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/task"
)

// Run runs a bounded job graph to its end at parallelism p (capped by each
// vertex's bound) on managers network.Managers on loopback (subtask i runs
// on manager i mod managers), with mem:// storage, and plays the
// JobManager's part at the end of the input: when every source is done it
// triggers the final checkpoint and completes it once every subtask
// acknowledged. It returns the sources' final positions summed.
func Run(ctx context.Context, jg *plan.JobGraph, p, managers int) (int64, error) {
	var err error
	nets := make([]*network.Manager, managers)
	for i := range nets {
		if nets[i], err = network.Listen(network.Config{ListenAddr: "127.0.0.1:0"}); err != nil {
			return 0, fmt.Errorf("listen: %w", err)
		}
		defer nets[i].Close()
	}
	store, err := blob.Open(ctx, "mem://")
	if err != nil {
		return 0, err
	}
	defer store.Close()
	par, addrs := map[exec.VertexID]int{}, map[exec.VertexID][]string{}
	for _, v := range jg.Vertices {
		n := min(p, v.MaxParallelism)
		par[v.ID] = n
		for i := range n {
			addrs[v.ID] = append(addrs[v.ID], nets[i%managers].Addr())
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Report must not block the subtask for long: the loop below drains it.
	events := make(chan *rpc.Envelope, 1024)
	type ran struct {
		t   *task.Task
		err error
	}
	done := make(chan ran, 64)
	var tasks, sources []*task.Task
	for vi, v := range jg.Vertices {
		for i := range par[v.ID] {
			t := task.New(task.Config{
				JobID: "bench", Graph: jg, Vertex: vi, Subtask: i, Attempt: 1,
				Parallelism: par, DataAddrs: addrs,
				KeyGroups: keygroup.RangeFor(v.KeyGroups, par[v.ID], i),
				Net:       nets[i%managers], Storage: store,
				BufferSize: 32 << 10, BufferTimeout: 100 * time.Millisecond,
				Report:   envelopes(events),
				StateDir: func(id uint64) string { return fmt.Sprintf("bench/chk-%d/", id) },
				Logger:   slog.New(slog.DiscardHandler),
			})
			tasks = append(tasks, t)
			if jg.IsSource(vi) {
				sources = append(sources, t)
			}
			go func() { done <- ran{t, t.Run(ctx)} }() // owner: runJob, which waits for every task below
		}
	}
	var position int64
	sourcesDone, acks, finished := 0, 0, 0
	var failure error
	for finished < len(tasks) {
		select {
		case r := <-done:
			finished++
			if r.err != nil && failure == nil {
				failure = fmt.Errorf("task %v: %w", r.t.Key(), r.err)
				cancel()
			}
		case e := <-events:
			switch {
			case e.TaskStatus != nil && e.TaskStatus.SourceDone:
				if sourcesDone++; sourcesDone == len(sources) {
					for _, s := range sources {
						s.TriggerCheckpoint(1, true, false)
					}
				}
			case e.TaskStatus != nil && e.TaskStatus.State == rpc.TaskFinished:
				position += e.TaskStatus.SourcePosition
			case e.Ack != nil:
				if acks++; acks == len(tasks) {
					for _, t := range tasks {
						t.CheckpointComplete(e.Ack.Checkpoint)
					}
				}
			case e.Decline != nil:
				return 0, fmt.Errorf("task %v declined checkpoint %d: %s", e.Decline.Task, e.Decline.Checkpoint, e.Decline.Reason)
			}
		}
	}
	// Final statuses are reported before Run returns; collect the rest.
	for {
		select {
		case e := <-events:
			if e.TaskStatus != nil && e.TaskStatus.State == rpc.TaskFinished {
				position += e.TaskStatus.SourcePosition
			}
			continue
		default:
		}
		break
	}
	return position, failure
}

// ComparePipeline runs the three sub-benchmarks the bench tool reads:
// "pipeline" (run must process n records through the runtime and return
// the sources' position), "handloop" and "handloop-calls" (the same
// per-record work as plain loops, inlined and through func values), each
// reporting records/s.
func ComparePipeline(b *testing.B, run func(ctx context.Context, n int) (int64, error), handLoop, handLoopCalls func(n int64) int64) {
	b.Run("pipeline", func(b *testing.B) {
		pos, err := run(b.Context(), b.N)
		if err != nil {
			b.Fatal(err)
		}
		if pos != int64(b.N) {
			b.Fatalf("source position %d, want %d", pos, b.N)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	for name, loop := range map[string]func(int64) int64{"handloop": handLoop, "handloop-calls": handLoopCalls} {
		b.Run(name, func(b *testing.B) {
			if loop(int64(b.N)) == 1 {
				b.Log("checksum 1") // keeps the result alive
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// envelopes is a task.Reporter that puts each report on a channel, as the
// TaskManager puts it on its control stream.
type envelopes chan *rpc.Envelope

func (c envelopes) Status(st *rpc.TaskStatus) { c <- &rpc.Envelope{TaskStatus: st} }
func (c envelopes) Ack(attempt exec.Attempt, task exec.TaskKey, id checkpoint.ID, snaps []checkpoint.OperatorSnapshot) {
	c <- &rpc.Envelope{Ack: &rpc.CheckpointAck{Attempt: uint64(attempt), Checkpoint: uint64(id), Task: rpc.WireKey(task), Snapshots: rpc.WireSnapshots(snaps)}}
}

func (c envelopes) Decline(attempt exec.Attempt, task exec.TaskKey, id checkpoint.ID, reason string) {
	c <- &rpc.Envelope{Decline: &rpc.CheckpointDecline{Attempt: uint64(attempt), Checkpoint: uint64(id), Task: rpc.WireKey(task), Reason: reason}}
}
