package tidetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/jobmanager"
	"github.com/tide-stream/tide/internal/jobs"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/security"
	"github.com/tide-stream/tide/internal/transport"
	"github.com/tide-stream/tide/stream"
)

// version is the build version every component of a test cluster reports;
// the JobManager refuses TaskManagers of another version.
const version = "tidetest"

// DefaultJobName is the job's name when Config.Name is empty.
const DefaultJobName = "tidetest"

// Config describes a test cluster. The zero value of every field but Job
// is usable.
type Config struct {
	// Job declares the job. Required.
	Job stream.JobFunc
	// Name is the job's name. Default DefaultJobName.
	Name string
	// Args are the job's arguments (what follows `--` on the command line).
	Args []string
	// TaskManagers is the number of TaskManagers Start starts. Zero starts
	// none: add them with AddTaskManager. Default 0.
	TaskManagers int
	// Slots is taskmanager.numberOfTaskSlots of every TaskManager. Default 1.
	Slots int
	// CheckpointInterval is execution.checkpointing.interval. Default 0:
	// no periodic checkpoints (a bounded job still takes its final one).
	CheckpointInterval time.Duration
	// CheckpointsDir is state.checkpoints.dir. Default "file://" plus a
	// t.TempDir().
	CheckpointsDir string
	// SavepointPath is execution.savepoint.path: restore the job from this
	// savepoint or checkpoint. Default empty: start fresh.
	SavepointPath string
	// Dynamic sets any configuration key, as -Dkey=value does; it wins over
	// every other field. On top of the production defaults, Start sets
	// these for speed unless Dynamic sets them:
	//
	//	heartbeat.interval (not Simulated)                           200ms
	//	heartbeat.timeout (not Simulated)                            2s
	//	jobmanager.adaptive-scheduler.resource-stabilization-timeout 100ms
	//	restart-strategy.fixed-delay.delay                           100ms
	//	taskmanager.decommission.timeout                             10s
	//	execution.buffer-timeout.interval                            10ms
	//
	// and it always binds jobmanager.rpc.* and taskmanager.host to
	// 127.0.0.1 with free ports.
	Dynamic map[string]string
	// Logger receives the logs of every component. Default: Info and above
	// to t.Log, which shows them only for failed tests or with -v.
	Logger *slog.Logger
	// Simulated runs the cluster on an in-memory network (package
	// transport's Mem) and one shared in-memory checkpoint store instead of
	// loopback TCP and a file:// directory, so that Start works inside a
	// testing/synctest bubble and the whole cluster runs on virtual time
	// (see the package doc). CheckpointsDir is then only a name. Default
	// false.
	Simulated bool
	// Latency is the largest one-way latency of a simulated connection:
	// each connection draws its own from [0, Latency], from Seed. Default
	// 0. Only with Simulated.
	Latency time.Duration
	// Seed seeds the simulated network's latency draws. Only with
	// Simulated.
	Seed uint64
}

// Cluster is a running test cluster. Its methods are safe for concurrent
// use, except the Wait helpers and others that may fail the test, which
// belong to the test goroutine.
type Cluster struct {
	t    testing.TB
	cfg  Config
	conf *config.Config
	log  *slog.Logger
	reg  *jobs.Registry
	// rpcAddr is where TaskManagers register; a restarted JobManager
	// listens there again.
	rpcAddr string
	// net is the simulated network and store the shared checkpoint store,
	// wrapped in faults; all nil unless Config.Simulated.
	net    *transport.Mem
	store  blob.Storage
	faults *blob.FaultInjector

	// ctx is the parent of every component's context; cancel ends them all.
	ctx    context.Context
	cancel context.CancelFunc
	// wg counts every goroutine the cluster started.
	wg sync.WaitGroup

	mu struct {
		sync.Mutex
		// jm is the running JobManager, replaced by RestartJobManager.
		jm *jobManager
		// tms lists every TaskManager ever started, in start order.
		tms []*TM
		// stopped is set by Stop; nothing starts after it.
		stopped bool
	}
}

// jobManager is one run of the cluster's JobManager.
type jobManager struct {
	jm     *jobmanager.JobManager
	cancel context.CancelFunc
	// done is closed when the JobManager's Run returned; err is its result,
	// written before the close.
	done chan struct{}
	err  error
}

// jobManager returns the running JobManager.
func (c *Cluster) jobManager() *jobManager {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.jm
}

