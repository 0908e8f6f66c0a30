package tidetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"strconv"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/metrics"
	"github.com/tide-stream/tide/internal/taskmanager"
	"github.com/tide-stream/tide/internal/transport"
)

// TM is one TaskManager of a test cluster.
type TM struct {
	c      *Cluster
	id     string
	tm     *taskmanager.TaskManager
	cancel context.CancelFunc
	// done is closed when the TaskManager's Run returned; err is its
	// result, written before the close.
	done chan struct{}
	err  error
}

// AddTaskManager starts one more TaskManager with Config.Slots slots. In
// reactive mode the job rescales to use them once the stabilization timeout
// has passed. It fails the test if the TaskManager cannot start.
func (c *Cluster) AddTaskManager() *TM {
	c.t.Helper()
	tm, err := c.addTaskManager()
	if err != nil {
		c.t.Fatalf("tidetest: add taskmanager: %v", err)
	}
	return tm
}

// AddTaskManagerWith starts one more TaskManager whose configuration is
// the cluster's with dynamic on top (key to value), as a TaskManager
// started by hand with other -D settings would be: another secret, other
// certificates. It fails the test if the TaskManager cannot start.
func (c *Cluster) AddTaskManagerWith(dynamic map[string]string) *TM {
	c.t.Helper()
	cfg := c.cfg
	cfg.Dynamic = maps.Clone(cfg.Dynamic)
	if cfg.Dynamic == nil {
		cfg.Dynamic = map[string]string{}
	}
	maps.Copy(cfg.Dynamic, dynamic)
	conf, err := loadConfig(c.t, cfg)
	if err == nil {
		var tm *TM
		if tm, err = c.addTaskManagerConf(conf); err == nil {
			return tm
		}
	}
	c.t.Fatalf("tidetest: add taskmanager: %v", err)
	return nil
}

func (c *Cluster) addTaskManager() (*TM, error) { return c.addTaskManagerConf(c.conf) }

func (c *Cluster) addTaskManagerConf(conf *config.Config) (*TM, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.stopped {
		return nil, errors.New("the cluster is stopped")
	}
	id := "tm-" + strconv.Itoa(len(c.mu.tms)+1)
	tc := taskmanager.FromConfig(conf)
	tc.JobManager, tc.ResourceID, tc.Version, tc.Jobs = c.rpcAddr, id, version, c.reg
	tc.Logger = c.log.With("component", "taskmanager")
	var inner transport.Network
	if c.net != nil {
		tc.DataHost, inner, tc.OpenStorage = id, c.net.Host(id), blob.Share(c.faults)
	}
	var err error
	if tc.Network, err = secure(conf, inner, tc.Logger); err != nil {
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	tm, err := taskmanager.New(tc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	ctx, cancel := context.WithCancel(c.ctx)
	h := &TM{c: c, id: id, tm: tm, cancel: cancel, done: make(chan struct{})}
	c.mu.tms = append(c.mu.tms, h)
	c.wg.Add(1)
	go func() { // owner: the cluster; ends on Kill, Stop, or release after Leave
		defer c.wg.Done()
		defer close(h.done)
		defer cancel()
		h.err = tm.Run(ctx)
		c.log.Info("tidetest: taskmanager exited", "taskmanager", id, "err", h.err)
	}()
	return h, nil
}

// TaskManagers returns every TaskManager the cluster started, running or
// not, in start order.
func (c *Cluster) TaskManagers() []*TM {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*TM(nil), c.mu.tms...)
}

// ID is the TaskManager's resource id: "tm-1", "tm-2", ... in start order.
// The JobManager names its registrations "<id>#<n>".
func (tm *TM) ID() string { return tm.id }

// DataAddr is the TaskManager's data-plane address.
func (tm *TM) DataAddr() string { return tm.tm.DataAddr() }

// Leave decommissions the TaskManager gracefully, as SIGTERM does: it tells
// the JobManager, which rescales the job without it (from a checkpoint taken
// for the purpose), and exits once released. Leave does not wait; see Wait.
func (tm *TM) Leave() { tm.tm.Leave("tidetest: Leave") }

// Kill stops the TaskManager abruptly: its context is canceled, its tasks
// stop without a checkpoint and its control stream breaks, so the
// JobManager declares it lost and restores the latest completed checkpoint.
// Kill waits for the TaskManager's goroutines to end.
func (tm *TM) Kill() {
	tm.cancel()
	<-tm.done
}

// Crash stops the TaskManager as a crash of its process or machine does.
// On a simulated cluster its connections reset at once, before it can say
// anything more (no flush, no goodbye on the control stream), then its
// context is canceled; elsewhere Crash is Kill. Crash waits for the
// TaskManager's goroutines to end.
func (tm *TM) Crash() {
	if n := tm.c.net; n != nil {
		// Cut it off first, so that nothing it does while it unwinds (a
		// registration, a data connection) reaches the others.
		n.Partition(tm.id)
		n.Crash(tm.id)
		defer n.Heal(tm.id)
	}
	tm.Kill()
}

// Partition cuts the TaskManager off the simulated network until Heal,
// without stopping it: its connections stop delivering and its dials are
// refused, so the JobManager loses its heartbeats and declares it lost
// while it runs on, a zombie. It fails the test on a cluster that is not
// simulated.
func (tm *TM) Partition() {
	tm.c.t.Helper()
	if tm.c.net == nil {
		tm.c.t.Fatalf("tidetest: Partition needs Config.Simulated")
	}
	tm.c.net.Partition(tm.id)
}

// Heal ends a Partition.
func (tm *TM) Heal() {
	tm.c.t.Helper()
	if tm.c.net == nil {
		tm.c.t.Fatalf("tidetest: Heal needs Config.Simulated")
	}
	tm.c.net.Heal(tm.id)
}

// Done is closed when the TaskManager has exited.
func (tm *TM) Done() <-chan struct{} { return tm.done }

// Err is what the TaskManager's Run returned; valid once Done is closed.
func (tm *TM) Err() error {
	select {
	case <-tm.done:
		return tm.err
	default:
		return nil
	}
}

// Wait waits until the TaskManager has exited, failing the test after
// timeout.
func (tm *TM) Wait(timeout time.Duration) {
	tm.c.t.Helper()
	select {
	case <-tm.done:
	case <-time.After(timeout):
		tm.c.t.Fatalf("tidetest: taskmanager %s did not exit within %v", tm.id, timeout)
	}
}

// String is the TaskManager's id and data address.
func (tm *TM) String() string {
	host, port, _ := net.SplitHostPort(tm.DataAddr())
	return fmt.Sprintf("%s(%s:%s)", tm.id, host, port)
}

// Metric returns the value of the TaskManager's series name whose labels
// include labels (name to value), as a scrape of its /metrics would show
// it, and whether there is one. With several matching, it returns the
// first.
func (tm *TM) Metric(name string, labels map[string]string) (float64, bool) {
	r := metrics.NewRegistry()
	defer tm.tm.RegisterMetrics(r)()
	fams, err := r.Gatherer().Gather()
	if err != nil {
		tm.c.t.Errorf("tidetest: scraping %s: %v", tm.id, err)
		return 0, false
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	samples:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue samples
				}
			}
			switch {
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue(), true
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue(), true
			}
		}
	}
	return 0, false
}
