package config

import (
	"fmt"
	"slices"
	"time"
)

// SchedulerMode is the value of scheduler-mode.
type SchedulerMode string

// The scheduler modes.
const (
	// SchedulerReactive runs the job on all available slots and rescales it
	// when slots come and go.
	SchedulerReactive SchedulerMode = "reactive"
	// SchedulerDefault runs the job at parallelism.default.
	SchedulerDefault SchedulerMode = "default"
)

// Recovery is the value of jobmanager.recovery.
type Recovery string

// The recovery modes of a JobManager (re)started for a job.
const (
	// RecoveryLatestCheckpoint resumes the job from its latest valid
	// completed checkpoint in state.checkpoints.dir, if it has one.
	RecoveryLatestCheckpoint Recovery = "latest-checkpoint"
	// RecoveryNone starts the job fresh.
	RecoveryNone Recovery = "none"
)

// RestartStrategy is the value of restart-strategy, normalized from Flink's
// aliases.
type RestartStrategy string

// The restart strategies.
const (
	RestartNone             RestartStrategy = "none"
	RestartFixedDelay       RestartStrategy = "fixed-delay"
	RestartExponentialDelay RestartStrategy = "exponential-delay"
	RestartFailureRate      RestartStrategy = "failure-rate"
)

// Config is Tide's resolved configuration: one field per key of the key
// table (see Keys and doc.go), each already parsed and validated by Load.
// A Config is a plain value: safe to copy and to read from any goroutine,
// and never changed by this package after Load returns it.
type Config struct {
	// Home is the absolute TIDE_HOME: pid files, logs, conf/config.yaml.
	Home string

	// SchedulerMode is scheduler-mode. Default SchedulerReactive.
	SchedulerMode SchedulerMode
	// ParallelismDefault is parallelism.default, ≥ 1. Default 1.
	ParallelismDefault int
	// MaxParallelism is pipeline.max-parallelism, the number of key
	// groups, in 1–32768. Default 128.
	MaxParallelism int
	// NumberOfTaskSlots is taskmanager.numberOfTaskSlots, ≥ 1. Default 1.
	NumberOfTaskSlots int

	// CheckpointInterval is execution.checkpointing.interval; 0 means off
	// (no periodic checkpoints). Default off.
	CheckpointInterval time.Duration
	// CheckpointTimeout is execution.checkpointing.timeout, > 0. Default 10min.
	CheckpointTimeout time.Duration
	// CheckpointsDir is state.checkpoints.dir, a gocloud.dev/blob URL; file
	// URLs are absolute. Default file://<Home>/checkpoints.
	CheckpointsDir string
	// CheckpointsNumRetained is state.checkpoints.num-retained, ≥ 1. Default 3.
	CheckpointsNumRetained int

	// HeartbeatInterval is heartbeat.interval, > 0. Default 10s.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout is heartbeat.timeout, ≥ HeartbeatInterval. Default 50s.
	HeartbeatTimeout time.Duration

	// ResourceStabilizationTimeout is
	// jobmanager.adaptive-scheduler.resource-stabilization-timeout, ≥ 0.
	// Default 1s.
	ResourceStabilizationTimeout time.Duration
	// ResourceWaitTimeout is
	// jobmanager.adaptive-scheduler.resource-wait-timeout; WaitForever (any
	// negative value) waits forever. Default WaitForever in reactive mode,
	// 5min otherwise.
	ResourceWaitTimeout time.Duration
	// ScalingIntervalMin is
	// jobmanager.adaptive-scheduler.scaling-interval.min, ≥ 0. Default 0s.
	ScalingIntervalMin time.Duration
	// RescaleOnCheckpoint is
	// jobmanager.adaptive-scheduler.rescale-on-checkpoint. Default true.
	RescaleOnCheckpoint bool
	// DecommissionTimeout is taskmanager.decommission.timeout, ≥ 0.
	// Default 30s.
	DecommissionTimeout time.Duration

	// RestartStrategy is restart-strategy. Default RestartFixedDelay.
	RestartStrategy RestartStrategy
	// FixedDelayAttempts is restart-strategy.fixed-delay.attempts;
	// UnlimitedAttempts (-1) means no limit. Default UnlimitedAttempts in
	// every scheduler mode.
	FixedDelayAttempts int
	// FixedDelayDelay is restart-strategy.fixed-delay.delay, ≥ 0. Default 1s.
	FixedDelayDelay time.Duration
	// ExponentialDelayInitialBackoff is
	// restart-strategy.exponential-delay.initial-backoff, > 0. Default 1s.
	ExponentialDelayInitialBackoff time.Duration
	// ExponentialDelayMaxBackoff is
	// restart-strategy.exponential-delay.max-backoff,
	// ≥ ExponentialDelayInitialBackoff. Default 1min.
	ExponentialDelayMaxBackoff time.Duration
	// ExponentialDelayBackoffMultiplier is
	// restart-strategy.exponential-delay.backoff-multiplier, ≥ 1. Default 2.
	ExponentialDelayBackoffMultiplier float64
	// FailureRateMaxFailures is
	// restart-strategy.failure-rate.max-failures-per-interval, ≥ 1.
	// Default 1.
	FailureRateMaxFailures int
	// FailureRateInterval is
	// restart-strategy.failure-rate.failure-rate-interval, > 0. Default 1min.
	FailureRateInterval time.Duration
	// FailureRateDelay is restart-strategy.failure-rate.delay, ≥ 0.
	// Default 1s.
	FailureRateDelay time.Duration

	// JobManagerRPCAddress is jobmanager.rpc.address. Default localhost.
	JobManagerRPCAddress string
	// JobManagerRPCPort is jobmanager.rpc.port, 0–65535. Default 6123.
	JobManagerRPCPort int
	// RESTAddress is rest.address. Default localhost.
	RESTAddress string
	// RESTPort is rest.port, 0–65535. Default 8081.
	RESTPort int
	// PromPort is metrics.reporter.prom.port: a port or a range "lo-hi";
	// empty means the process's default (see PromPortRange). Default empty.
	PromPort string

	// TaskManagerHost is taskmanager.host, the address a TaskManager
	// advertises for its data plane. Default localhost.
	TaskManagerHost string
	// TaskManagerDataPort is taskmanager.data.port, 0–65535; 0 picks any
	// free port. Default 0.
	TaskManagerDataPort int
	// LocalRecovery is state.backend.local-recovery (default true): keep
	// keyed state across a rescale in the TaskManager's memory.
	LocalRecovery bool

	// TaskManagerResourceID is taskmanager.resource-id; empty means the
	// TaskManager generates one. Default empty.
	TaskManagerResourceID string
	// NetworkBufferSize is taskmanager.network.buffer-size in bytes, in
	// 1–1 GiB. Default 32 KiB.
	NetworkBufferSize int64
	// NetworkCreditsPerChannel is taskmanager.network.credits-per-channel,
	// ≥ 1. Default 4.
	NetworkCreditsPerChannel int
	// BufferTimeout is execution.buffer-timeout.interval, ≥ 0: the longest
	// a partly filled buffer waits before it is sent. Default 100ms.
	BufferTimeout time.Duration
	// AutoWatermarkInterval is pipeline.auto-watermark-interval, ≥ 1ms: how
	// often sources emit their watermark. Default 200ms.
	AutoWatermarkInterval time.Duration
	// SavepointPath is execution.savepoint.path: restore the job from this
	// checkpoint or savepoint URL at start; empty starts fresh. Default empty.
	SavepointPath string
	// IgnoreUnclaimedState is execution.savepoint.ignore-unclaimed-state:
	// restore even when the checkpoint holds state of operators the job no
	// longer has. Default false.
	IgnoreUnclaimedState bool
	// Recovery is jobmanager.recovery. Default RecoveryLatestCheckpoint.
	Recovery Recovery

	// InternalTLS is security.ssl.internal.*: mutual TLS on the RPC and
	// data-plane ports. Default off.
	InternalTLS TLSFiles
	// InternalTokenFile is security.internal.token-file: the shared secret
	// JobManager and TaskManagers prove to each other. Default empty (none).
	InternalTokenFile string
	// RESTTLS is security.ssl.rest.*: HTTPS on the REST and metrics ports;
	// its ClientAuth demands client certificates signed by its CAFile.
	// Default off.
	RESTTLS TLSFiles
	// RESTTokenFile is rest.auth.token-file: the bearer token the REST API,
	// the web UI and the metrics endpoint demand. Default empty (none).
	RESTTokenFile string
	// MetricsOpen is metrics.reporter.prom.allow-unauthenticated: serve
	// /metrics without the bearer token. Default false.
	MetricsOpen bool
	// AllowInsecure is security.allow-insecure: bind a port to a
	// non-loopback address with no authentication. Default false.
	AllowInsecure bool

	// sources records where each key's value came from; nil in a Config
	// not made by Load, where every source reads as SourceDefault.
	sources map[string]Source
}

