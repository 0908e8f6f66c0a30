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

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/jobmanager"
	"github.com/tide-stream/tide/internal/jobs"
	"github.com/tide-stream/tide/internal/rest"
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
	//	heartbeat.interval                                           200ms
	//	heartbeat.timeout                                            2s
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
	jm   *jobmanager.JobManager
	// rpcAddr is where TaskManagers register.
	rpcAddr string

	// ctx is the parent of every component's context; cancel ends them all.
	ctx    context.Context
	cancel context.CancelFunc
	// wg counts every goroutine the cluster started.
	wg sync.WaitGroup
	// jmDone is closed when the JobManager's Run returned; jmErr is its
	// result, written before the close.
	jmDone chan struct{}
	jmErr  error

	mu struct {
		sync.Mutex
		// tms lists every TaskManager ever started, in start order.
		tms []*TM
		// stopped is set by Stop; no TaskManager starts after it.
		stopped bool
	}
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
	jm, err := jobmanager.New(jobManagerConfig(cfg, conf, reg))
	if err != nil {
		return nil, fmt.Errorf("jobmanager: %w", err)
	}
	addr, err := jm.Listen()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cluster{t: t, cfg: cfg, conf: conf, log: cfg.Logger, reg: reg, jm: jm, rpcAddr: addr,
		ctx: ctx, cancel: cancel, jmDone: make(chan struct{})}
	c.wg.Add(1)
	go func() { // owner: the cluster; ends when Stop cancels ctx
		defer c.wg.Done()
		defer close(c.jmDone)
		c.jmErr = jm.Run(ctx)
		if c.jmErr != nil && !errors.Is(c.jmErr, context.Canceled) {
			c.log.Error("tidetest: jobmanager stopped", "err", c.jmErr)
		}
	}()
	t.Cleanup(c.Stop)
	if err := c.awaitView(); err != nil {
		return nil, err
	}
	return c, nil
}

// awaitView waits until the JobManager has published its first view.
//
// TODO: drop this once jobmanager.New publishes a view: until Run has
// initialized the JobManager, every Backend read dereferences a nil view
// and panics (see TestBackendBeforeRun).
func (c *Cluster) awaitView() error {
	ready := func() (ok bool) {
		defer func() {
			if recover() != nil {
				ok = false
			}
		}()
		c.jm.Backend().Overview()
		return true
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !ready() {
		select {
		case <-c.jmDone:
			return fmt.Errorf("jobmanager stopped before it started: %v", c.jmErr)
		case <-tick.C:
		}
	}
	return nil
}

// loadConfig resolves the configuration through the loader, as the command
// line does: test defaults first, then the Config fields, then Dynamic.
func loadConfig(t testing.TB, cfg Config) (*config.Config, error) {
	home := t.TempDir()
	dir := cfg.CheckpointsDir
	if dir == "" {
		dir = "file://" + t.TempDir()
	}
	var dyn []string
	set := func(k, v string) { dyn = append(dyn, k+"="+v) }
	set("heartbeat.interval", "200ms")
	set("heartbeat.timeout", "2s")
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
	// The cluster must be reachable on loopback only, on free ports,
	// whatever Dynamic says.
	set("jobmanager.rpc.address", "127.0.0.1")
	set("jobmanager.rpc.port", "0")
	set("taskmanager.host", "127.0.0.1")
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
// their goroutines. It is idempotent and runs at the end of the test.
func (c *Cluster) Stop() {
	c.mu.Lock()
	c.mu.stopped = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}

// Config returns the resolved configuration, for reading keys with Get.
func (c *Cluster) Config() *config.Config { return c.conf }

// JobID is the id of the cluster's job.
func (c *Cluster) JobID() string { return c.jm.JobID() }

// JobManagerAddr is where TaskManagers register.
func (c *Cluster) JobManagerAddr() string { return c.rpcAddr }

// Backend is the JobManager's REST backend: everything the REST API shows
// and every command it accepts.
func (c *Cluster) Backend() rest.Backend { return c.jm.Backend() }

// JobDone is closed when the job has reached a terminal state.
func (c *Cluster) JobDone() <-chan struct{} { return c.jm.Done() }
