package checkpointstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
)

// RecordDir is the directory of the job record's versions:
// "<job-id>/_job/<epoch>-<seq>", both 16 hex digits, so that names sort as
// the versions do.
const RecordDir = "_job/"

// Record is what the JobManagers of one job keep about it between the runs
// of their processes, next to its checkpoints: which run of the job is
// current, where its checkpoints start, which attempt numbers are used up,
// and how the run ended. It is what lets a JobManager that died and is
// started again resume the job instead of starting it over, with nothing
// but state.checkpoints.dir (Flink needs ZooKeeper or Kubernetes for this).
type Record struct {
	JobName        string   `json:"job_name"`
	JobArgs        []string `json:"job_args"`
	MaxParallelism int      `json:"max_parallelism"`
	// Run counts the job's runs from 1: a JobManager that starts the job
	// fresh begins a new run, one that recovers it continues the run.
	Run int `json:"run"`
	// Epoch counts the JobManagers that have taken charge of the job. A
	// JobManager checks it before every write: one that finds a higher
	// epoch than its own has been replaced, and stops.
	Epoch uint64 `json:"epoch"`
	// StartedFrom is the savepoint the run started from; empty for none.
	StartedFrom string `json:"started_from,omitempty"`
	// Owner names the JobManager process that wrote this version (its
	// incarnation): two that claimed the same epoch tell each other apart.
	Owner string `json:"owner,omitempty"`
	// Seq numbers the versions written under one epoch.
	Seq uint64 `json:"seq"`
	// Completed is the run's newest completed checkpoint, written before
	// the sinks are told to commit it: the run must resume from it, never
	// from an older one, whose output the sinks may have committed since.
	Completed checkpoint.ID `json:"completed,omitempty"`
	// FirstCheckpoint is the id of the current run's first checkpoint.
	// Checkpoints below it belong to earlier runs: the run never restores
	// them by itself (a savepoint path may name one explicitly).
	FirstCheckpoint checkpoint.ID `json:"first_checkpoint"`
	// AttemptsBelow bounds every attempt number a JobManager of the job has
	// deployed or may deploy: a JobManager leases attempt numbers by moving
	// it up before it uses them, so that the next one never reuses a number
	// that the data plane, the TaskManagers' fences and the sinks' part
	// names have seen.
	AttemptsBelow exec.Attempt `json:"attempts_below"`
	// Result is how the run ended: FINISHED, CANCELED or FAILED; empty while
	// it has not ended (a JobManager that stops or dies does not end it).
	Result string `json:"result,omitempty"`
	// Reason says why the run ended, for the next JobManager's log.
	Reason string `json:"reason,omitempty"`
	// UpdatedUnixMilli is when the record was written.
	UpdatedUnixMilli int64 `json:"updated_unix_milli"`
}

// ErrRecordInvalid is wrapped by DecodeRecord for bytes that are not a job
// record.
var ErrRecordInvalid = errors.New("checkpointstore: invalid job record")

// EncodeRecord encodes r.
func EncodeRecord(r *Record) ([]byte, error) {
	return json.MarshalIndent(r, "", "  ")
}

// DecodeRecord decodes and checks a job record.
func DecodeRecord(b []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRecordInvalid, err)
	}
	switch {
	case r.JobName == "":
		return nil, fmt.Errorf("%w: no job name", ErrRecordInvalid)
	case r.Run < 1:
		return nil, fmt.Errorf("%w: run %d", ErrRecordInvalid, r.Run)
	case r.FirstCheckpoint < 1:
		return nil, fmt.Errorf("%w: first checkpoint %d", ErrRecordInvalid, r.FirstCheckpoint)
	}
	switch r.Result {
	case "", "FINISHED", "CANCELED", "FAILED":
	default:
		return nil, fmt.Errorf("%w: result %q", ErrRecordInvalid, r.Result)
	}
	return &r, nil
}

// RecordPath returns the directory of the job record's versions.
func (s *Store) RecordPath() string { return s.jobID + "/" + RecordDir }

// recordKey is the object of one version of the record.
func (s *Store) recordKey(r *Record) string {
	return fmt.Sprintf("%s%016x-%016x", s.RecordPath(), r.Epoch, r.Seq)
}

