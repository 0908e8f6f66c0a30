// Package taskmanager is the TaskManager process shell: it registers with
// the JobManager over the control stream, offers its slots, runs the
// subtasks it is given (one goroutine each, package task) and forwards
// their reports. It owns the process's data-plane network manager.
//
// A TaskManager whose control stream breaks drops every task it runs
// (they belong to a registration the JobManager has given up on, so they
// are fenced anyway) and registers again as a fresh TaskManager.
package taskmanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/jobs"
	"github.com/tide-stream/tide/internal/metrics"
	"github.com/tide-stream/tide/internal/network"
	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/security"
	"github.com/tide-stream/tide/internal/transport"
)

// Config configures a TaskManager.
type Config struct {
	// JobManager is the control address, host:port.
	JobManager string
	Slots      int
	// DataHost and DataPort are where the data plane listens (port 0: any).
	DataHost string
	DataPort int
	// ResourceID names this process; default host-pid.
	ResourceID string
	Version    string
	Jobs       *jobs.Registry
	// BufferSize, BufferTimeout and Credits tune the data plane.
	BufferSize    int
	BufferTimeout time.Duration
	Credits       int
	// NoLocalRecovery reads all restored state from the blob store.
	NoLocalRecovery bool
	// DecommissionTimeout bounds how long a leaving TaskManager waits for the
	// job to rescale without it.
	DecommissionTimeout time.Duration
	Logger              *slog.Logger
	// Network carries the control stream and the data plane. Default
	// (nil): TCP.
	Network transport.Network
	// OpenStorage opens the checkpoint storage the JobManager names.
	// Default (nil): blob.Open.
	OpenStorage blob.Opener
}

// ErrRefused is returned by Run when the JobManager refused the
// registration for good (another version).
var ErrRefused = errors.New("taskmanager: registration refused")

// TaskManager runs subtasks for one JobManager.
type TaskManager struct {
	cfg   Config
	log   *slog.Logger
	net   *network.Manager
	leave chan string
	// cpu reads the process's CPU use and limit, for the JobManager.
	cpu *metrics.CPU
	// graph, jobID and storage come from the JobManager at every
	// registration (prepare); incarnation names that JobManager.
	graph       *plan.JobGraph
	storage     blob.Storage
	storageDir  string
	jobID       string
	incarnation string
	// lastAttempt is the newest attempt of job jobID this TaskManager ran.
	lastAttempt uint64
	// watermarkInterval is the job's pipeline.auto-watermark-interval
	// (0: the task default).
	watermarkInterval time.Duration
	leaving           bool
	peerLost          chan string
	// local keeps keyed state across attempts (local recovery).
	local *localState
	// live are the subtasks running, for metrics scraped from any
	// goroutine; jobName is the job's name from the JobManager.
	live    liveTasks
	jobName string
	// leaveAt is when Leave was first called, Unix ns; 0 before. Written by Leave (any
	// goroutine), read by Run.
	leaveAt atomic.Int64
}

