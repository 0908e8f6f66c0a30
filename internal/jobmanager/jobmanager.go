// Package jobmanager is the JobManager process shell. One goroutine, the
// loop, owns the pure cores — the adaptive scheduler, the slot pool, the
// heartbeat tracker and the checkpoint coordinator — feeds them events (a
// TaskManager registered, a task reported, time passed) and performs the
// IO their Ready asks for: messages to TaskManagers, checkpoint metadata to
// the blob store. Control streams, the REST API and timers only send events
// into the loop; the REST API reads a snapshot the loop publishes.
package jobmanager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tide-stream/tide/internal/attempt"
	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/checkpointstore"
	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/heartbeat"
	"github.com/tide-stream/tide/internal/jobs"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/scheduler"
	"github.com/tide-stream/tide/internal/slotpool"
	"github.com/tide-stream/tide/internal/transport"
	"golang.org/x/net/netutil"
)

// Config configures a JobManager.
type Config struct {
	JobName string
	JobArgs []string
	Jobs    *jobs.Registry
	Version string
	// RPCAddr is where TaskManagers register (host:port).
	RPCAddr string
	// MaxParallelism is pipeline.max-parallelism.
	MaxParallelism int
	Scheduler      scheduler.Config
	Checkpoint     checkpoint.Config
	// CheckpointsDir is the blob URL of state.checkpoints.dir.
	CheckpointsDir string
	// SavepointPath restores the job from this checkpoint or savepoint when
	// it starts a new run (see Recovery).
	SavepointPath string
	// Recovery is jobmanager.recovery: whether a JobManager started for a
	// job whose run has not ended resumes it from its latest checkpoint.
	Recovery config.Recovery
	// IgnoreUnclaimedState is execution.savepoint.ignore-unclaimed-state.
	IgnoreUnclaimedState bool
	HeartbeatInterval    time.Duration
	HeartbeatTimeout     time.Duration
	// WatermarkInterval is pipeline.auto-watermark-interval, which the
	// TaskManagers' sources follow; 0 leaves their default.
	WatermarkInterval time.Duration
	// Effective is the effective configuration GET /jobmanager/config
	// shows, secrets masked (see EffectiveConfig); FromConfig fills it.
	Effective map[string]string
	// TaskManagerConfig is passed to TaskManagers at registration.
	TaskManagerConfig map[string]string
	// ShutdownDelay keeps the JobManager up after the job reached a terminal
	// state, so that clients can read it.
	ShutdownDelay time.Duration
	Logger        *slog.Logger
	// Network is where the control endpoint listens. Default (nil): TCP.
	Network transport.Network
	// OpenStorage opens CheckpointsDir. Default (nil): blob.Open. A
	// simulation shares one store between the JobManager and its
	// TaskManagers (blob.Share).
	OpenStorage blob.Opener
	// StoreRetryFor bounds how long a starting JobManager retries its
	// checkpoint storage's failures; 0: storeRetryFor (60s). Not a
	// configuration key: tests shorten it.
	StoreRetryFor time.Duration
}

