package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/jobmanager"
	"github.com/tide-stream/tide/internal/jobs"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/taskmanager"
	"github.com/tide-stream/tide/stream"
)

// version is what the in-process JobManager and TaskManagers report.
const version = "kafkapeers"

// tideCluster is a JobManager and TaskManagers in this process, on
// loopback, as tidetest starts them (tidetest needs a testing.TB). Its
// goroutines are owned by it: stop cancels them and waits.
type tideCluster struct {
	jm     *jobmanager.JobManager
	cancel context.CancelFunc
	wg     sync.WaitGroup
	dir    string
	mu     sync.Mutex // guards errs, written by the component goroutines
	errs   []error
}

// startTide runs job (registered as name, with args) on tms TaskManagers
// of slots slots each, in reactive mode: the job runs at tms·slots
// subtasks. The scheduler deploys as soon as slots arrive (a resource
// stabilization timeout of 0, Flink's in reactive mode), so that "from
// start" measures the engine's start, not a configured wait. Checkpoints go to a temporary directory every interval (0:
// none but the final one of bounded input).
func startTide(name string, job stream.JobFunc, args []string, tms, slots int, interval time.Duration, logs io.Writer) (*tideCluster, error) {
	dir, err := os.MkdirTemp("", "kafkapeers-")
	if err != nil {
		return nil, err
	}
	c := &tideCluster{dir: dir}
	dyn := []string{
		"heartbeat.interval=200ms", "heartbeat.timeout=5s",
		"jobmanager.adaptive-scheduler.resource-stabilization-timeout=0ms",
		"state.checkpoints.dir=file://" + dir,
		"taskmanager.numberOfTaskSlots=" + strconv.Itoa(slots),
		"jobmanager.rpc.address=127.0.0.1", "jobmanager.rpc.port=0",
		"taskmanager.host=127.0.0.1", "taskmanager.data.port=0",
		"restart-strategy=none",
	}
	if interval > 0 {
		dyn = append(dyn, "execution.checkpointing.interval="+config.FormatDuration(interval))
	}
	conf, err := config.Load(config.LoadOptions{Home: dir, Dynamic: dyn})
	if err != nil {
		c.remove()
		return nil, fmt.Errorf("configuration: %w", err)
	}
	reg := &jobs.Registry{}
	if err := reg.Register(name, job); err != nil {
		c.remove()
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	jc := jobmanager.FromConfig(conf)
	jc.JobName, jc.JobArgs, jc.Jobs, jc.Version = name, args, reg, version
	jc.ShutdownDelay = time.Hour // stop ends it; the view stays readable until then
	jc.Logger = log.With("component", "jobmanager")
	if c.jm, err = jobmanager.New(jc); err != nil {
		c.remove()
		return nil, fmt.Errorf("jobmanager: %w", err)
	}
	addr, err := c.jm.Listen()
	if err != nil {
		c.remove()
		return nil, fmt.Errorf("jobmanager: listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.run("jobmanager", func() error { return c.jm.Run(ctx) })
	for i := range tms {
		tc := taskmanager.FromConfig(conf)
		tc.JobManager, tc.ResourceID, tc.Version, tc.Jobs = addr, fmt.Sprintf("tm-%d", i+1), version, reg
		tc.Logger = log.With("component", "taskmanager")
		tm, err := taskmanager.New(tc)
		if err != nil {
			c.stop()
			return nil, fmt.Errorf("taskmanager %d: %w", i+1, err)
		}
		c.run(tc.ResourceID, func() error { return tm.Run(ctx) })
	}
	return c, nil
}

// run starts f on a goroutine the cluster owns; stop ends and waits for it.
func (c *tideCluster) run(what string, f func() error) {
	c.wg.Add(1)
	go func() { // owner: c; ends when stop cancels the context
		defer c.wg.Done()
		if err := f(); err != nil && !errors.Is(err, context.Canceled) {
			c.mu.Lock()
			c.errs = append(c.errs, fmt.Errorf("%s: %w", what, err))
			c.mu.Unlock()
		}
	}()
}

// wait polls the job every millisecond until it is FINISHED, and returns
// when it was first RUNNING. It fails if the job reaches another terminal
// state, a component fails, or ctx ends.
func (c *tideCluster) wait(ctx context.Context) (time.Time, error) {
	var running time.Time
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		j, err := c.jm.Backend().Job(c.jm.JobID())
		if err == nil {
			if running.IsZero() && (j.State == rest.JobRunning || j.State == rest.JobFinished) {
				running = time.Now()
			}
			switch j.State {
			case rest.JobFinished:
				return running, nil
			case rest.JobFailed, rest.JobCanceled:
				ex, _ := c.jm.Backend().Exceptions(c.jm.JobID())
				msg := ""
				if ex.RootException != nil {
					msg = *ex.RootException
				}
				return running, fmt.Errorf("the Tide job ended %s: %s", j.State, msg)
			}
		}
		c.mu.Lock()
		err = errors.Join(c.errs...)
		c.mu.Unlock()
		if err != nil {
			return running, err
		}
		select {
		case <-ctx.Done():
			return running, fmt.Errorf("waiting for the Tide job to finish: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// stop cancels every component, waits for them and removes the directory.
func (c *tideCluster) stop() {
	c.cancel()
	c.wg.Wait()
	c.remove()
}

func (c *tideCluster) remove() { os.RemoveAll(c.dir) }
