// Package checkpoint holds the pure core of Tide's checkpointing: the
// metadata format, the redistribution of snapshotted state to a new
// parallelism, and the checkpoint coordinator. It does no IO, reads no clock
// and starts no goroutines; internal/checkpointstore does the blob IO and
// the JobManager's loop goroutine drives the coordinator.
//
// # Metadata
//
// A checkpoint is a set of state objects written by the tasks under
// "<job>/chk-<id>/" plus one metadata object, written last, that names them
// (Metadata). Encode frames it as magic "TIDECKPT", a version byte, the
// payload length, the JSON payload and a CRC-32C of all that; Decode checks
// the frame (ErrCorrupt) and then the invariants (ErrInvalid). Because the
// metadata is written last and verifies, a torn checkpoint is never
// restored.
//
// Keyed state is stored per key group: each subtask's snapshot is one
// object with the byte offsets and CRC of every key group in its range
// (KeyedHandle). AssignKeyed tells a subtask of any parallelism which byte
// ranges to read; AssignList splits operator list state evenly.
//
// # The protocol
//
// One checkpoint is in flight at a time. Its life:
//
//	idle
//	 │ Tick finds the interval due, or TriggerRequest
//	 │   → Ready.Triggers: the shell sends them to the sources,
//	 │     which inject barriers; every task snapshots and acks
//	 ▼
//	collecting acks ── Decline, Tick past Timeout, AttemptStopped,
//	 │                 a newer AttemptStarted, an invalid Ack
//	 │                   → Ready.Failed; back to idle
//	 │ Ack from every task of the attempt
//	 │   → Ready.Persist: the shell writes the metadata last
//	 ▼
//	persisting ─────── Persisted{Err} → Ready.Failed; back to idle
//	 │ Persisted{Path}
//	 │   → Ready.Completed: the shell notifies tasks, sinks commit
//	 │   → Ready.Discard: checkpoints beyond NumRetained
//	 ▼
//	idle (a queued request starts at once)
//
// A request that arrives while a checkpoint is in flight is queued (one at
// most; periodic requests merge into it, and a request while another
// TriggerRequest is queued is rejected at once through Ready.Failed) and
// starts when the in-flight one ends. A checkpoint whose acknowledgements
// are all in survives the end of its attempt: its metadata is
// self-contained, so it completes when persisted.
//
// # Driving the Coordinator
//
// Its owner (the JobManager loop, one goroutine) must:
//
//  1. Step AttemptStarted when the tasks of an attempt run, and
//     AttemptStopped when they stop; before that, Restored if the attempt
//     restored a checkpoint.
//  2. Step every Ack and Decline a task sends, and TriggerRequests for
//     savepoints, planned rescales and the final checkpoint of a bounded
//     job.
//  3. Call Tick regularly (every 100 ms or so) with the current time. Time
//     enters only through Tick, so it is also the resolution of the
//     durations in Stats.
//  4. After each input, while HasReady: take Ready, do its work in the
//     order its fields document, then Advance. Blob IO may go to a worker
//     goroutine: hand it Persist and step Persisted when it reports; notify
//     tasks of Completed; delete Discard only after that.
//  5. Log the errors Step returns; they mean a bug or a confused peer, and
//     the coordinator has already ignored the input.
package checkpoint