// JobManager runs one job.
type JobManager struct {
	cfg   Config
	log   *slog.Logger
	jobID string
	// incarnation is a random id of this JobManager process.
	incarnation string
	graph       *plan.JobGraph
	storage     blob.Storage
	store       *checkpointstore.Store
	// retryUntil is when start-up storage IO stops being retried.
	retryUntil time.Time
	lis        net.Listener
	started    time.Time

	events chan event
	view   atomic.Pointer[View]
	// done is closed when the job reached a terminal state.
	done chan struct{}

	// Owned by the loop goroutine.
	sched *scheduler.Scheduler
	coord *checkpoint.Coordinator
	pool  *slotpool.Pool
	hb    *heartbeat.Tracker
	tms   map[string]*tmConn
	// life is the attempt lifecycle; placed is where the deployed attempt
	// runs, and rates its subtasks' time split.
	life   *attempt.Lifecycle
	placed *placement
	rates  map[exec.TaskKey]*taskRates
	// subtasks tracks the deployed attempt's subtasks for the REST API;
	// cpTasks the recent checkpoints' acknowledgements per vertex, and
	// cpSummary the completed checkpoints' durations and sizes; stateTimes
	// when the job last entered each state (lastState).
	subtasks   map[exec.TaskKey]*subtaskTrack
	cpTasks    map[checkpoint.ID]*cpTrack
	cpSummary  checkpointSummary
	stateTimes map[string]int64
	lastState  string
	prevSlots  []slotpool.Slot
	// completed maps checkpoint ids to their metadata paths.
	completed map[checkpoint.ID]string
	// initial is what the first attempt restores, decided by recover: the
	// run's latest checkpoint or a savepoint; nil for empty state.
	initial *restorePoint
	// start is recover's decision.
	start *start
	// record is the job record, claimed at Run.
	record *jobRecord
	// stopErr is set when the JobManager must not go on — another one has
	// taken charge of the job (errReplaced), or its checkpoint directory is
	// not the one the job ran with: the loop stops with it.
	stopErr    error
	savepoints map[string]*savepointReq
	// savepointOrder is the savepoint requests' ids, oldest first;
	// savepointSeq numbers the ids the JobManager makes up.
	savepointOrder []string
	savepointSeq   int
	// exceptions is the exception history, oldest first (bounded);
	// exceptionsAttempt is the attempt of its newest entry.
	exceptions          []rest.ExceptionEntry
	exceptionsAttempt   exec.Attempt
	exceptionsTruncated bool
	// copying counts the savepoint copies under way: the JobManager of an
	// ended job waits for them before it goes.
	copying int
	// keepDir holds the failed checkpoints whose directory another
	// JobManager wrote metadata into: not to discard.
	keepDir map[checkpoint.ID]bool
	io      *ioState
	// discovery is the split discoverer's work; enums are the split
	// enumerators made so far, by operator index, and splitSets what the
	// deployed attempt's enumerated sources hold. runCtx ends with Run.
	discovery *discovery
	enums     map[int]operator.SplitEnumerator
	splitSets map[int]*splitSet
	runCtx    context.Context
	// redrain says drain stopped with work left for the next round.
	redrain    bool
	nextReg    int
	terminalAt time.Time
}

// New builds the job graph and opens the checkpoint storage.
func New(cfg Config) (*JobManager, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	jg, err := cfg.Jobs.Build(cfg.JobName, cfg.JobArgs, cfg.MaxParallelism)
	if err != nil {
		return nil, err
	}
	jobID := JobID(cfg.JobName, cfg.JobArgs, cfg.MaxParallelism)
	st, err := blob.OpenerOr(cfg.OpenStorage)(context.Background(), cfg.CheckpointsDir)
	if err != nil {
		return nil, fmt.Errorf("open state.checkpoints.dir %s: %w", cfg.CheckpointsDir, err)
	}
	var inc [8]byte
	rand.Read(inc[:])
	jm := &JobManager{
		incarnation: hex.EncodeToString(inc[:]),
		cfg:         cfg,
		log:         cfg.Logger.With("job", cfg.JobName),
		jobID:       jobID,
		graph:       jg,
		storage:     st,
		events:      make(chan event, 1024),
		io:          newIOState(),
		discovery:   newDiscovery(),
		enums:       map[int]operator.SplitEnumerator{},
		done:        make(chan struct{}),
		tms:         map[string]*tmConn{},
		cpTasks:     map[checkpoint.ID]*cpTrack{},
		completed:   map[checkpoint.ID]string{},
		keepDir:     map[checkpoint.ID]bool{},
		savepoints:  map[string]*savepointReq{},
		pool:        slotpool.New(),
		hb:          heartbeat.NewTracker(cfg.HeartbeatInterval, cfg.HeartbeatTimeout),
	}
	jm.store = checkpointstore.New(st, jobID, jm.log)
	jm.log = jm.log.With("job_id", jobID)
	jm.retryUntil = time.Now().Add(jm.retryFor())
	if err := jm.probe(context.Background()); err != nil {
		st.Close()
		return nil, err
	}
	start, err := jm.recover(context.Background())
	if err != nil {
		st.Close()
		return nil, err
	}
	jm.start, jm.initial = start, start.initial
	jm.record = &jobRecord{store: jm.store}
	hasInputs := false
	for vi := range jg.Vertices {
		if !jg.IsSource(vi) {
			hasInputs = true
		}
	}
	jm.started = time.Now()
	jm.life = attempt.New(attempt.Config{HasInputs: hasInputs, HistoryLimit: historyLimit, Logger: jm.log}, jm.started)
	jm.publish()
	return jm, nil
}

// JobID is the job's id.
func (jm *JobManager) JobID() string { return jm.jobID }

// Graph is the job graph.
func (jm *JobManager) Graph() *plan.JobGraph { return jm.graph }

