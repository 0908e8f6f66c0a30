// Package task owns one subtask of a deployed job: the operator chain, its
// input gate and barrier alignment, its output writers, its keyed state
// backends and its snapshots. One goroutine runs the subtask (Run); the
// operators need not be safe for concurrent use. Commands from the
// TaskManager (trigger a checkpoint, resume, a checkpoint completed) are
// control state that the same goroutine takes between records when woken
// (see control.go); cancellation is the context's.
package task

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/metrichook"
	"github.com/tide-stream/tide/internal/network"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/state"
)

// Message kinds on a data channel.
const (
	kindRecords byte = iota
	kindBarrier
	// kindEnd closes a channel: nothing follows it.
	kindEnd
	// kindEndOfData says the producer has emitted all its records; the
	// final checkpoint's barrier and kindEnd may follow.
	kindEndOfData
	// kindWatermark carries the producer's watermark: 8 bytes, big endian.
	kindWatermark
	// kindStatus says the producer went idle (payload 1) or active (0).
	kindStatus
)

// DefaultWatermarkInterval is Flink's pipeline.auto-watermark-interval.
const DefaultWatermarkInterval = 200 * time.Millisecond

// Restore is the share of one operator's checkpointed state this subtask
// restores.
type Restore struct {
	Keyed []checkpoint.KeyedSlice
	List  [][]byte
}

// Reporter receives what a subtask reports to the JobManager. The
// TaskManager implements it over its control stream (the wire format is
// its business); its methods must be safe for concurrent use and must not
// block for long.
type Reporter interface {
	// Status reports a change of the subtask's state or progress.
	Status(*rpc.TaskStatus)
	// Ack acknowledges checkpoint id of the attempt with the subtask's
	// snapshots.
	Ack(attempt exec.Attempt, task exec.TaskKey, id checkpoint.ID, snapshots []checkpoint.OperatorSnapshot)
	// Decline says the subtask could not take checkpoint id.
	Decline(attempt exec.Attempt, task exec.TaskKey, id checkpoint.ID, reason string)
}

// Config describes one subtask to run.
type Config struct {
	JobID   string
	Graph   *plan.JobGraph
	Vertex  int
	Subtask int
	Attempt exec.Attempt
	// Parallelism of every vertex, by vertex id.
	Parallelism map[exec.VertexID]int
	// DataAddrs of every vertex's subtasks, by vertex id.
	DataAddrs map[exec.VertexID][]string
	// KeyGroups is the key-group range of this subtask.
	KeyGroups keygroup.Range
	// Restore is the state to restore, by operator id; RestoredCheckpoint
	// is its checkpoint, 0 on a fresh start.
	Restore            map[string]Restore
	RestoredCheckpoint uint64
	Net                *network.Manager
	Storage            blob.Storage
	// BufferSize is the size at which an output buffer is sent.
	BufferSize int
	// BufferTimeout bounds how long a partly filled buffer of a source
	// waits; other subtasks send partly filled buffers when their input
	// runs dry.
	BufferTimeout time.Duration
	// WatermarkInterval is how often a source with a watermark strategy
	// emits its watermark; 0 means DefaultWatermarkInterval.
	WatermarkInterval time.Duration
	// Report receives the subtask's reports for the JobManager.
	Report Reporter
	// Local keeps keyed state in memory across attempts (local recovery);
	// nil disables it.
	Local LocalState
	// StateDir returns the blob prefix of checkpoint id's state objects.
	StateDir func(id uint64) string
	Logger   *slog.Logger
}

// LocalState keeps keyed state backends of ended subtasks in the process,
// so that a subtask of the next attempt that restores the same checkpoint
// takes the key groups it already had from memory instead of the blob
// store. It must be safe for concurrent use.
type LocalState interface {
	// Put offers a backend whose contents are exactly operator op's state
	// at checkpoint cp.
	Put(op string, cp uint64, b *state.Backend)
	// Take removes and returns the offered backend of op at cp that shares
	// the most key groups with r, or nil.
	Take(op string, cp uint64, r keygroup.Range) *state.Backend
}

