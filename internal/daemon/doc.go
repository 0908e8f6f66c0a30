// Package daemon manages the OS processes behind `tide standalone-job start|stop` and
// `tide taskmanager start|stop|stop-all` (DESIGN.md "Process model"), the way Flink's
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
// lines are key=value pairs: "start" is the process start time in clock ticks (Linux
// /proc/<pid>/stat field 22; used to detect a reused pid), "log" and "out" name the daemon's
// output files (absent for a foreground process). Unknown keys are ignored.
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
//     /dev/null, stdout/stderr to the files above), records its pid, and returns without waiting.
//     It prints nothing; the CLI prints.
//  2. `start-foreground` (also what a daemon runs): call [Register] early and defer the returned
//     release. Inside a daemon started by [Start], Register adopts the pid file [Start] wrote
//     (found through the [EnvPIDFile] environment variable) instead of adding a second entry.
//  3. `stop` / `stop-all`: call [Stop] / [StopAll] with SIGTERM and a wait. An error wrapping
//     [ErrStillRunning] means the process outlived the wait; the caller may retry with SIGKILL.
//     With nothing running the error wraps [ErrNotRunning].
//
// # Liveness
//
// A pid counts as live when kill(pid, 0) succeeds (or fails with EPERM) and, where /proc is
// available, the process is not a zombie and its start time matches the one recorded. Pid files
// of dead processes are stale: [Running], [Stop], [StopAll] and new registrations remove them.
//
// All functions are safe for concurrent use by goroutines and by processes sharing TIDE_HOME;
// each takes the kind's lock file for the short time it reads or changes pid files, and never
// while waiting for a process to exit.
package daemon