// Done is closed when the job has reached a terminal state.
func (jm *JobManager) Done() <-chan struct{} { return jm.done }

// maxControlConns bounds the control connections open at once.
const maxControlConns = 4096

// Listen binds the control address; Run serves it.
func (jm *JobManager) Listen() (string, error) {
	lis, err := transport.Or(jm.cfg.Network).Listen(jm.cfg.RPCAddr)
	if err != nil {
		return "", fmt.Errorf("listen on jobmanager.rpc address %s: %w", jm.cfg.RPCAddr, err)
	}
	// Each TaskManager holds one connection; past this many, Accept waits
	// for one to close, so that a flood cannot exhaust the process.
	jm.lis = netutil.LimitListener(lis, maxControlConns)
	return lis.Addr().String(), nil
}

// Run serves until ctx ends or the job has been terminal for ShutdownDelay.
func (jm *JobManager) Run(ctx context.Context) error {
	if jm.lis == nil {
		if _, err := jm.Listen(); err != nil {
			return err
		}
	}
	defer jm.storage.Close()
	jm.started = time.Now()
	if err := jm.claim(ctx); err != nil {
		return err
	}
	if err := jm.init(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The IO worker outlives the loop to write what the loop left it (the
	// job's result), but not by more than ioDrainTimeout.
	ioCtx, ioCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer ioCancel()
	srv := rpc.NewServer(func(st rpc.Stream) error { return jm.serveStream(ctx, st) })
	var wg sync.WaitGroup
	ioDone := make(chan struct{})
	go func() { // owner: Run; ends when jm.io is closed and drained, or ioCtx ends
		defer close(ioDone)
		jm.ioWorker(ioCtx)
	}()
	wg.Add(1)
	go func() { // owner: Run; ends at srv.Stop
		defer wg.Done()
		if err := srv.Serve(jm.lis); err != nil {
			jm.log.Error("control server stopped", "err", err)
		}
	}()
	jm.runCtx = ctx
	wg.Add(1)
	go func() { // owner: Run; ends when ctx is canceled
		defer wg.Done()
		jm.discoverer(ctx)
	}()
	err := jm.loop(ctx)
	cancel()
	srv.Stop()
	wg.Wait()
	jm.closeEnumerators()
	jm.io.close()
	select {
	case <-ioDone:
	case <-time.After(ioDrainTimeout):
		jm.log.Error("checkpoint storage did not finish the last writes in time; giving up", "timeout", ioDrainTimeout)
		ioCancel()
		<-ioDone
	}
	return err
}

// ioDrainTimeout bounds the blob IO a stopping JobManager still does.
const ioDrainTimeout = 10 * time.Second

// init prepares the cores and finds the state to start from.
func (jm *JobManager) init(ctx context.Context) error {
	now := time.Now()
	var vs []scheduler.Vertex
	for _, v := range jm.graph.Vertices {
		vs = append(vs, scheduler.Vertex{ID: v.ID, MaxParallelism: v.MaxParallelism})
	}
	jm.cfg.Scheduler.Logger = jm.log
	jm.cfg.Scheduler.AttemptsAfter = jm.start.attemptsAfter
	jm.sched = scheduler.New(jm.cfg.Scheduler, vs, now)
	cc := jm.cfg.Checkpoint
	cc.JobID, cc.MaxParallelism, cc.Logger = jm.jobID, jm.cfg.MaxParallelism, jm.log
	cc.FirstID, cc.Retained = jm.start.firstID, jm.start.retained
	jm.coord = checkpoint.NewCoordinator(cc, now)
	for _, id := range jm.start.discard {
		jm.io.discardCheckpoint(id)
	}
	jm.publish()
	return nil
}

// restorePoint is a checkpoint to restore.
type restorePoint struct {
	md   *checkpoint.Metadata
	path string
}

// key turns a location under state.checkpoints.dir (a URL, as the REST API
// reports it) or a key relative to it into a blob key.
func (jm *JobManager) key(location string) (string, bool) {
	root := strings.TrimSuffix(jm.cfg.CheckpointsDir, "/") + "/"
	if k, ok := strings.CutPrefix(location, root); ok {
		return k, true
	}
	if !strings.Contains(location, "://") && !strings.HasPrefix(location, "/") {
		return location, true
	}
	return "", false
}

// location is the URL of a blob key, as users see it.
func (jm *JobManager) location(key string) string {
	return strings.TrimSuffix(jm.cfg.CheckpointsDir, "/") + "/" + key
}