// Task is one running subtask.
type Task struct {
	cfg    Config
	key    exec.TaskKey
	vertex *plan.Vertex
	log    *slog.Logger

	// ctl is the control state the TaskManager sets and the Run goroutine
	// takes when woken; see control.go.
	ctl struct {
		sync.Mutex
		control
	}
	// completed is the newest checkpoint the JobManager said is complete.
	completed atomic.Uint64
	// wake (1-buffered) tells the Run goroutine that ctl or completed
	// changed. One pending wake covers any number of changes.
	wake chan struct{}
	// sourceWake (1-buffered) ends a source's idle wait: its client has
	// records (Context.Wakeup).
	sourceWake chan struct{}
	// runCtx is Run's context, for the operators' blocking calls; set in
	// setup, before any operator opens.
	runCtx context.Context

	// Owned by the Run goroutine.
	chain      []*link
	source     operator.Source
	inputs     []inputChannel
	readers    []func([]byte) (int, error) // by input edge position, bound to the head's input
	writers    []*recordWriter
	gate       *network.InputGate
	failure    error
	first      time.Time
	last       time.Time
	sourceDone bool
	// wm is the subtask's event time (watermark.go).
	wm watermarks
	// halted sources wait at a checkpoint barrier for cancel or Resume.
	halted bool
	// lastCP is the last checkpoint this subtask snapshotted; lastComplete
	// the last it was told is complete.
	lastCP       uint64
	lastComplete uint64
	// ended is set once the subtask has sent its end of input; it then
	// finishes when checkpoint final is complete.
	ended bool
	final uint64
	// upload tracks the one background upload of keyed state.
	upload sync.WaitGroup
	// dirty is set when records were processed after the last snapshot:
	// the keyed state no longer equals checkpoint lastCP.
	dirty bool
	// idleNs and backPressuredNs accumulate the time the subtask waited for
	// input and for credits on a full output; written by the Run goroutine,
	// read by Sample from any goroutine.
	idleNs, backPressuredNs atomic.Int64
	// recordsIn counts the records read from the network, recordsOut those
	// sent to it; sourceOut is the source's position, published for
	// samples, and sourceAt its position when the subtask opened.
	recordsIn, recordsOut, sourceOut, sourceAt atomic.Int64
	// pending is a source's pending records after its last poll, -1 when
	// it does not know.
	pending atomic.Int64
	// For Gauges, from any goroutine: the output watermark, the keyed state
	// of the last snapshot, the input gate and the output channels once
	// set up.
	watermarkOut, stateBytes atomic.Int64
	gateP                    atomic.Pointer[network.InputGate]
	outsP                    atomic.Pointer[[]*network.Output]
	// waitSince is when the current wait began (unix nanos, 0: not
	// waiting) and waitBP whether it is a wait for credits, so that a
	// sample taken during a long wait counts it.
	waitSince atomic.Int64
	waitBP    atomic.Bool
	started   time.Time
	// restoredBytes counts the state bytes read from the blob store, and
	// localGroups the key groups taken from local state, on restore.
	restoredBytes int64
	localGroups   int
	// metrics holds the series the subtask's operators report
	// (operator.Context.Metrics), for the metrics layer to export.
	metrics *metrichook.Registry
}

// link is one operator of the chain.
type link struct {
	op      *plan.Operator
	hooks   operator.Hooks
	backend *state.Backend
	// local are the key groups the backend already holds from local state.
	local keygroup.Range
	// snapBuf holds the last keyed snapshot; the upload reads it until the
	// next checkpoint, which reuses its memory.
	snapBuf []byte
	// opened is set once Open was called: Close is due.
	opened bool
	ctx    *opContext
}

type inputChannel struct {
	edgePos int
	id      network.ChannelID
}

