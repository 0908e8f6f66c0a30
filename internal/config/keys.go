package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Type is the kind of value a key takes.
type Type string

// The value types of keys.
const (
	TypeString     Type = "string"
	TypeInt        Type = "int"
	TypeFloat      Type = "float"
	TypeBool       Type = "bool"
	TypeDuration   Type = "duration"    // ParseDuration's syntax
	TypeMemorySize Type = "memory size" // ParseMemorySize's syntax
	TypeEnum       Type = "enum"        // one of KeyInfo.Values
	TypeURL        Type = "url"         // a gocloud.dev/blob URL or a path
	TypePortRange  Type = "port range"  // ParsePortRange's syntax
	TypePath       Type = "path"        // a file; relative to the current directory
)

// KeyInfo describes one configuration key: a row of the key table, used for
// documentation and `tide` help.
type KeyInfo struct {
	// Key is the canonical, Flink-compatible name, e.g. "heartbeat.timeout".
	Key string
	// Default is the default as documented; for defaults that depend on the
	// scheduler mode or TIDE_HOME it is a description, not a value.
	Default string
	// Type is the kind of value.
	Type Type
	// Values lists the accepted values of an enum key (aliases aside).
	Values []string
	// Description says what the key does and which values are valid.
	Description string
	// Env is the environment variable that sets the key, TIDE_<KEY>.
	Env string
	// Aliases are other names accepted for the key (newer Flink names).
	Aliases []string
}

// WaitForever is the value of Config.ResourceWaitTimeout that means "wait
// for the first slots forever"; any negative value given is normalized to it.
const WaitForever time.Duration = -1

// UnlimitedAttempts is the value of Config.FixedDelayAttempts that means
// "restart forever".
const UnlimitedAttempts = -1

// Defaults of metrics.reporter.prom.port when it is not set.
const (
	DefaultPromPortJobManager  = "9249"
	DefaultPromPortTaskManager = "9250-9260"
)

// defaultContext is what defaults may depend on.
type defaultContext struct {
	mode SchedulerMode
	home string // absolute TIDE_HOME
}

// binding connects a key to its Config field.
type binding struct {
	// set parses raw, validates it and stores it in c.
	set func(c *Config, raw string) error
	// get formats the field's value so that set accepts it again.
	get func(c *Config) string
}

// option is a row of the key table.
type option struct {
	KeyInfo
	binding
	// def is the effective default; nil means KeyInfo.Default.
	def func(d defaultContext) string
}

func (o *option) defaultValue(d defaultContext) string {
	if o.def != nil {
		return o.def(d)
	}
	return o.Default
}

// names is the key and its aliases.
func (o *option) names() []string { return append([]string{o.Key}, o.Aliases...) }