// Start starts a JobManager running cfg.Job and cfg.TaskManagers
// TaskManagers. It fails the test if the configuration is invalid or the
// job does not build. The cluster stops when the test ends.
func Start(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	c, err := start(t, cfg)
	if err != nil {
		t.Fatalf("tidetest: start cluster: %v", err)
	}
	for range cfg.TaskManagers {
		c.AddTaskManager()
	}
	return c
}

func start(t testing.TB, cfg Config) (*Cluster, error) {
	if cfg.Job == nil {
		return nil, errors.New("Config.Job is nil")
	}
	if cfg.Name == "" {
		cfg.Name = DefaultJobName
	}
	if cfg.TaskManagers < 0 {
		return nil, fmt.Errorf("Config.TaskManagers is %d", cfg.TaskManagers)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(newTestHandler(t, slog.LevelInfo))
	}
	conf, err := loadConfig(t, cfg)
	if err != nil {
		return nil, err
	}
	reg := &jobs.Registry{}
	if err := reg.Register(cfg.Name, cfg.Job); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cluster{t: t, cfg: cfg, conf: conf, log: cfg.Logger, reg: reg, ctx: ctx, cancel: cancel}
	if cfg.Simulated {
		c.net = transport.NewMem(transport.MemConfig{MaxLatency: cfg.Latency, Seed: cfg.Seed})
		if c.store, err = blob.Open(ctx, "mem://"); err != nil {
			cancel()
			return nil, err
		}
		c.faults = blob.NewFaultInjector(c.store)
	}
	t.Cleanup(c.Stop)
	if err := c.startJobManager(jobManagerConfig(cfg, conf, reg)); err != nil {
		return nil, err
	}
	return c, nil
}

// startJobManager starts a JobManager with jc and waits until it has
// published its first view.
func (c *Cluster) startJobManager(jc jobmanager.Config) error {
	var inner transport.Network
	if c.net != nil {
		inner = c.net.Host(jobManagerHost)
		jc.OpenStorage = blob.Share(c.faults)
	}
	var err error
	if jc.Network, err = secure(c.conf, inner, jc.Logger); err != nil {
		return err
	}
	jm, err := jobmanager.New(jc)
	if err != nil {
		return fmt.Errorf("jobmanager: %w", err)
	}
	addr, err := jm.Listen()
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.mu.stopped {
		c.mu.Unlock()
		return errors.New("the cluster is stopped")
	}
	ctx, cancel := context.WithCancel(c.ctx)
	r := &jobManager{jm: jm, cancel: cancel, done: make(chan struct{})}
	c.rpcAddr, c.mu.jm = addr, r
	c.wg.Add(1)
	go func() { // owner: the cluster; ends when Stop or RestartJobManager cancels ctx
		defer c.wg.Done()
		defer close(r.done)
		r.err = jm.Run(ctx)
		if r.err != nil && !errors.Is(r.err, context.Canceled) {
			c.log.Error("tidetest: jobmanager stopped", "err", r.err)
		}
	}()
	c.mu.Unlock()
	return nil
}

// RestartJobManager stops the JobManager, as a crash of its process
// would, and starts a new one for the same job on the same checkpoint
// storage and control address. With jobmanager.recovery at its default
// the new one resumes the job from its latest completed checkpoint; the
// TaskManagers register with it again. It fails the test if the new one
// cannot start.
func (c *Cluster) RestartJobManager() {
	c.t.Helper()
	old := c.jobManager()
	if c.net != nil {
		c.net.Crash(jobManagerHost)
	}
	old.cancel()
	<-old.done
	jc := jobManagerConfig(c.cfg, c.conf, c.reg)
	jc.RPCAddr = c.rpcAddr
	if err := c.startJobManager(jc); err != nil {
		c.t.Fatalf("tidetest: restart the jobmanager: %v", err)
	}
}

// secure wraps inner (nil: TCP) in the internal plane's security when
// conf sets security.ssl.internal.* or security.internal.token-file, as
// `tide standalone-job` and `tide taskmanager` do.
func secure(conf *config.Config, inner transport.Network, log *slog.Logger) (transport.Network, error) {
	sec, err := security.InternalFromConfig(conf, inner, log)
	if err != nil || sec == nil {
		return inner, err
	}
	return sec, nil
}

// jobManagerHost is the JobManager's host on the simulated network; a
// TaskManager's is its id.
const jobManagerHost = "jobmanager"

