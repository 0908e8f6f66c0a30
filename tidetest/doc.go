// Package tidetest runs a Tide cluster inside a test: one JobManager and any
// number of TaskManagers as goroutines of the test process, talking over
// real loopback sockets on free ports, with checkpoints in a file:// blob
// directory under t.TempDir() — or, simulated, over an in-memory network
// with one shared in-memory checkpoint store, on virtual time. It plays the part franz-go's kfake plays for
// Kafka clients: the whole runtime, end to end, with no processes to start.
//
//	c := tidetest.Start(t, tidetest.Config{
//		Job:                myjob.Build,
//		Args:               []string{"--count", "1000"},
//		TaskManagers:       2,
//		CheckpointInterval: 200 * time.Millisecond,
//	})
//	c.WaitParallelism(2, 10*time.Second)
//	c.AddTaskManager()                       // rescale 2 -> 3
//	c.WaitState(tidetest.Finished, 30*time.Second)
//
// # Contract
//
//  1. Start configures the cluster the way `tide standalone-job` and
//     `tide taskmanager` do: every key goes through the configuration loader
//     (as -D entries), so defaults match production, except for a few that
//     make tests fast (see Config). Config.Dynamic overrides any key.
//  2. Start registers a t.Cleanup that cancels every component and waits for
//     every goroutine it started. Create directories the job writes to (a
//     file sink's output, say) with t.TempDir BEFORE calling Start: cleanups
//     run last-registered first, so the cluster then stops before the
//     directory is removed.
//  3. A TM is stopped either gracefully (Leave: it tells the JobManager and
//     serves until the job rescaled without it) or abruptly (Kill: its
//     context is canceled, its control stream breaks and the JobManager
//     declares it lost at once, the closest in-process analogue of a crash).
//  4. The Wait helpers poll the JobManager's published view and fail the
//     test (t.Fatalf) on timeout, or at once when the job reaches a terminal
//     state other than the one awaited. They must be called from the test
//     goroutine, as t.Fatalf requires.
//  5. With Config.Simulated the cluster opens no socket and no file: the
//     JobManager's control endpoint and every TaskManager's data plane live
//     on an in-memory network (package transport's Mem; the JobManager is
//     host "jobmanager", a TaskManager host "tm-N"), and every component
//     opens the same in-memory checkpoint store, wrapped in a fault
//     injector (StorageFaults). No REST server runs in any mode: tests read
//     the JobManager's Backend directly. Start such a cluster inside
//     synctest.Test: every goroutine it starts belongs to the bubble and
//     ends at Stop, every wait is on a channel or a timer, so time is
//     virtual — heartbeat timeouts, checkpoint intervals, source rates and
//     the Wait helpers' timeouts pass in no wall time, and never because
//     the machine was slow. Stop also fails the test if a connection is
//     left open. The simulated faults are TM.Crash (its connections reset,
//     then it stops), TM.Partition and TM.Heal (a zombie: cut off while it
//     runs on), RestartJobManager, StorageFaults, and seeded latency
//     (Config.Latency, Config.Seed).
//
// Virtual time makes a scenario's timing reproducible, not its
// interleaving: goroutines that are runnable at one instant of virtual time
// run in whatever order the Go scheduler picks. A seed fixes what a
// scenario does and when (in virtual time); the order of events within one
// instant may differ from run to run.
//
// The job runs in every component from its build function, as in a real
// cluster, so a job may share Go values (a test sink, a counter) between
// the test and its tasks: they all live in one process. Sink collects a
// stream's output that way with exactly-once semantics, and SliceSource
// feeds a job from a slice with checkpointed positions.
package tidetest
