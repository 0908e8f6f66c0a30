// Package daemon manages the OS processes behind `tide standalone-job start|stop` and
// `tide taskmanager start|stop|stop-all` (docs/jobs.md, "Commands"), the way Flink's
// bin/flink-daemon.sh does.
//
// # Files under TIDE_HOME
//
//	$TIDE_HOME/pids/<kind>.lock                       flock(2) guarding every change below
//	$TIDE_HOME/pids/<kind>-<index>.pid                one file per live instance
//	$TIDE_HOME/log/tide-<kind>-<index>-<host>.log     stderr of a daemon (where slog writes)
//	$TIDE_HOME/log/tide-<kind>-<index>-<host>.out     stdout of a daemon (where print sinks write)
//
// A pid file's first line is the decimal pid, as in Flink, so shell tools can read it. Further
// lines are key=value pairs: "start" is the process start time (Linux: clock ticks since boot,
// /proc/<pid>/stat field 22; macOS: microseconds since the epoch), which proves that the pid
// still names the recorded process; "log" and "out" name the daemon's output files (absent for
// a foreground process); "stop-timeout" is how long the process may take to exit after SIGTERM
// ([RecordStopTimeout]). Unknown keys are ignored.
//
// The index of a new instance is one more than the highest index of a live instance of the
// same kind, so "the most recently started instance" (the highest index) is well defined, and
// log file names stay few, as with Flink's numbering. When a log file name is reused, the old
// file is rotated to <name>.1 (up to [MaxRotatedLogs] old copies), as flink-daemon.sh does.
//
// # Duties of the caller
//
//  1. `start`: call [Start] with the argv of the foreground command ("taskmanager",
//     "start-foreground", flags...). It re-executes the binary detached (new session, stdin from
//     /dev/null, stdout/stderr to the files above), records its pid, and waits until the process
//     reports that it is up or exits (a [*StartError] with the end of its log), for at most
//     [DefaultReadyTimeout]. It prints nothing; the CLI prints.
//  2. `start-foreground` (also what a daemon runs): call [Register] early and defer the returned
//     release. Inside a daemon started by [Start], Register adopts the pid file [Start] wrote
//     (found through the [EnvPIDFile] environment variable) instead of adding a second entry.
//     Call [NotifyReady] once the process is up (its ports are bound); it does nothing when no
//     one waits ([EnvReadyFD] describes the protocol).
//  3. `stop` / `stop-all`: call [Stop] / [StopAll] with SIGTERM and a wait. An error wrapping
//     [ErrStillRunning] means the process outlived the wait; the caller may retry with SIGKILL.
//     With nothing running the error wraps [ErrNotRunning].
//
// # Liveness and identity
//
// Pids are reused, so a pid alone proves nothing. A pid file names a running instance only if
// the process exists (kill(pid, 0) succeeds or fails with EPERM), is not a zombie, and its start
// time equals the recorded one. Pid files of exited processes, and of pids now held by a process
// with another start time, are stale: [Running], [Stop], [StopAll] and new registrations remove
// them. A pid file that names a running process but records no start time (a hand-written or
// Flink-style file), or on a system that does not report start times, is unverifiable: it is
// never signalled, never removed while the process runs, and reported through
// [StopOptions.Skipped].
//
// All functions are safe for concurrent use by goroutines and by processes sharing TIDE_HOME;
// each takes the kind's lock file for the short time it reads or changes pid files, and never
// while waiting for a process to exit.
package daemon