// loadConfig resolves the configuration through the loader, as the command
// line does: test defaults first, then the Config fields, then Dynamic.
func loadConfig(t testing.TB, cfg Config) (*config.Config, error) {
	home := t.TempDir()
	dir := cfg.CheckpointsDir
	switch {
	case dir != "":
	case cfg.Simulated:
		dir = "mem://tidetest"
	default:
		dir = "file://" + t.TempDir()
	}
	var dyn []string
	set := func(k, v string) { dyn = append(dyn, k+"="+v) }
	if !cfg.Simulated {
		// Virtual time makes production heartbeats free; only a cluster on
		// the wall clock needs them short. (Short heartbeats also wake the
		// JobManager's loop often, which hid a bug of a loop that sleeps a
		// heartbeat interval: the simulation keeps production's.)
		set("heartbeat.interval", "200ms")
		set("heartbeat.timeout", "2s")
	}
	set("jobmanager.adaptive-scheduler.resource-stabilization-timeout", "100ms")
	set("restart-strategy.fixed-delay.delay", "100ms")
	set("taskmanager.decommission.timeout", "10s")
	set("execution.buffer-timeout.interval", "10ms")
	set("state.checkpoints.dir", dir)
	if cfg.Slots != 0 {
		set("taskmanager.numberOfTaskSlots", strconv.Itoa(cfg.Slots))
	}
	if cfg.CheckpointInterval > 0 {
		set("execution.checkpointing.interval", config.FormatDuration(cfg.CheckpointInterval))
	}
	if cfg.SavepointPath != "" {
		set("execution.savepoint.path", cfg.SavepointPath)
	}
	for k, v := range cfg.Dynamic {
		set(k, v)
	}
	// The cluster must be reachable on loopback only (or on the simulated
	// network), on free ports, whatever Dynamic says.
	host := "127.0.0.1"
	if cfg.Simulated {
		host = jobManagerHost
	}
	set("jobmanager.rpc.address", host)
	set("jobmanager.rpc.port", "0")
	set("taskmanager.host", host)
	set("taskmanager.data.port", "0")
	conf, err := config.Load(config.LoadOptions{Home: home, Dynamic: dyn})
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return conf, nil
}

// jobManagerConfig builds the JobManager's Config from the resolved
// configuration, field for field as `tide standalone-job` does.
func jobManagerConfig(cfg Config, conf *config.Config, reg *jobs.Registry) jobmanager.Config {
	jc := jobmanager.FromConfig(conf)
	jc.JobName, jc.JobArgs, jc.Jobs, jc.Version = cfg.Name, cfg.Args, reg, version
	// The cluster keeps the JobManager up after the job ended, so that the
	// test can read its view; Stop ends it.
	jc.ShutdownDelay = 24 * time.Hour
	jc.Logger = cfg.Logger.With("component", "jobmanager")
	return jc
}

// Stop cancels the JobManager and every TaskManager and waits for all of
// their goroutines. It is idempotent and runs at the end of the test. On a
// simulated cluster it fails the test if a listener or connection is still
// open 10 seconds after.
func (c *Cluster) Stop() {
	c.mu.Lock()
	first := !c.mu.stopped
	c.mu.stopped = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	if !first || c.net == nil {
		return
	}
	// gRPC closes some connections from goroutines that end just after
	// its Close returned.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.net.AwaitClosed(ctx); err != nil {
		c.t.Errorf("tidetest: after Stop: %v", err)
	}
	c.store.Close()
}

// Config returns the resolved configuration, for reading keys with Get.
func (c *Cluster) Config() *config.Config { return c.conf }

// JobID is the id of the cluster's job.
func (c *Cluster) JobID() string { return c.jobManager().jm.JobID() }

// JobManagerAddr is where TaskManagers register.
func (c *Cluster) JobManagerAddr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rpcAddr
}

// Backend is the JobManager's REST backend: everything the REST API shows
// and every command it accepts.
func (c *Cluster) Backend() rest.Backend { return c.jobManager().jm.Backend() }

// JobDone is closed when the job has reached a terminal state (on the
// running JobManager: a restarted one has its own).
func (c *Cluster) JobDone() <-chan struct{} { return c.jobManager().jm.Done() }

// StorageFaults is the fault injector around a simulated cluster's shared
// checkpoint store: what it breaks, it breaks for the JobManager and every
// TaskManager. Nil unless Config.Simulated.
func (c *Cluster) StorageFaults() *blob.FaultInjector { return c.faults }
