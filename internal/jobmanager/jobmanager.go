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

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/checkpointstore"
	"github.com/tide-stream/tide/internal/heartbeat"
	"github.com/tide-stream/tide/internal/jobs"
	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/scheduler"
	"github.com/tide-stream/tide/internal/slotpool"
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
	// SavepointPath restores the job from this checkpoint or savepoint.
	SavepointPath     string
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	// TaskManagerConfig is passed to TaskManagers at registration.
	TaskManagerConfig map[string]string
	// ShutdownDelay keeps the JobManager up after the job reached a terminal
	// state, so that clients can read it.
	ShutdownDelay time.Duration
	Logger        *slog.Logger
}

// JobManager runs one job.
type JobManager struct {
	cfg     Config
	log     *slog.Logger
	jobID   string
	graph   *plan.JobGraph
	storage blob.Storage
	store   *checkpointstore.Store
	lis     net.Listener
	started time.Time

	events chan event
	view   atomic.Pointer[View]
	// done is closed when the job reached a terminal state.
	done chan struct{}

	// Owned by the loop goroutine.
	sched     *scheduler.Scheduler
	coord     *checkpoint.Coordinator
	pool      *slotpool.Pool
	hb        *heartbeat.Tracker
	tms       map[string]*tmConn
	cur       *attempt
	prevSlots []slotpool.Slot
	// completed maps checkpoint ids to their metadata paths.
	completed map[uint64]string
	// restoreFrom is the checkpoint to restore when the scheduler asks for
	// "latest": set at start from a savepoint path or the store.
	initial    *restorePoint
	badRestore map[uint64]bool
	rescales   []*rescale
	savepoints map[string]*savepointReq
	// hasInputs says the graph has vertices fed by the network.
	hasInputs bool
	// halted maps the checkpoints whose sources halt after the barrier to
	// their attempt, until the checkpoint ends.
	halted     map[uint64]uint64
	io         chan ioJob
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
	var idb [16]byte
	rand.Read(idb[:])
	jobID := hex.EncodeToString(idb[:])
	st, err := blob.Open(context.Background(), cfg.CheckpointsDir)
	if err != nil {
		return nil, fmt.Errorf("open state.checkpoints.dir %s: %w", cfg.CheckpointsDir, err)
	}
	// Prove the directory is writable now, not at the first checkpoint.
	probe := jobID + "/.probe"
	if err := st.Write(context.Background(), probe, []byte("tide")); err != nil {
		st.Close()
		return nil, fmt.Errorf("state.checkpoints.dir %s is not writable: %w", cfg.CheckpointsDir, err)
	}
	st.Delete(context.Background(), probe)
	jm := &JobManager{
		cfg:        cfg,
		log:        cfg.Logger.With("job", cfg.JobName),
		jobID:      jobID,
		graph:      jg,
		storage:    st,
		events:     make(chan event, 1024),
		io:         make(chan ioJob, 64),
		done:       make(chan struct{}),
		tms:        map[string]*tmConn{},
		completed:  map[uint64]string{},
		badRestore: map[uint64]bool{},
		savepoints: map[string]*savepointReq{},
		halted:     map[uint64]uint64{},
		pool:       slotpool.New(),
		hb:         heartbeat.NewTracker(cfg.HeartbeatInterval, cfg.HeartbeatTimeout),
	}
	jm.store = checkpointstore.New(st, jobID, jm.log)
	for vi := range jg.Vertices {
		if !jg.IsSource(vi) {
			jm.hasInputs = true
		}
	}
	jm.started = time.Now()
	jm.publish()
	return jm, nil
}

// JobID is the job's id.
func (jm *JobManager) JobID() string { return jm.jobID }

// Graph is the job graph.
func (jm *JobManager) Graph() *plan.JobGraph { return jm.graph }

// Done is closed when the job has reached a terminal state.
func (jm *JobManager) Done() <-chan struct{} { return jm.done }

// Listen binds the control address; Run serves it.
func (jm *JobManager) Listen() (string, error) {
	lis, err := net.Listen("tcp", jm.cfg.RPCAddr)
	if err != nil {
		return "", fmt.Errorf("listen on jobmanager.rpc address %s: %w", jm.cfg.RPCAddr, err)
	}
	jm.lis = lis
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
	if err := jm.init(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := rpc.NewServer(func(st rpc.Stream) error { return jm.serveStream(ctx, st) })
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // owner: Run; ends when ctx is canceled
		defer wg.Done()
		jm.ioWorker(ctx)
	}()
	go func() { // owner: Run; ends at srv.Stop
		defer wg.Done()
		if err := srv.Serve(jm.lis); err != nil {
			jm.log.Error("control server stopped", "err", err)
		}
	}()
	err := jm.loop(ctx)
	cancel()
	srv.Stop()
	wg.Wait()
	return err
}

// init prepares the cores and finds the state to start from.
func (jm *JobManager) init(ctx context.Context) error {
	now := time.Now()
	var vs []scheduler.Vertex
	for _, v := range jm.graph.Vertices {
		vs = append(vs, scheduler.Vertex{ID: v.ID, MaxParallelism: v.MaxParallelism})
	}
	jm.cfg.Scheduler.Logger = jm.log
	jm.sched = scheduler.New(jm.cfg.Scheduler, vs, now)
	cc := jm.cfg.Checkpoint
	cc.JobID, cc.MaxParallelism, cc.Logger = jm.jobID, jm.cfg.MaxParallelism, jm.log
	jm.coord = checkpoint.NewCoordinator(cc, now)
	if p := jm.cfg.SavepointPath; p != "" {
		key, ok := jm.key(p)
		if !ok {
			return fmt.Errorf("execution.savepoint.path %s is not under state.checkpoints.dir %s: savepoints are restored from there", p, jm.cfg.CheckpointsDir)
		}
		md, err := jm.store.Load(ctx, key)
		if err != nil {
			return fmt.Errorf("execution.savepoint.path %s: %w", p, err)
		}
		jm.initial = &restorePoint{md: md, path: key}
		jm.log.Info("restoring the job from a savepoint", "path", p, "checkpoint", md.CheckpointID)
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
