// Package scheduler is the adaptive scheduler of a job: the state machine at
// the heart of reactive mode. It decides when to deploy the job's tasks, at
// which parallelism, when to rescale, restart, cancel or give up.
//
// It is pure, in the shape of raft's RawNode: no goroutines, no IO, no clock.
// Events come in through Step, time through Tick, and the work to do comes
// out of Ready. The JobManager's loop goroutine owns a Scheduler and:
//
//  1. Calls Tick(now) when Deadline is due, and before each Step: events
//     are stamped with the latest Tick's time (rescale record times, timer
//     starts).
//  2. Steps Start once, then every event of the list in events.go: the slot
//     pool's available count after every change (SlotsChanged), and what the
//     tasks of each attempt report. Step refuses, with an error and no
//     change, an event of an older attempt or one meaningless in the state.
//  3. While HasReady, takes Ready and does its work in field order: publish
//     the Transition, trigger the checkpoint, stop tasks, deploy (assigning
//     Deployment.Slots slots with the slot pool), publish rescale records.
//     Then calls Advance. Work is queued per Step/Tick, so nothing is lost if
//     several Steps come between two Readys.
//
// States (one file each) and their edges (transitions.go, checked by goTo;
// an illegal edge is a broken invariant and panics):
//
//	            Start                       slots stable
//	Created ─────────► WaitingForResources ─────────────► Executing ──TasksFinished──► Finished
//	   │                 │      ▲     │                     │  ▲  │                       ▲
//	   │ Cancel   Cancel │  no  │     │ no slot within      │  │  │ not retryable,        │
//	   ▼                 ▼ slots│     │ resource-wait       │  │  │ restarts exhausted    │
//	Canceled ◄───────────┘      │     └─────────► Failed ◄──┼──┼──┘                       │
//	   ▲  ▲                     │                           │  │                          │
//	   │  │ Cancel,             │      rescale, or failure: │  │ tasks stopped            │
//	   │  │ tasks stopped       │      Stop                 ▼  │ (+ restart delay): Deploy│
//	   │  └──────────────────── Restarting ─────────────────────┘                          │
//	   │                         │  └──────────────────TasksFinished──────────────────────┘
//	   │ TasksStopped            │ Cancel, tasks still stopping
//	Canceling ◄──────────────────┘
//	   ▲
//	   └──── Cancel ── Executing
//
// A Cancel with Finish (stop-with-savepoint) takes the same edges but ends
// in Finished instead of Canceled, as in Flink.
//
// Rescaling. The desired parallelism of a vertex is min(available slots, its
// max parallelism) in reactive mode and min(parallelism.default, max
// parallelism, available slots) otherwise. In Executing, a slot change that
// alters it (re)starts the stabilization timer, so several TaskManagers
// joining within the timeout cause one rescale and a join undone within it
// none. When the timer fires, and scaling-interval.min has passed since the
// last rescale ended, a planned rescale (TaskManager joined or leaving,
// manual) asks for a checkpoint if rescale-on-checkpoint is set, then stops
// the attempt; otherwise it stops at once. Once TasksStopped arrives the next
// attempt is deployed at the parallelism desired then, restoring the rescale
// checkpoint (or the latest completed one when it failed).
//
// Failures stop the attempt, wait for the restart strategy's delay, and
// deploy from the latest completed checkpoint. In reactive mode a lost
// TaskManager with slots left is a resource change: the same, at once and
// not counted by the restart strategy — also when the loss arrives after a
// failure it caused on the data plane, while Restarting.
//
// Rescale records. Every deployment but the first belongs to a rescale
// record (the first has trigger "initial", From 0): RescaleStarted when it is
// decided, RescaleEnded when the new attempt's tasks are all running; the
// difference is the pause. A rescale or failure that overtakes an open record
// joins it rather than opening another, so one record is one pause. The end
// of a record starts the scaling-interval.min cooldown.
//
// Timers are set by states and carry the epoch of the state that set them; a
// timer of an earlier state is dropped when it comes due.
package scheduler
