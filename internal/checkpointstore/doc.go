// Package checkpointstore lays checkpoints out in blob storage and finds
// them again. It is the IO side of internal/checkpoint: the coordinator
// decides, the JobManager's blob worker calls this package.
//
// Layout, relative to state.checkpoints.dir:
//
//	<job-id>/chk-<n>/            state objects the tasks write (Store.Dir)
//	<job-id>/chk-<n>/_metadata   the metadata, written last (Store.WriteMetadata)
//	<job-id>/_job                the job record (Record): runs, leased attempts, result
//
// A chk-<n> directory is a checkpoint only if its _metadata decodes and
// verifies (checkpoint.Decode). Latest skips torn checkpoints (state but no
// metadata: the JobManager died before writing it) and corrupt ones, and
// logs each skip; it does not skip a checkpoint it could not read because
// of an IO error, since restoring an older checkpoint than the newest
// complete one makes exactly-once sinks emit twice.
//
// Scan tells the JobManager which checkpoint directories exist and which
// may have completed; Verify checks that the state a checkpoint names is
// there before it is restored. docs/recovery.md says how the JobManager
// uses them.
//
// Discard deletes the metadata first, so that a discard interrupted half
// way leaves a torn checkpoint, never one that verifies with missing state.
package checkpointstore
