package jobmanager

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/jobs"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/scheduler"
	"github.com/tide-stream/tide/stream"
)

// syncBuffer is a log sink the test reads while the JobManager writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startJM runs a JobManager with a one-source job on loopback and returns
// its control address and log.
func startJM(t *testing.T) (*JobManager, string, *syncBuffer) {
	t.Helper()
	var reg jobs.Registry
	reg.Register("job", func(env *stream.Env, _ []string) error {
		src := stream.FromSource(env, stream.Source[int64]{Name: "src", Open: func(stream.SourceContext, [][]byte) (stream.SourceReader[int64], error) {
			return nil, nil
		}})
		stream.Discard(src)
		return nil
	})
	logs := &syncBuffer{}
	jm, err := New(Config{
		JobName: "job", Jobs: &reg, Version: "v1", RPCAddr: "127.0.0.1:0", MaxParallelism: 8,
		Scheduler:      scheduler.Config{Reactive: true, StabilizationTimeout: 20 * time.Millisecond, ResourceWaitTimeout: -1},
		CheckpointsDir: "file://" + t.TempDir(), HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: 10 * time.Second,
		ShutdownDelay: time.Hour, Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := jm.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); jm.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return jm, addr, logs
}

// fakeTM is a TaskManager played by the test over the real control stream.
type fakeTM struct {
	t  *testing.T
	st rpc.Stream
}

func connect(t *testing.T, addr, version string) (*fakeTM, *rpc.Envelope) {
	t.Helper()
	tm, first, err := connectAs(t, addr, rpc.Register{ResourceID: "fake", Version: version, Slots: 1, DataAddr: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	return tm, first
}

// connectAs registers reg and returns the JobManager's answer, or the
// error that ended the stream first.
func connectAs(t *testing.T, addr string, reg rpc.Register) (*fakeTM, *rpc.Envelope, error) {
	t.Helper()
	cc, err := rpc.Dial(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); cc.Close() })
	st, err := rpc.Connect(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&rpc.Envelope{Register: &reg}); err != nil {
		t.Fatal(err)
	}
	first, err := st.Recv()
	return &fakeTM{t: t, st: st}, first, err
}

func (f *fakeTM) send(e *rpc.Envelope) {
	f.t.Helper()
	if err := f.st.Send(e); err != nil {
		f.t.Fatal(err)
	}
}

func waitLog(t *testing.T, logs *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(logs.String(), want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the jobmanager never logged %q; log:\n%s", want, logs.String())
}

// TestBadControlMessages sends what a confused or stale TaskManager might:
// another version, leaving twice, acknowledgements and declines of an
// attempt that does not run. Each is refused or ignored with a log line
// naming it, and the JobManager carries on.
func TestBadControlMessages(t *testing.T) {
	jm, addr, logs := startJM(t)

	if _, first := connect(t, addr, "v0-other"); first.Refused == nil || !strings.Contains(first.Refused.Reason, "v0-other") {
		t.Fatalf("a taskmanager of another version got %+v, want a refusal naming its version", first)
	}

	tm, first := connect(t, addr, "v1")
	if first.Registered == nil {
		t.Fatalf("registration answered %+v (refused: %+v)", first, first.Refused)
	}
	tm.send(&rpc.Envelope{Ack: &rpc.CheckpointAck{Attempt: 99, Checkpoint: 7, Task: rpc.TaskKey{Vertex: "v0-src", Subtask: 0}}})
	waitLog(t, logs, "ignored a checkpoint acknowledgement")
	tm.send(&rpc.Envelope{Decline: &rpc.CheckpointDecline{Attempt: 99, Checkpoint: 7, Reason: "test"}})
	waitLog(t, logs, "ignored a checkpoint decline")
	tm.send(&rpc.Envelope{TaskStatus: &rpc.TaskStatus{Attempt: 99, Task: rpc.TaskKey{Vertex: "v0-src"}, State: rpc.TaskFailed}})
	tm.send(&rpc.Envelope{})
	waitLog(t, logs, "ignoring an unknown message")

	tm.send(&rpc.Envelope{Leaving: &rpc.Leaving{Reason: "test"}})
	waitLog(t, logs, "taskmanager is leaving")
	tm.send(&rpc.Envelope{Leaving: &rpc.Leaving{Reason: "again"}})
	waitLog(t, logs, "announced leaving twice")

	tms := jm.Backend().TaskManagers()
	if len(tms) != 1 || !tms[0].Leaving {
		t.Fatalf("taskmanagers after leaving: %+v", tms)
	}
	if st := jm.Backend().Overview(); st.JobsRunning != 1 {
		t.Fatalf("the job is no longer running after bad messages: %+v", st)
	}
}

// TestRefusalsSayWhetherToRetry: a TaskManager of another version is refused
// for good; one that registers while the job has ended and its JobManager is
// stopping is refused for now, so that it keeps registering for the next
// JobManager at that address.
func TestRefusalsSayWhetherToRetry(t *testing.T) {
	jm, addr, _ := startJM(t)
	if _, first := connect(t, addr, "v0-other"); first.Refused == nil || first.Refused.Retry {
		t.Fatalf("another version got %+v, want a refusal for good", first.Refused)
	}
	if err := jm.Backend().Cancel(context.Background(), jm.JobID()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for jm.Backend().Overview().JobsCancelled == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	_, first := connect(t, addr, "v1")
	if first.Refused == nil || !first.Refused.Retry || !strings.Contains(first.Refused.Reason, "CANCELED") {
		t.Fatalf("registration with an ended job got %+v, want a refusal for now", first.Refused)
	}
}

// TestTaskManagersVouchForTheJobRecord: a TaskManager that ran an attempt of
// this job that the JobManager deployed itself registers again (after being
// fenced, say); one that ran an attempt nobody leased in the job record
// shows that the record is not the one the job ran with, and the
// JobManager stops rather than run the job over its committed output.
func TestTaskManagersVouchForTheJobRecord(t *testing.T) {
	jm, addr, logs := startJM(t)
	if _, first := connect(t, addr, "v1"); first.Registered == nil {
		t.Fatalf("registration answered %+v", first)
	}
	var ran uint64
	deadline := time.Now().Add(10 * time.Second)
	for ran == 0 && time.Now().Before(deadline) {
		if j, err := jm.Backend().Job(jm.JobID()); err == nil {
			ran = uint64(j.Attempt)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ran == 0 {
		t.Fatal("the jobmanager deployed no attempt")
	}
	_, again, err := connectAs(t, addr, rpc.Register{ResourceID: "back", Version: "v1", Slots: 1, DataAddr: "127.0.0.1:2",
		LastJobID: jm.JobID(), LastAttempt: ran})
	if err != nil || again.Registered == nil {
		t.Fatalf("a taskmanager that ran attempt %d of this jobmanager was refused: %+v %v", ran, again, err)
	}
	// The JobManager stops at once: the refusal may not reach the
	// TaskManager before its stream ends.
	_, stranger, err := connectAs(t, addr, rpc.Register{ResourceID: "stranger", Version: "v1", Slots: 1, DataAddr: "127.0.0.1:3",
		LastJobID: jm.JobID(), LastAttempt: ran + 5})
	if err == nil && (stranger.Refused == nil || !stranger.Refused.Retry) {
		t.Fatalf("a taskmanager that ran an attempt nobody leased got %+v, want a refusal for now", stranger)
	}
	waitLog(t, logs, "is not the directory the job ran with")
}
