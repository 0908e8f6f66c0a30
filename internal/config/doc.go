// Package config resolves Tide's configuration: Flink's key names, parsed
// and validated into a typed Config.
//
// # Sources
//
// Load reads, later wins:
//
//  1. the defaults of the key table (Keys);
//  2. $TIDE_HOME/conf/config.yaml, if it exists. Keys may be flat
//     ("heartbeat.timeout: 5s"), nested ("heartbeat: {timeout: 5s}") or
//     both; nested mappings flatten to dotted keys. Values are scalars of
//     any YAML type, read as their text. A key set twice in the file is an
//     error;
//  3. environment variables TIDE_<KEY>, where KEY is the key upper-cased
//     with '.' and '-' replaced by '_' (TIDE_HEARTBEAT_TIMEOUT,
//     TIDE_STATE_CHECKPOINTS_DIR). Only the variables of known keys are
//     read. TIDE_HOME is the home directory, not a key; it defaults to
//     ./tide-home and is made absolute;
//  4. -Dkey=value dynamic properties (LoadOptions.Dynamic), parsed by
//     ParseDynamic.
//
// Unknown keys (in the file or -D) and bad values are errors of type *Error,
// which name the key, the value and the source (file and line, environment
// variable, or -D). Load reports all of them at once with errors.Join.
//
// # Keys
//
// The key table in keys.go is the single source of names, defaults, types,
// descriptions, validation and environment variable names; Keys returns it
// for documentation and `tide` help. docs/configuration.md documents every
// key, its default and meaning: its table is generated from Keys (go test
// ./internal/config -run TestConfigurationDoc -update), and that test fails
// when the doc and the key table differ.
//
// # Value syntax and special values
//
//   - Durations use Flink's syntax ("10s", "500ms", "5min", "2 min", "1h",
//     "1d"; a bare number is milliseconds) or Go's ("1h30m"); see
//     ParseDuration. Memory sizes are "32kb", "1mb", "64 m", "1gb" or bytes;
//     see ParseMemorySize. Booleans are true or false.
//   - execution.checkpointing.interval: off (the default) or 0 disables
//     periodic checkpoints; Config.CheckpointInterval is then 0.
//   - jobmanager.adaptive-scheduler.resource-wait-timeout: any negative
//     value (-1) waits forever and becomes WaitForever. Its default depends
//     on scheduler-mode: forever in reactive mode, 5min otherwise.
//   - restart-strategy.fixed-delay.attempts: -1 or "unlimited" means no
//     limit (UnlimitedAttempts). The default is unlimited in every mode:
//     reactive mode must restart to scale down, and Flink, too, restarts
//     forever when checkpointing is on and no strategy is set.
//   - restart-strategy accepts Flink's aliases off and disable (none),
//     fixeddelay and exponentialdelay; Config.RestartStrategy holds the
//     canonical name.
//   - state.checkpoints.dir defaults to file://<absolute TIDE_HOME>/checkpoints.
//     It and execution.savepoint.path take any gocloud.dev/blob URL; a bare
//     path or a file URL with a relative path becomes an absolute file:///
//     URL, relative to the current directory (NormalizeStorageURL).
//   - metrics.reporter.prom.port is a port or a range "9250-9260" (the first
//     free port wins). Unset, it is 9249 on a JobManager and 9250-9260 on a
//     TaskManager; Config.PromPortRange applies that.
//
// Some keys also accept their newer Flink names: restart-strategy.type
// (handy in nested YAML, since restart-strategy is also a prefix),
// execution.checkpointing.dir, execution.checkpointing.num-retained and
// execution.state-recovery.path.
//
// Constraints between keys are checked too: heartbeat.timeout ≥
// heartbeat.interval, parallelism.default ≤ pipeline.max-parallelism and
// max-backoff ≥ initial-backoff.
//
// A Config is a plain value; Load is the only constructor that validates
// it. Config.Get formats any key's resolved value so that Load accepts it
// again, and Config.Source tells where it came from.
package config
