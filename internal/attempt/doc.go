// Package attempt owns the lifecycle of the job's deployed attempts: which
// subtask runs where, when an attempt is all running, the final-checkpoint
// handshake of a bounded job, halting sources at a checkpoint's barrier and
// resuming them when the attempt goes on, stopping an attempt, the restore
// points found corrupt, and the rescale history with each rescale's pause.
//
// It is the glue between the scheduler (internal/scheduler), which decides
// when to deploy, stop and restart, and the checkpoint coordinator
// (internal/checkpoint), which runs checkpoints: what the subtasks report
// becomes events of those two cores, and their decisions become messages to
// TaskManagers. Like them it is a pure state machine without IO, clocks or
// goroutines, driven by the JobManager's loop with the contract all of
// Tide's cores share (etcd raft's):
//
//	l.Step(ev)      // an input; an error means it was refused and changed nothing
//	l.Tick(now)     // time moved; Deadline says when it next matters
//	for l.HasReady() {
//		rd := l.Ready()
//		// perform rd, in the order its fields are documented
//		l.Advance(rd)
//	}
//
// A Ready is derived from state at the moment it is asked for, not queued
// as messages: an output an event has made moot since (sources to resume
// when the attempt is being stopped) is never produced. The shell must
// therefore hand the core the scheduler's decisions (Stop) before it
// performs the core's Ready; the JobManager's loop drains the scheduler
// first.
package attempt