// envName derives the environment variable of key: TIDE_ and the key
// upper-cased, with '.' and '-' replaced by '_'.
func envName(key string) string {
	return "TIDE_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

// lookup finds the option named name (a key or an alias).
func lookup(name string) (*option, bool) {
	for i := range options {
		if slices.Contains(options[i].names(), name) {
			return &options[i], true
		}
	}
	return nil, false
}

// lookupEnv finds the option whose environment variable (or an alias's) is env.
func lookupEnv(env string) (*option, bool) {
	for i := range options {
		for _, n := range options[i].names() {
			if envName(n) == env {
				return &options[i], true
			}
		}
	}
	return nil, false
}

// Keys returns the key table sorted by key.
func Keys() []KeyInfo {
	out := make([]KeyInfo, 0, len(options))
	for _, o := range options {
		ki := o.KeyInfo
		ki.Env = envName(o.Key)
		ki.Values = slices.Clone(o.Values)
		ki.Aliases = slices.Clone(o.Aliases)
		out = append(out, ki)
	}
	slices.SortFunc(out, func(a, b KeyInfo) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// options is the key table, the single source of keys, defaults, types,
// descriptions, validation and environment names. scheduler-mode comes first
// because other defaults depend on it.
var options = []option{
	{KeyInfo: KeyInfo{Key: "scheduler-mode", Default: "reactive", Type: TypeEnum, Values: []string{"reactive", "default"},
		Description: "reactive: the job always runs on all available slots; default: at the fixed parallelism.default"},
		binding: enumKey(func(c *Config) *SchedulerMode { return &c.SchedulerMode },
			map[string]SchedulerMode{"reactive": SchedulerReactive, "default": SchedulerDefault})},
	{KeyInfo: KeyInfo{Key: "parallelism.default", Default: "1", Type: TypeInt,
		Description: "parallelism when not in reactive mode; 1 to pipeline.max-parallelism"},
		binding: intKey(func(c *Config) *int { return &c.ParallelismDefault }, atLeast(1))},
	{KeyInfo: KeyInfo{Key: "pipeline.max-parallelism", Default: "128", Type: TypeInt,
		Description: "number of key groups, the upper bound on parallelism; 1 to 32768"},
		binding: intKey(func(c *Config) *int { return &c.MaxParallelism }, between(1, 32768))},
	{KeyInfo: KeyInfo{Key: "taskmanager.numberOfTaskSlots", Default: "1", Type: TypeInt,
		Description: "slots per TaskManager; 1 to 65536"},
		binding: intKey(func(c *Config) *int { return &c.NumberOfTaskSlots }, between(1, 1<<16))},
	{KeyInfo: KeyInfo{Key: "execution.checkpointing.interval", Default: "off", Type: TypeDuration,
		Description: "period of checkpoints, e.g. 10s; off (or 0) disables periodic checkpoints"},
		binding: checkpointIntervalKey()},
	{KeyInfo: KeyInfo{Key: "execution.checkpointing.timeout", Default: "10min", Type: TypeDuration,
		Description: "a checkpoint not completed within this time is declined; positive"},
		binding: durationKey(func(c *Config) *time.Duration { return &c.CheckpointTimeout }, positive)},
	{KeyInfo: KeyInfo{Key: "state.checkpoints.dir", Default: "file://$TIDE_HOME/checkpoints", Type: TypeURL,
		Aliases:     []string{"execution.checkpointing.dir"},
		Description: "where checkpoints are written: any gocloud.dev/blob URL (file://, s3://, gs://, azblob://, mem://); a bare or relative path becomes an absolute file:/// URL"},
		binding: urlKey(func(c *Config) *string { return &c.CheckpointsDir }, false),
		def: func(d defaultContext) string {
			u, err := NormalizeStorageURL(filepath.Join(d.home, "checkpoints"))
			if err != nil {
				return "file://" + filepath.ToSlash(filepath.Join(d.home, "checkpoints"))
			}
			return u
		}},
	{KeyInfo: KeyInfo{Key: "state.checkpoints.num-retained", Default: "3", Type: TypeInt,
		Aliases:     []string{"execution.checkpointing.num-retained"},
		Description: "completed checkpoints kept; at least 1"},
		binding: intKey(func(c *Config) *int { return &c.CheckpointsNumRetained }, atLeast(1))},
	{KeyInfo: KeyInfo{Key: "heartbeat.interval", Default: "10s", Type: TypeDuration,
		Description: "JobManager → TaskManager heartbeat period; positive"},
		binding: durationKey(func(c *Config) *time.Duration { return &c.HeartbeatInterval }, positive)},
	{KeyInfo: KeyInfo{Key: "heartbeat.timeout", Default: "50s", Type: TypeDuration,
		Description: "a TaskManager silent this long is declared lost; at least heartbeat.interval"},
		binding: durationKey(func(c *Config) *time.Duration { return &c.HeartbeatTimeout }, positive)},
	{KeyInfo: KeyInfo{Key: "jobmanager.adaptive-scheduler.resource-stabilization-timeout", Default: "1s", Type: TypeDuration,
		Description: "wait for resources to settle before (re)scaling; not negative"},
		binding: durationKey(func(c *Config) *time.Duration { return &c.ResourceStabilizationTimeout }, nonNegative)},
	{KeyInfo: KeyInfo{Key: "jobmanager.adaptive-scheduler.resource-wait-timeout", Default: "-1 (forever) in reactive mode, 5min otherwise", Type: TypeDuration,
		Description: "give up waiting for the first slots after this; negative (-1) waits forever"},
		binding: resourceWaitKey(),
		def: func(d defaultContext) string {
			if d.mode == SchedulerReactive {
				return "-1"
			}
			return "5min"
		}},
	{KeyInfo: KeyInfo{Key: "jobmanager.adaptive-scheduler.scaling-interval.min", Default: "0s", Type: TypeDuration,
		Description: "cooldown: no rescale sooner than this after the last one; not negative"},
		binding: durationKey(func(c *Config) *time.Duration { return &c.ScalingIntervalMin }, nonNegative)},
	{KeyInfo: KeyInfo{Key: "jobmanager.adaptive-scheduler.rescale-on-checkpoint", Default: "true", Type: TypeBool,
		Description: "a planned rescale first takes a checkpoint and restores from it; false restores the latest completed checkpoint"},
		binding: boolKey(func(c *Config) *bool { return &c.RescaleOnCheckpoint })},
	{KeyInfo: KeyInfo{Key: "taskmanager.decommission.timeout", Default: "30s", Type: TypeDuration,
		Description: "how long a TaskManager asked to stop keeps serving while the job rescales without it; not negative"},
		binding: durationKey(func(c *Config) *time.Duration { return &c.DecommissionTimeout }, nonNegative)},
	{KeyInfo: KeyInfo{Key: "restart-strategy", Default: "fixed-delay", Type: TypeEnum,
		Values:      []string{"none", "fixed-delay", "exponential-delay", "failure-rate"},
		Aliases:     []string{"restart-strategy.type"},
		Description: "how the job restarts after a failure of its own code (Flink's aliases off, disable, fixeddelay, exponentialdelay, failurerate are accepted); in reactive mode a lost TaskManager is a resource change, not a failure"},
		binding: enumKey(func(c *Config) *RestartStrategy { return &c.RestartStrategy }, map[string]RestartStrategy{
			"none": RestartNone, "off": RestartNone, "disable": RestartNone,
			"fixed-delay": RestartFixedDelay, "fixeddelay": RestartFixedDelay,
			"exponential-delay": RestartExponentialDelay, "exponentialdelay": RestartExponentialDelay,
			"failure-rate": RestartFailureRate, "failurerate": RestartFailureRate,
		})},
	{KeyInfo: KeyInfo{Key: "restart-strategy.fixed-delay.attempts", Default: "-1 (unlimited)", Type: TypeInt,
		Description: "restarts before the job fails; -1 or unlimited: no limit. Unlimited in every scheduler mode, as Flink does when checkpointing is on"},
		binding: attemptsKey(), def: func(defaultContext) string { return "-1" }},
	{KeyInfo: KeyInfo{Key: "restart-strategy.fixed-delay.delay", Default: "1s", Type: TypeDuration,
		Description: "pause before each restart (fixed-delay); not negative"},
		binding: durationKey(func(c *Config) *time.Duration { return &c.FixedDelayDelay }, nonNegative)},
	{KeyInfo: KeyInfo{Key: "restart-strategy.exponential-delay.initial-backoff", Default: "1s", Type: TypeDuration,
		Description: "first pause before a restart (exponential-delay); positive"},
		binding: durationKey(func(c *Config) *time.Duration { return &c.ExponentialDelayInitialBackoff }, positive)},
	{KeyInfo: KeyInfo{Key: "restart-strategy.exponential-delay.max-backoff", Default: "1min", Type: TypeDuration,
		Description: "longest pause before a restart (exponential-delay); at least initial-backoff"},
		binding: durationKey(func(c *Config) *time.Duration { return &c.ExponentialDelayMaxBackoff }, positive)},
	{KeyInfo: KeyInfo{Key: "restart-strategy.exponential-delay.backoff-multiplier", Default: "2.0", Type: TypeFloat,
		Description: "factor between consecutive pauses (exponential-delay); at least 1"},
		binding: floatKey(func(c *Config) *float64 { return &c.ExponentialDelayBackoffMultiplier }, atLeast(1.0))},
	{KeyInfo: KeyInfo{Key: "restart-strategy.failure-rate.max-failures-per-interval", Default: "1", Type: TypeInt,
		Description: "failures within failure-rate-interval after which the job fails instead of restarting (failure-rate); at least 1"},
		binding: intKey(func(c *Config) *int { return &c.FailureRateMaxFailures }, atLeast(1))},
	{KeyInfo: KeyInfo{Key: "restart-strategy.failure-rate.failure-rate-interval", Default: "1min", Type: TypeDuration,
		Description: "the window failures are counted in (failure-rate); positive"},
		binding: durationKey(func(c *Config) *time.Duration { return &c.FailureRateInterval }, positive)},
	{KeyInfo: KeyInfo{Key: "restart-strategy.failure-rate.delay", Default: "1s", Type: TypeDuration,
		Description: "pause before each restart (failure-rate); not negative"},
		binding: durationKey(func(c *Config) *time.Duration { return &c.FailureRateDelay }, nonNegative)},
	{KeyInfo: KeyInfo{Key: "jobmanager.rpc.address", Default: "localhost", Type: TypeString,
		Description: "host where TaskManagers reach the JobManager to register; not empty"},
		binding: stringKey(func(c *Config) *string { return &c.JobManagerRPCAddress }, false)},
	{KeyInfo: KeyInfo{Key: "jobmanager.rpc.port", Default: "6123", Type: TypeInt,
		Description: "port of the JobManager's control plane; 0-65535"},
		binding: intKey(func(c *Config) *int { return &c.JobManagerRPCPort }, between(0, 65535))},
	{KeyInfo: KeyInfo{Key: "rest.address", Default: "localhost", Type: TypeString,
		Description: "address of the REST API and web UI; not empty"},
		binding: stringKey(func(c *Config) *string { return &c.RESTAddress }, false)},
	{KeyInfo: KeyInfo{Key: "rest.port", Default: "8081", Type: TypeInt,
		Description: "port of the REST API and web UI; 0-65535"},
		binding: intKey(func(c *Config) *int { return &c.RESTPort }, between(0, 65535))},
	{KeyInfo: KeyInfo{Key: "metrics.reporter.prom.port", Default: DefaultPromPortJobManager + " (JobManager), " + DefaultPromPortTaskManager + " (TaskManager)", Type: TypePortRange,
		Description: "port, or range of ports of which the first free one is used, for Prometheus /metrics; empty: the process's default"},
		binding: promPortKey(), def: func(defaultContext) string { return "" }},
	{KeyInfo: KeyInfo{Key: "taskmanager.host", Default: "localhost", Type: TypeString,
		Description: "address the TaskManager advertises for its data plane; not empty"},
		binding: stringKey(func(c *Config) *string { return &c.TaskManagerHost }, false)},
	{KeyInfo: KeyInfo{Key: "taskmanager.data.port", Default: "0", Type: TypeInt,
		Description: "data-plane listen port; 0 picks any free port"},
		binding: intKey(func(c *Config) *int { return &c.TaskManagerDataPort }, between(0, 65535))},
	{KeyInfo: KeyInfo{Key: "state.backend.local-recovery", Default: "true", Type: TypeBool,
		Description: "keep keyed state of a subtask stopped at a checkpoint in the TaskManager's memory, so a rescale reads only moved key groups from the blob store"},
		binding: boolKey(func(c *Config) *bool { return &c.LocalRecovery })},
	{KeyInfo: KeyInfo{Key: "taskmanager.resource-id", Default: "", Type: TypeString,
		Description: "the TaskManager's id; empty: generated by the TaskManager"},
		binding: stringKey(func(c *Config) *string { return &c.TaskManagerResourceID }, true)},
	{KeyInfo: KeyInfo{Key: "taskmanager.network.buffer-size", Default: "32kb", Type: TypeMemorySize,
		Description: "size of a channel's network buffer; 1b to 1gb"},
		binding: memoryKey(func(c *Config) *int64 { return &c.NetworkBufferSize }, between[int64](1, 1<<30))},
	{KeyInfo: KeyInfo{Key: "taskmanager.network.credits-per-channel", Default: "4", Type: TypeInt,
		Description: "buffers a channel may have in flight; at least 1"},
		binding: intKey(func(c *Config) *int { return &c.NetworkCreditsPerChannel }, atLeast(1))},
	{KeyInfo: KeyInfo{Key: "execution.buffer-timeout.interval", Default: "100ms", Type: TypeDuration,
		Description: "longest time a partly filled buffer waits before it is sent; 0 sends after every record"},
		binding: durationKey(func(c *Config) *time.Duration { return &c.BufferTimeout }, nonNegative)},
	{KeyInfo: KeyInfo{Key: "pipeline.auto-watermark-interval", Default: "200ms", Type: TypeDuration,
		Description: "how often sources with a watermark strategy emit their watermark (Flink's default); at least 1ms"},
		binding: durationKey(func(c *Config) *time.Duration { return &c.AutoWatermarkInterval }, atLeast(time.Millisecond))},
	{KeyInfo: KeyInfo{Key: "execution.savepoint.path", Default: "", Type: TypeURL,
		Aliases:     []string{"execution.state-recovery.path"},
		Description: "restore the job from this checkpoint or savepoint at start; empty: start fresh"},
		binding: urlKey(func(c *Config) *string { return &c.SavepointPath }, true)},
	{KeyInfo: KeyInfo{Key: "execution.savepoint.ignore-unclaimed-state", Default: "false", Type: TypeBool,
		Aliases:     []string{"execution.state-recovery.ignore-unclaimed-state"},
		Description: "restore a checkpoint or savepoint even if it holds state of operators the job no longer has (that state is dropped); false refuses such a restore at start, naming the operators"},
		binding: boolKey(func(c *Config) *bool { return &c.IgnoreUnclaimedState })},
	{KeyInfo: KeyInfo{Key: "jobmanager.recovery", Default: "latest-checkpoint", Type: TypeEnum, Values: []string{"latest-checkpoint", "none"},
		Description: "latest-checkpoint: a JobManager (re)started for a job that has completed checkpoints in state.checkpoints.dir resumes its run from the newest one; a run that ended FINISHED or CANCELED is not run again unless execution.savepoint.path names another savepoint to start a new run from; none: start a new run"},
		binding: enumKey(func(c *Config) *Recovery { return &c.Recovery },
			map[string]Recovery{"latest-checkpoint": RecoveryLatestCheckpoint, "none": RecoveryNone})},
	{KeyInfo: KeyInfo{Key: "security.ssl.internal.enabled", Default: "false", Type: TypeBool,
		Description: "mutual TLS (1.3) on the RPC and data-plane ports: every process presents security.ssl.internal.cert-file and key-file and accepts only peers whose certificate security.ssl.internal.ca-file signed; the files are read again when they change"},
		binding: boolKey(func(c *Config) *bool { return &c.InternalTLS.Enabled })},
	{KeyInfo: KeyInfo{Key: "security.ssl.internal.cert-file", Default: "", Type: TypePath,
		Description: "PEM certificate (chain) of this process on the internal plane; required when security.ssl.internal.enabled"},
		binding: pathKey(func(c *Config) *string { return &c.InternalTLS.CertFile })},
	{KeyInfo: KeyInfo{Key: "security.ssl.internal.key-file", Default: "", Type: TypePath,
		Description: "PEM private key of security.ssl.internal.cert-file"},
		binding: pathKey(func(c *Config) *string { return &c.InternalTLS.KeyFile })},
	{KeyInfo: KeyInfo{Key: "security.ssl.internal.ca-file", Default: "", Type: TypePath,
		Description: "PEM certificates of the CAs that sign the internal certificates; use a CA of the cluster's own: any certificate it signed is a member"},
		binding: pathKey(func(c *Config) *string { return &c.InternalTLS.CAFile })},
	{KeyInfo: KeyInfo{Key: "security.internal.token-file", Default: "", Type: TypePath,
		Description: "file holding a shared secret (at least 16 characters; surrounding whitespace ignored): the JobManager and TaskManagers prove to each other that they know it on every RPC and data-plane connection, without sending it; works with or without TLS; never logged"},
		binding: pathKey(func(c *Config) *string { return &c.InternalTokenFile })},
	{KeyInfo: KeyInfo{Key: "security.ssl.rest.enabled", Default: "false", Type: TypeBool,
		Description: "HTTPS on rest.port and the metrics port with security.ssl.rest.cert-file and key-file (read again when they change); tide's own clients then trust security.ssl.rest.ca-file"},
		binding: boolKey(func(c *Config) *bool { return &c.RESTTLS.Enabled })},
	{KeyInfo: KeyInfo{Key: "security.ssl.rest.cert-file", Default: "", Type: TypePath,
		Description: "PEM certificate (chain) of the REST and metrics server; required when security.ssl.rest.enabled"},
		binding: pathKey(func(c *Config) *string { return &c.RESTTLS.CertFile })},
	{KeyInfo: KeyInfo{Key: "security.ssl.rest.key-file", Default: "", Type: TypePath,
		Description: "PEM private key of security.ssl.rest.cert-file"},
		binding: pathKey(func(c *Config) *string { return &c.RESTTLS.KeyFile })},
	{KeyInfo: KeyInfo{Key: "security.ssl.rest.ca-file", Default: "", Type: TypePath,
		Description: "PEM certificates of the CAs that sign REST client certificates (with security.ssl.rest.authentication-enabled) and that tide's own REST clients trust; empty: the system's roots"},
		binding: pathKey(func(c *Config) *string { return &c.RESTTLS.CAFile })},
	{KeyInfo: KeyInfo{Key: "security.ssl.rest.authentication-enabled", Default: "false", Type: TypeBool,
		Description: "the REST and metrics ports also demand a client certificate signed by security.ssl.rest.ca-file"},
		binding: boolKey(func(c *Config) *bool { return &c.RESTTLS.ClientAuth })},
	{KeyInfo: KeyInfo{Key: "security.ssl.rest.client-cert-file", Default: "", Type: TypePath,
		Description: "PEM certificate that tide's own REST clients (tide autoscaler, tide chaos, tide run) present when security.ssl.rest.authentication-enabled"},
		binding: pathKey(func(c *Config) *string { return &c.RESTTLS.ClientCertFile })},
	{KeyInfo: KeyInfo{Key: "security.ssl.rest.client-key-file", Default: "", Type: TypePath,
		Description: "PEM private key of security.ssl.rest.client-cert-file"},
		binding: pathKey(func(c *Config) *string { return &c.RESTTLS.ClientKeyFile })},
	{KeyInfo: KeyInfo{Key: "rest.auth.token-file", Default: "", Type: TypePath,
		Description: "file holding a bearer token (at least 16 characters; surrounding whitespace ignored): the REST API, the web UI (which asks for it once) and the metrics port demand Authorization: Bearer <token>; tide's own REST clients send it"},
		binding: pathKey(func(c *Config) *string { return &c.RESTTokenFile })},
	{KeyInfo: KeyInfo{Key: "metrics.reporter.prom.allow-unauthenticated", Default: "false", Type: TypeBool,
		Description: "serve /metrics on the metrics port without the bearer token of rest.auth.token-file or a client certificate (HTTPS still applies)"},
		binding: boolKey(func(c *Config) *bool { return &c.MetricsOpen })},
	{KeyInfo: KeyInfo{Key: "security.allow-insecure", Default: "false", Type: TypeBool,
		Description: "allow binding rest.address, jobmanager.rpc.address or taskmanager.host to a non-loopback address with no authentication on that port; false refuses such a start, naming the keys to set"},
		binding: boolKey(func(c *Config) *bool { return &c.AllowInsecure })},
}

// check validates a parsed value; its error says what is expected.
type check[T any] func(T) error

func atLeast[T int | float64 | time.Duration](lo T) check[T] {
	return func(v T) error {
		if v < lo {
			return fmt.Errorf("must be at least %v", lo)
		}
		return nil
	}
}

// positive checks a duration that must be above zero.
func positive(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("must be positive")
	}
	return nil
}

// nonNegative checks a duration that may be zero but not below.
func nonNegative(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("must not be negative")
	}
	return nil
}

func between[T int | int64](lo, hi T) check[T] {
	return func(v T) error {
		if v < lo || v > hi {
			return fmt.Errorf("must be between %d and %d", lo, hi)
		}
		return nil
	}
}

// bind builds the binding of a field of type T from its parser, check and
// formatter.
func bind[T any](field func(*Config) *T, parse func(string) (T, error), ok check[T], format func(T) string) binding {
	return binding{
		set: func(c *Config, raw string) error {
			v, err := parse(raw)
			if err != nil {
				return err
			}
			if ok != nil {
				if err := ok(v); err != nil {
					return err
				}
			}
			*field(c) = v
			return nil
		},
		get: func(c *Config) string { return format(*field(c)) },
	}
}

func intKey(field func(*Config) *int, ok check[int]) binding {
	return bind(field, parseInt, ok, strconv.Itoa)
}

func floatKey(field func(*Config) *float64, ok check[float64]) binding {
	return bind(field, parseFloat, ok, func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) })
}