// ReadRecord reads the job record: its newest version, the one with the
// highest epoch and sequence number. (nil, nil) if the job has none, as
// before its first run.
//
// The record is written as a new object per version, never overwritten,
// because blob stores have no compare-and-swap: a JobManager that was
// replaced and writes late writes a version of its older epoch, which
// sorts below the newer JobManager's and is never read.
func (s *Store) ReadRecord(ctx context.Context) (*Record, error) {
	keys, err := s.s.List(ctx, s.RecordPath())
	if err != nil {
		return nil, fmt.Errorf("read the job record: %w", err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	key := keys[len(keys)-1]
	b, err := s.s.Read(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read the job record: %w", err)
	}
	r, err := DecodeRecord(b)
	if err != nil {
		return nil, fmt.Errorf("read the job record %s: %w", key, err)
	}
	if key != s.recordKey(r) {
		return nil, fmt.Errorf("read the job record %s: %w: it holds epoch %d version %d", key, ErrRecordInvalid, r.Epoch, r.Seq)
	}
	return r, nil
}

// WriteRecord writes a new version of the job record — never over an
// existing one: two JobManagers that write the same version, as when both
// claim the same epoch at once, find out (an error wrapping
// blob.ErrExists) — then deletes the versions below it but one (a crash
// between the two leaves more, never fewer).
func (s *Store) WriteRecord(ctx context.Context, r *Record) error {
	b, err := EncodeRecord(r)
	if err != nil {
		return fmt.Errorf("write the job record: %w", err)
	}
	key := s.recordKey(r)
	if err := s.s.WriteNew(ctx, key, b); err != nil {
		return fmt.Errorf("write the job record: %w", err)
	}
	keys, err := s.s.List(ctx, s.RecordPath())
	if err != nil {
		return nil // old versions stay; the next write removes them
	}
	i, _ := slices.BinarySearch(keys, key)
	for _, old := range keys[:max(0, i-1)] {
		_ = s.s.Delete(ctx, old) // best effort: old versions are never read
	}
	return nil
}

// Scan summarizes the job's checkpoint directories: newest is the highest
// id of any (torn ones too: a new checkpoint must not reuse its directory),
// completed the highest id of one whose metadata exists — a checkpoint that
// may have completed and been committed by the sinks, whether or not its
// metadata still verifies. Both are 0 when there is none.
func (s *Store) Scan(ctx context.Context) (newest, completed checkpoint.ID, err error) {
	cands, err := s.list(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, c := range cands {
		newest = max(newest, c.id)
		if c.hasMetadata {
			completed = max(completed, c.id)
		}
	}
	return newest, completed, nil
}

// ErrStateMissing is wrapped by Verify's error when a state object a
// checkpoint names does not exist.
var ErrStateMissing = errors.New("checkpointstore: state object missing")

// Inventory lists the job's checkpoint directories, oldest first: those
// with metadata (completed, or a savepoint) and the torn ones without.
func (s *Store) Inventory(ctx context.Context) (withMetadata, torn []checkpoint.ID, err error) {
	cands, err := s.list(ctx)
	if err != nil {
		return nil, nil, err
	}
	for i := len(cands) - 1; i >= 0; i-- {
		if cands[i].hasMetadata {
			withMetadata = append(withMetadata, cands[i].id)
		} else {
			torn = append(torn, cands[i].id)
		}
	}
	return withMetadata, torn, nil
}

// Verify checks that every state object m names exists, so that a restore
// does not find out half way. A missing object makes m unrestorable: the
// error wraps ErrStateMissing and names it. A listing that fails is an
// IO error, worth retrying.
func (s *Store) Verify(ctx context.Context, m *checkpoint.Metadata) error {
	listed := map[string][]string{}
	var missing []string
	for _, op := range m.Operators {
		for _, h := range op.Keyed {
			dir := path.Dir(h.Path) + "/"
			keys, ok := listed[dir]
			if !ok {
				var err error
				if keys, err = s.s.List(ctx, dir); err != nil {
					return fmt.Errorf("verify checkpoint %d: %w", m.CheckpointID, err)
				}
				listed[dir] = keys
			}
			if _, found := slices.BinarySearch(keys, h.Path); !found {
				missing = append(missing, h.Path)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("checkpoint %d: %d state object(s) missing, first %s: %w", m.CheckpointID, len(missing), missing[0], ErrStateMissing)
	}
	return nil
}