// New prepares a subtask; Run runs it.
func New(cfg Config) *Task {
	v := cfg.Graph.Vertices[cfg.Vertex]
	log := cfg.Logger.With("task", fmt.Sprintf("%s[%d]", v.ID, cfg.Subtask), "attempt", cfg.Attempt)
	return &Task{
		cfg:          cfg,
		key:          exec.TaskKey{Vertex: v.ID, Subtask: cfg.Subtask},
		vertex:       v,
		log:          log,
		started:      time.Now(),
		wake:         make(chan struct{}, 1),
		sourceWake:   make(chan struct{}, 1),
		pending:      pendingUnknown(),
		watermarkOut: func() (a atomic.Int64) { a.Store(math.MinInt64); return }(),
		metrics:      metrichook.NewRegistry(),
	}
}

// Metrics returns the registry of the series the subtask's operators
// report. It is safe for concurrent use.
func (t *Task) Metrics() *metrichook.Registry { return t.metrics }

// Sample returns the subtask's cumulative time split since it was created:
// the rest of its uptime was busy. It is safe for concurrent use.
func (t *Task) Sample() rpc.TaskSample {
	now := time.Now()
	s := rpc.TaskSample{Task: rpc.WireKey(t.key), UptimeNs: now.Sub(t.started).Nanoseconds(),
		IdleNs: t.idleNs.Load(), BackPressuredNs: t.backPressuredNs.Load(),
		RecordsIn: t.recordsIn.Load(), RecordsOut: t.recordsOut.Load(), SourcePosition: t.sourceOut.Load()}
	s.PendingRecords = -1
	if t.cfg.Graph.IsSource(t.cfg.Vertex) {
		// A source's records come from its system: those its splits
		// emitted since the subtask opened.
		s.RecordsIn = s.SourcePosition - t.sourceAt.Load()
		s.PendingRecords = t.pending.Load()
	}
	if since := t.waitSince.Load(); since != 0 {
		if d := now.UnixNano() - since; t.waitBP.Load() {
			s.BackPressuredNs += d
		} else {
			s.IdleNs += d
		}
	}
	return s
}

// beginWait and endWait bracket a wait for input (idle) or for credits
// (backpressured); only the Run goroutine calls them.
func (t *Task) beginWait(backPressured bool) {
	t.waitBP.Store(backPressured)
	t.waitSince.Store(time.Now().UnixNano())
}

func (t *Task) endWait() {
	since := t.waitSince.Swap(0)
	if since == 0 {
		return
	}
	d := time.Now().UnixNano() - since
	if t.waitBP.Load() {
		t.backPressuredNs.Add(d)
	} else {
		t.idleNs.Add(d)
	}
}

// Key names the subtask.
func (t *Task) Key() exec.TaskKey { return t.key }

// Run runs the subtask until it finishes, fails or ctx is canceled, and
// reports its final state. It returns the failure, if any.
func (t *Task) Run(ctx context.Context) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer func() {
		panicked := false
		if r := recover(); r != nil {
			err, panicked = &Failure{Domain: rpc.DomainUser, Err: fmt.Errorf("panic: %v", r)}, true
		}
		t.upload.Wait()
		if errors.Is(err, context.Canceled) && !panicked && t.failure == nil {
			t.keepLocal()
		}
		for _, l := range t.chain {
			if !l.opened {
				continue // Close follows an Open, as the Hooks contract says
			}
			if cerr := closeHooks(l); cerr != nil && err == nil && ctx.Err() == nil {
				err = cerr
			}
		}
		for _, w := range t.writers {
			w.close()
		}
		t.reportEnd(ctx, err)
	}()
	if err := t.setup(ctx); err != nil {
		return err
	}
	running := &rpc.TaskStatus{State: rpc.TaskRunning, RestoredBytes: t.restoredBytes, LocalKeyGroups: t.localGroups}
	if t.source != nil {
		// The restored position: what a crash before the first progress
		// report makes the job read again is counted from here.
		running.SourcePosition = t.source.Position()
	}
	t.report(running)
	if t.source != nil {
		return t.runSource(ctx)
	}
	return t.runInputs(ctx)
}