func boolKey(field func(*Config) *bool) binding {
	return bind(field, parseBool, nil, strconv.FormatBool)
}

func durationKey(field func(*Config) *time.Duration, ok check[time.Duration]) binding {
	return bind(field, ParseDuration, ok, FormatDuration)
}

func memoryKey(field func(*Config) *int64, ok check[int64]) binding {
	return bind(field, ParseMemorySize, ok, FormatMemorySize)
}

func stringKey(field func(*Config) *string, allowEmpty bool) binding {
	return bind(field, func(s string) (string, error) {
		s = strings.TrimSpace(s)
		if s == "" && !allowEmpty {
			return "", fmt.Errorf("must not be empty")
		}
		return s, nil
	}, nil, func(s string) string { return s })
}

// pathKey binds a file path, made absolute; empty means none.
func pathKey(field func(*Config) *string) binding {
	return bind(field, func(s string) (string, error) {
		s = strings.TrimSpace(s)
		if s == "" {
			return "", nil
		}
		return filepath.Abs(s)
	}, nil, func(s string) string { return s })
}

func urlKey(field func(*Config) *string, allowEmpty bool) binding {
	return bind(field, func(s string) (string, error) {
		if strings.TrimSpace(s) == "" && allowEmpty {
			return "", nil
		}
		return NormalizeStorageURL(s)
	}, nil, func(s string) string { return s })
}