// Get returns the resolved value of key (or of one of its aliases) as a
// string that Load would accept again, for logs and the REST API. It returns
// "" for unknown keys.
func (c *Config) Get(key string) string {
	o, ok := lookup(key)
	if !ok {
		return ""
	}
	return o.get(c)
}

// Source returns where the value of key came from. Unknown keys and keys of
// a Config not made by Load read as the default.
func (c *Config) Source(key string) Source {
	if o, ok := lookup(key); ok {
		if s, ok := c.sources[o.Key]; ok {
			return s
		}
	}
	return Source{Kind: SourceDefault}
}

// Keys returns every known key, sorted.
func (c *Config) Keys() []string {
	keys := make([]string, 0, len(options))
	for _, o := range options {
		keys = append(keys, o.Key)
	}
	slices.Sort(keys)
	return keys
}

// PromPortRange returns the ports that the Prometheus endpoint may bind,
// first free one wins: PromPort when set, else DefaultPromPortTaskManager
// for a TaskManager and DefaultPromPortJobManager for a JobManager.
// The error, naming the key, is only possible for a Config not made by Load.
func (c *Config) PromPortRange(taskManager bool) (lo, hi int, err error) {
	s := c.PromPort
	if s == "" {
		s = DefaultPromPortJobManager
		if taskManager {
			s = DefaultPromPortTaskManager
		}
	}
	if lo, hi, err = ParsePortRange(s); err != nil {
		return 0, 0, fmt.Errorf("config: metrics.reporter.prom.port: %w", err)
	}
	return lo, hi, nil
}

// TLSFiles is one security.ssl.<plane>.* group: PEM files, absolute paths.
type TLSFiles struct {
	// Enabled turns TLS on for the plane.
	Enabled bool
	// CertFile and KeyFile are this process's certificate (chain) and key.
	CertFile, KeyFile string
	// CAFile holds the certificates that sign the peers' certificates.
	CAFile string
	// ClientAuth demands client certificates (security.ssl.rest.authentication-enabled;
	// always true on the internal plane).
	ClientAuth bool
	// ClientCertFile and ClientKeyFile are what Tide's own REST clients
	// present when the server demands a client certificate (REST only).
	ClientCertFile, ClientKeyFile string
}