// keepLocal offers the keyed backends to the process's local state when
// they still equal the last checkpoint: the subtask was canceled, not
// failed, and processed no record after its last snapshot (sources halt
// after a rescale checkpoint's barrier, so a planned rescale ends so).
func (t *Task) keepLocal() {
	if t.cfg.Local == nil || t.dirty || t.lastCP == 0 {
		return
	}
	for _, l := range t.chain {
		if l.backend != nil {
			l.backend.Release()
			t.cfg.Local.Put(l.op.ID, t.lastCP, l.backend)
		}
	}
}

func (t *Task) reportEnd(ctx context.Context, err error) {
	st := &rpc.TaskStatus{State: rpc.TaskFinished}
	switch {
	case err != nil && ctx.Err() == nil:
		st.State, st.Error, st.Domain = rpc.TaskFailed, err.Error(), domainOf(err)
		t.log.Error("task failed", "err", err)
	case err != nil || ctx.Err() != nil:
		st.State = rpc.TaskCanceled
	}
	if t.source != nil {
		st.SourcePosition = t.source.Position()
	}
	t.report(st)
}

func (t *Task) report(st *rpc.TaskStatus) {
	st.Attempt, st.Task = uint64(t.cfg.Attempt), rpc.WireKey(t.key)
	if !t.first.IsZero() {
		st.FirstRecordUnixNano = t.first.UnixNano()
	}
	if !t.last.IsZero() {
		st.LastRecordUnixNano = t.last.UnixNano()
	}
	t.cfg.Report.Status(st)
}

// progress notes that records were processed now.
func (t *Task) progress() {
	now := time.Now()
	if t.first.IsZero() {
		t.first = now
		t.last = now
		t.report(&rpc.TaskStatus{State: rpc.TaskRunning})
		return
	}
	t.last = now
}

// Failure is a task failure with its domain, which the scheduler uses to
// decide between restarting and failing the job.
type Failure struct {
	Domain rpc.FailureDomain
	Err    error
}

func (f *Failure) Error() string { return f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

func domainOf(err error) rpc.FailureDomain {
	var f *Failure
	switch {
	case operator.IsPermanent(err):
		return rpc.DomainPermanent
	case errors.As(err, &f):
		return f.Domain
	case errors.Is(err, state.ErrCorrupt):
		return rpc.DomainCorruptCheckpoint
	}
	var ce *network.ChannelError
	if errors.As(err, &ce) {
		return rpc.DomainExternal
	}
	return rpc.DomainInternal
}

// closeHooks closes one operator; a panic in its (user) Close is a user
// failure like any other, not a crash of the TaskManager: Run's own
// recover has already run when the cleanup calls it.
func closeHooks(l *link) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Failure{Domain: rpc.DomainUser, Err: fmt.Errorf("close %s: panic: %v", l.op.ID, r)}
		}
	}()
	if cerr := l.hooks.Close(); cerr != nil {
		return fmt.Errorf("close %s: %w", l.op.ID, cerr)
	}
	return nil
}

// pendingUnknown is a pending count that says "not known".
func pendingUnknown() (a atomic.Int64) {
	a.Store(-1)
	return
}

// Gauges are a subtask's current values for the metrics layer.
type Gauges struct {
	// Watermark is the subtask's output watermark, ms since the Unix
	// epoch; math.MinInt64 while it has none.
	Watermark int64
	// StateBytes is the keyed state its last snapshot wrote.
	StateBytes int64
	// InputQueued is the messages waiting at its input gate, of
	// InputCapacity (0 for a source).
	InputQueued, InputCapacity int
	// OutputCredits sums the credits of its output channels: 0 while every
	// consumer applies backpressure; OutputChannels counts them.
	OutputCredits, OutputChannels int
}

// Gauges returns the subtask's current values. It is safe for concurrent
// use.
func (t *Task) Gauges() Gauges {
	g := Gauges{Watermark: t.watermarkOut.Load(), StateBytes: t.stateBytes.Load()}
	if gate := t.gateP.Load(); gate != nil {
		g.InputQueued, g.InputCapacity = gate.Backlog()
	}
	if outs := t.outsP.Load(); outs != nil {
		for _, o := range *outs {
			g.OutputCredits += o.Credits()
		}
		g.OutputChannels = len(*outs)
	}
	return g
}