func enumKey[T ~string](field func(*Config) *T, accepted map[string]T) binding {
	return bind(field, func(s string) (T, error) {
		if v, ok := accepted[strings.ToLower(strings.TrimSpace(s))]; ok {
			return v, nil
		}
		names := make([]string, 0, len(accepted))
		for n := range accepted {
			names = append(names, n)
		}
		slices.Sort(names)
		return "", fmt.Errorf("want one of %s", strings.Join(names, ", "))
	}, nil, func(v T) string { return string(v) })
}

// checkpointIntervalKey accepts off (or 0) for "no periodic checkpoints".
func checkpointIntervalKey() binding {
	return bind(func(c *Config) *time.Duration { return &c.CheckpointInterval },
		func(s string) (time.Duration, error) {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "off", "none", "disabled":
				return 0, nil
			}
			return ParseDuration(s)
		}, nonNegative,
		func(d time.Duration) string {
			if d == 0 {
				return "off"
			}
			return FormatDuration(d)
		})
}

// resourceWaitKey normalizes any negative duration to WaitForever.
func resourceWaitKey() binding {
	return bind(func(c *Config) *time.Duration { return &c.ResourceWaitTimeout },
		func(s string) (time.Duration, error) {
			d, err := ParseDuration(s)
			return max(d, WaitForever), err
		}, nil,
		func(d time.Duration) string {
			if d < 0 {
				return "-1"
			}
			return FormatDuration(d)
		})
}

// attemptsKey accepts -1 or "unlimited" for UnlimitedAttempts.
func attemptsKey() binding {
	return bind(func(c *Config) *int { return &c.FixedDelayAttempts },
		func(s string) (int, error) {
			if strings.EqualFold(strings.TrimSpace(s), "unlimited") {
				return UnlimitedAttempts, nil
			}
			return parseInt(s)
		}, atLeast(UnlimitedAttempts), strconv.Itoa)
}

// promPortKey accepts a port, a range of ports, or empty for the default of
// the process.
func promPortKey() binding {
	return bind(func(c *Config) *string { return &c.PromPort },
		func(s string) (string, error) {
			s = strings.TrimSpace(s)
			if s == "" {
				return "", nil
			}
			if _, _, err := ParsePortRange(s); err != nil {
				return "", err
			}
			return s, nil
		}, nil, func(s string) string { return s })
}