// New creates a TaskManager and starts its data-plane listener.
func New(cfg Config) (*TaskManager, error) {
	if cfg.Slots < 1 {
		return nil, fmt.Errorf("taskmanager: %d slots", cfg.Slots)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ResourceID == "" {
		host, _ := os.Hostname()
		cfg.ResourceID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	tm := &TaskManager{cfg: cfg, log: cfg.Logger.With("tm", cfg.ResourceID), leave: make(chan string, 1), local: newLocalState(),
		cpu: metrics.NewCPU()}
	peerLost := make(chan string, 16)
	nm, err := network.Listen(network.Config{
		ListenAddr:        net.JoinHostPort(cfg.DataHost, strconv.Itoa(cfg.DataPort)),
		Network:           cfg.Network,
		CreditsPerChannel: cfg.Credits,
		Logger:            tm.log,
		OnPeerLost: func(addr string, err error) {
			select {
			case peerLost <- addr:
			default:
			}
			tm.log.Warn("data connection to peer lost", "peer", addr, "err", err)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("taskmanager: data plane: %w", err)
	}
	tm.net = nm
	tm.peerLost = peerLost
	return tm, nil
}

// DataAddr is the data-plane address.
func (tm *TaskManager) DataAddr() string { return tm.net.Addr() }

// Leave asks the TaskManager to decommission: tell the JobManager, keep
// serving until released or DecommissionTimeout, then Run returns nil.
func (tm *TaskManager) Leave(reason string) {
	tm.leaveAt.CompareAndSwap(0, time.Now().UnixNano())
	select {
	case tm.leave <- reason:
	default:
	}
}

// Run registers and serves until ctx ends, the TaskManager is released
// after Leave, or the JobManager refuses it. A broken control stream leads
// to a fresh registration.
func (tm *TaskManager) Run(ctx context.Context) error {
	defer tm.net.Close()
	defer func() {
		if tm.storage != nil {
			tm.storage.Close()
		}
	}()
	backoff := 100 * time.Millisecond
	for {
		released, err := tm.session(ctx)
		switch {
		case released:
			if !tm.decommissionTimedOut() {
				tm.log.Info("released by the jobmanager; exiting")
			}
			// Otherwise the session has said that the decommission timeout passed and that it
			// exits; "released" would contradict it.
			return nil
		case errors.Is(err, ErrRefused):
			return err
		case ctx.Err() != nil:
			return nil
		case tm.leaving:
			// Leaving and the JobManager is gone: nothing to hand over.
			tm.log.Info("leaving and the jobmanager is unreachable; exiting", "err", err)
			return nil
		}
		if err != nil && strings.Contains(err.Error(), security.ErrRefused.Error()) {
			// gRPC flattens the dialer's error into its status message, hence
			// the match on the text. Retried: the other side may be fixed.
			tm.log.Error("the jobmanager and this taskmanager do not authenticate each other; check security.internal.token-file and security.ssl.internal.* on both",
				"jobmanager", tm.cfg.JobManager, "err", err, "retry_in", backoff)
		} else if tm.graph == nil {
			// Never registered: the JobManager is not up yet, as when a
			// cluster starts. Not worth a warning.
			tm.log.Info("waiting for the jobmanager", "jobmanager", tm.cfg.JobManager, "err", err, "retry_in", backoff)
		} else {
			tm.log.Warn("control stream ended; registering again", "err", err, "retry_in", backoff)
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil
		case reason := <-tm.leave:
			// Not registered: there is no job to hand over to.
			tm.log.Info("asked to leave while not registered; exiting", "reason", reason)
			return nil
		}
		backoff = min(2*backoff, 2*time.Second)
		if err == nil {
			backoff = 100 * time.Millisecond
		}
	}
}

// decommissionTimedOut reports whether DecommissionTimeout has passed since Leave. A session
// ends "released" both when the JobManager released it and when that timeout passed (see
// session), and only the first is a release.
//
// TODO: the session returns why it ended (released, decommission timeout, asked twice) instead,
// once session.go is open to that change; then this clock reading goes.
func (tm *TaskManager) decommissionTimedOut() bool {
	at := tm.leaveAt.Load()
	return at != 0 && time.Since(time.Unix(0, at)) >= tm.cfg.DecommissionTimeout
}

// reporter sends envelopes on the control stream from any goroutine,
// through a bounded queue drained by one sender goroutine.
type reporter struct {
	q    chan *rpc.Envelope
	done chan struct{}
}

func (r *reporter) send(e *rpc.Envelope) {
	select {
	case r.q <- e:
	case <-r.done:
	}
}

// Status, Ack and Decline implement task.Reporter: the subtasks' reports
// become envelopes here, not in the task layer.
func (r *reporter) Status(st *rpc.TaskStatus) { r.send(&rpc.Envelope{TaskStatus: st}) }
func (r *reporter) Ack(attempt exec.Attempt, task exec.TaskKey, id checkpoint.ID, snaps []checkpoint.OperatorSnapshot) {
	r.send(&rpc.Envelope{Ack: &rpc.CheckpointAck{Attempt: uint64(attempt), Checkpoint: uint64(id), Task: rpc.WireKey(task), Snapshots: rpc.WireSnapshots(snaps)}})
}

func (r *reporter) Decline(attempt exec.Attempt, task exec.TaskKey, id checkpoint.ID, reason string) {
	r.send(&rpc.Envelope{Decline: &rpc.CheckpointDecline{Attempt: uint64(attempt), Checkpoint: uint64(id), Task: rpc.WireKey(task), Reason: reason}})
}
