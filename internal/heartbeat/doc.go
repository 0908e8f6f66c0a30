// Package heartbeat tracks the liveness of TaskManagers on logical time.
//
// A Tracker is a pure state machine in the shape of raft's RawNode: it has no
// goroutines, does no IO and never reads the clock. The JobManager's loop
// drives it:
//
//  1. Add a TaskManager when it registers and Remove it when it leaves or its
//     connection drops (a dropped connection is a loss at once; the tracker
//     only catches the silent cases: SIGSTOP, partitions, long GC pauses).
//  2. Call Received whenever a heartbeat response arrives from it.
//  3. Call Tick with the current time, regularly (at least every interval).
//  4. When HasReady reports true, take Ready: send a heartbeat request to every
//     id in Send, and treat every id in Lost as a lost TaskManager (it has
//     already been removed from the tracker). Then call Advance.
//
// Heartbeat requests are due every interval after the TaskManager was added;
// a TaskManager that has not answered for longer than timeout is lost. Missed
// intervals are not caught up in a burst: after a late Tick, the next request
// is due one interval later.
package heartbeat
