// Package chaos is the logic of `tide chaos`: it runs the built-in Verify
// job on a local cluster of real processes (one JobManager and TaskManagers,
// each a separate process of the tide binary), disturbs it with random
// events, waits for the bounded job to finish and checks its output with
// package verify. It is a test of Tide's core promise: exactly-once results
// across rescales, graceful leaves, crashes and pauses, of TaskManagers and,
// on request, of the JobManager.
//
// # Driving it
//
// Fill a Config (zero fields take the defaults documented on each field)
// and call Run. Run:
//
//  1. prints the seed first, so that a failing run can be replayed with
//     Config.Seed (the choices replay; the timing does not);
//  2. makes Config.Dir (or a temporary directory) with logs/<process>.log,
//     home/ (TIDE_HOME: checkpoints and pid files) and out/ (the job's
//     output), picks two free loopback ports for rest.port and
//     jobmanager.rpc.port, and starts the JobManager with
//     DefaultDynamic and Config.Dynamic;
//  3. once the REST API shows the job, starts Config.InitialTMs TaskManagers
//     and, every Config.Interval, draws one legal event from Config.Kinds:
//     start a TaskManager, stop one (SIGTERM: a graceful leave), kill one
//     (SIGKILL: a crash), or stop-cont one (SIGSTOP for 1–3 heartbeat
//     timeouts, then SIGCONT). The number of TaskManagers up (running or
//     paused; not leaving) stays in [MinTMs, MaxTMs]. Only when Config.Kinds
//     names them (they are not among the defaults, AllKinds), jm-kill
//     (SIGKILL) and jm-stop (SIGTERM) hit the JobManager, and are legal
//     whatever the TaskManagers' states: Run waits until the JobManager is
//     gone, starts it again with the same command line and environment
//     (TIDE_HOME, ports, job arguments; its log is logs/jobmanager-2.log,
//     -3, …) and, before the next event, waits up to Config.StartTimeout
//     for its REST API to show the job, with the same id (it is derived
//     from the job's name and arguments). The JobManager resumes the job
//     from its latest completed checkpoint (docs/recovery.md) and the
//     TaskManagers that kept running register with it again;
//  4. after the last event, resumes the paused TaskManagers, makes sure one
//     runs, and waits up to Config.FinishTimeout for the job to be FINISHED,
//     polling the REST API (state, parallelism, TaskManagers, rescales) and
//     printing a status line every Config.StatusEvery;
//  5. stops every process it started (also on failure and when its context
//     is cancelled), runs verify.Check on the output and writes the report,
//     the timeline of events and the job's rescales: each JobManager lists
//     only its own on its REST API, so Result.Rescales keeps those of every
//     JobManager, as each last showed them, and names it.
//
// A run passes when the job reached FINISHED and the check is OK. A
// JobManager that exits unasked before the job finished, or that does not
// come back after a jm-kill or jm-stop, fails it. Anything odd that does
// not decide the verdict (a TaskManager that exited on its own, one that
// did not leave after SIGTERM, a JobManager that did not stop after SIGTERM
// and was killed) is listed as an anomaly.
//
// The choice of the next event is a pure function of the random source and
// the TaskManagers' states (pick), tested on its own; the rest is a shell
// whose single goroutine owns every process and timer.
package chaos
