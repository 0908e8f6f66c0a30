// Package filesink is the transactional core of Tide's exactly-once file
// sink: one Writer per sink subtask, committing its output in two phases tied
// to checkpoints. It knows nothing of the runtime; the sink operator drives
// it from its subtask goroutine.
//
// # Layout
//
// Under the output directory DIR:
//
//	DIR/part-<attempt>-<subtask>-<seq>              committed: visible, immutable
//	DIR/.inprogress/part-<attempt>-<subtask>-<seq>  in progress or pending: hidden
//
// Readers skip names starting with a dot, so nothing under DIR/.inprogress is
// ever read as output. A part becomes visible only through an atomic rename
// from DIR/.inprogress into DIR, which is the commit.
//
// Names are unique across subtasks and attempts because they carry both, and
// the runtime gives every deployment of the job a new attempt number. As a
// second line of defence, a Writer never opens a part whose name already
// exists, pending or committed: it skips to the next sequence number and logs
// a warning, so a reused attempt number cannot overwrite output.
//
// # Protocol
//
// The caller (the sink operator, on its subtask goroutine) has these duties:
//
//  1. On start, if the subtask was restored, call RecoverAndCommit with its
//     share of the sink's operator list state BEFORE writing any record.
//     Every part named there belongs to a checkpoint that completed (it was
//     restored from), so it is committed now if the previous attempt did not
//     get to it. Then create the Writer with NewWriter.
//  2. For every record, call Write. The first record after a checkpoint opens
//     a new in-progress part lazily.
//  3. When the checkpoint barrier for checkpoint n reaches the sink, call
//     PreCommit(n) and store the returned bytes as this subtask's entry of
//     the sink's operator list state in checkpoint n. PreCommit fsyncs and
//     closes the current part, which is now pending for n. The returned state
//     lists ALL parts still pending, including those of earlier checkpoints
//     whose completion has not been notified (or that failed): every record
//     before barrier n belongs to checkpoint n.
//  4. When the JobManager notifies that checkpoint n completed (for this
//     attempt only: notifications of older attempts are dropped before they
//     reach the sink), call Commit(n). It renames every pending part of a
//     checkpoint ≤ n into DIR and fsyncs DIR. Commit is idempotent. Subtask
//     0's first Commit of a checkpoint it pre-committed also deletes the
//     stale parts of older attempts (see "Stale files").
//  5. When the subtask is cancelled or fails, call Abort. It deletes the
//     in-progress part; pending parts stay, since a restore may still commit
//     them.
//
// # Why exactly once
//
// A record is visible only if it lies in a part named by the state of a
// completed checkpoint, and every such part is committed: by Commit when the
// notification arrives, or by RecoverAndCommit on the next restore if the
// attempt died first (the notification can be lost, the checkpoint cannot).
// A restore from checkpoint n replays the input after n, so records in parts
// that were pending for a later checkpoint that never completed are written
// again by the new attempt. Those old parts are never committed:
//
//   - they are not in the restored state, because that state was written at
//     barrier n, before those parts existed, and RecoverAndCommit commits
//     only what the restored state names;
//   - the new attempt's Writers only ever commit parts they created
//     themselves, whose names carry the new attempt number;
//   - the old attempt cannot commit them either: commit notifications carry
//     the attempt, and the JobManager and TaskManagers drop those of an older
//     attempt, so a fenced TaskManager that comes back never commits.
//
// Committing is idempotent (a part already in DIR is fine), so a crash during
// Commit or RecoverAndCommit is repaired by running it again.
//
// Restoring from a checkpoint older than the latest one whose parts were
// committed (an old savepoint, say) makes the output of the checkpoints in
// between visible twice. That is inherent to restoring an old snapshot with
// an external side effect, as in Flink.
//
// # Stale files
//
// Parts of failed attempts that were never in a completed checkpoint stay in
// DIR/.inprogress: hidden, harmless, but taking disk space. They are the
// parts that were in progress or pending for a checkpoint that never
// completed when the attempt died (Abort deletes a subtask's in-progress
// part, but a killed process runs no Abort).
//
// While a job restores, a part of an older attempt may still be needed:
// another subtask's restored state may name it and that subtask may not have
// run RecoverAndCommit yet (at a lower parallelism one subtask restores the
// lists of several old ones). Once a checkpoint of the current attempt has
// completed, none is needed any more:
//
//   - every sink subtask of the attempt acknowledged that checkpoint, so each
//     ran RecoverAndCommit first (a failed one fails its subtask, which then
//     acknowledges nothing): every part the restored state names is now
//     committed, out of DIR/.inprogress;
//   - the parts named by earlier completed checkpoints were committed too,
//     by their own attempt's Commit, or else named again by every later
//     checkpoint of that attempt (PreCommit lists all pending parts) and
//     so committed by the restore that followed;
//   - the current attempt's checkpoints name only parts its Writers created,
//     with the current attempt number, so no future restore commits an
//     older attempt's part.
//
// So the first Commit of subtask 0 for a checkpoint its Writer pre-committed
// deletes every part in DIR/.inprogress whose attempt is older than its own:
// one subtask, because all share the directory, and only older attempts,
// because the current attempt's parts belong to running Writers (and a newer
// attempt's to a successor, should this one be a stale survivor). A Commit of
// an older checkpoint (one this Writer did not pre-commit) proves nothing and
// deletes nothing. The one thing this gives up: restoring, after that, from
// a completed checkpoint newer than the one the current attempt restored (a
// branch the job left, say by an explicit older savepoint) fails in
// RecoverAndCommit with a part that is "neither pending nor committed"
// instead of committing it. The directory must belong to one sink of one job:
// another job's older attempt numbers look the same.
//
// CleanStale deletes stale parts given the parts that must be kept; it is
// meant for an operator or tool running while the job is stopped.
//
// A Writer is not safe for concurrent use: it belongs to its subtask's
// goroutine, like the operator that owns it.
package filesink
