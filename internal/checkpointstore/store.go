package checkpointstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/tide-stream/tide/internal/blob"
	"github.com/tide-stream/tide/internal/checkpoint"
)

// MetadataName is the name of the metadata object in a checkpoint
// directory.
const MetadataName = "_metadata"

const chkPrefix = "chk-"

// Store reads and writes the checkpoints of one job. It holds no mutable
// state and is safe for concurrent use if its Storage is.
type Store struct {
	s      blob.Storage
	jobID  string
	logger *slog.Logger
}

// New returns the store of job jobID in s. A nil logger discards logs.
func New(s blob.Storage, jobID string, logger *slog.Logger) *Store {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Store{s: s, jobID: jobID, logger: logger.With(slog.String("component", "checkpointstore"), slog.String("job", jobID))}
}

// Dir returns the directory "<jobID>/chk-<id>/" under which the tasks
// write the state objects of checkpoint id.
func (s *Store) Dir(id checkpoint.ID) string { return checkpoint.StateDir(s.jobID, id) }

// MetadataPath returns "<jobID>/chk-<id>/_metadata".
func (s *Store) MetadataPath(id checkpoint.ID) string { return s.Dir(id) + MetadataName }

// WriteMetadata encodes m and writes it to MetadataPath(m.CheckpointID),
// which it returns. Call it last, once every state object m names is
// written: the checkpoint exists from this write on.
func (s *Store) WriteMetadata(ctx context.Context, m *checkpoint.Metadata) (string, error) {
	if m == nil {
		return "", errors.New("write checkpoint metadata: nil metadata")
	}
	if m.JobID != s.jobID {
		return "", fmt.Errorf("write metadata of checkpoint %d: job %q in the store of job %q", m.CheckpointID, m.JobID, s.jobID)
	}
	b, err := checkpoint.Encode(m)
	if err != nil {
		return "", fmt.Errorf("write metadata of checkpoint %d: %w", m.CheckpointID, err)
	}
	path := s.MetadataPath(m.CheckpointID)
	// Never over another's metadata: a JobManager that was replaced may
	// still number a checkpoint as the one that replaced it does.
	if err := s.s.WriteNew(ctx, path, b); err != nil {
		return "", fmt.Errorf("write metadata of checkpoint %d: %w", m.CheckpointID, err)
	}
	return path, nil
}

// Load reads and verifies the metadata at path, which is either a
// metadata object or a checkpoint directory ("<job>/chk-<n>" with or
// without the trailing slash). It may name a checkpoint of another job, as
// when restoring from a savepoint.
func (s *Store) Load(ctx context.Context, path string) (*checkpoint.Metadata, error) {
	key := path
	if !strings.HasSuffix(key, "/"+MetadataName) && key != MetadataName {
		key = strings.TrimSuffix(key, "/") + "/" + MetadataName
	}
	b, err := s.s.Read(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint %q: %w", path, err)
	}
	m, err := checkpoint.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint %q: %w", key, err)
	}
	if id, ok := dirID(strings.TrimSuffix(key, MetadataName)); ok && id != m.CheckpointID {
		return nil, fmt.Errorf("load checkpoint %q: metadata of checkpoint %d in the directory of checkpoint %d", key, m.CheckpointID, id)
	}
	return m, nil
}

// dirID parses the id of a directory "…/chk-<n>/".
func dirID(dir string) (checkpoint.ID, bool) {
	dir = strings.TrimSuffix(dir, "/")
	name := dir[strings.LastIndex(dir, "/")+1:]
	n, ok := strings.CutPrefix(name, chkPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(n, 10, 64)
	if err != nil || id == 0 {
		return 0, false
	}
	return checkpoint.ID(id), true
}

// candidate is a checkpoint directory found by listing.
type candidate struct {
	id          checkpoint.ID
	hasMetadata bool
	objects     int
}

// Latest returns the newest checkpoint of the job whose metadata decodes,
// with its metadata path; (nil, "", nil) if there is none. Every newer
// checkpoint it skips is logged at Warn with the reason: torn (no
// metadata) or corrupt (the metadata does not verify).
//
// It is for tools and tests: a JobManager resumes from the checkpoint its
// job record names, never from "the newest that reads", which may be older
// than what the sinks have committed (docs/recovery.md).
func (s *Store) Latest(ctx context.Context) (*checkpoint.Metadata, string, error) {
	cands, err := s.list(ctx)
	if err != nil {
		return nil, "", err
	}
	for _, c := range cands {
		log := s.logger.With(slog.Uint64("checkpoint", uint64(c.id)), slog.String("dir", s.Dir(c.id)))
		if !c.hasMetadata {
			log.Warn("skipping torn checkpoint: state objects without metadata", slog.Int("objects", c.objects))
			continue
		}
		path := s.MetadataPath(c.id)
		b, err := s.s.Read(ctx, path)
		if errors.Is(err, blob.ErrNotFound) {
			log.Warn("skipping checkpoint: metadata vanished (discarded concurrently?)")
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("find latest checkpoint of job %q: %w", s.jobID, err)
		}
		m, err := checkpoint.Decode(b)
		if err == nil && (m.CheckpointID != c.id || m.JobID != s.jobID) {
			err = fmt.Errorf("metadata of job %q checkpoint %d in this directory", m.JobID, m.CheckpointID)
		}
		if err != nil {
			reason := "invalid"
			if errors.Is(err, checkpoint.ErrCorrupt) {
				reason = "corrupt"
			}
			log.Warn("skipping "+reason+" checkpoint", slog.String("path", path), slog.Any("err", err))
			continue
		}
		return m, path, nil
	}
	return nil, "", nil
}

// list returns the job's checkpoint directories, newest first.
func (s *Store) list(ctx context.Context) ([]candidate, error) {
	prefix := s.jobID + "/" + chkPrefix
	keys, err := s.s.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list checkpoints of job %q: %w", s.jobID, err)
	}
	byID := map[checkpoint.ID]*candidate{}
	for _, k := range keys {
		dir, name, ok := strings.Cut(strings.TrimPrefix(k, s.jobID+"/"), "/")
		if !ok {
			continue
		}
		id, ok := dirID(dir)
		if !ok {
			s.logger.Debug("ignoring object outside a checkpoint directory", slog.String("key", k))
			continue
		}
		c := byID[id]
		if c == nil {
			c = &candidate{id: id}
			byID[id] = c
		}
		c.objects++
		if name == MetadataName {
			c.hasMetadata = true
		}
	}
	cands := make([]candidate, 0, len(byID))
	for _, c := range byID {
		cands = append(cands, *c)
	}
	slices.SortFunc(cands, func(a, b candidate) int { return cmp.Compare(b.id, a.id) })
	return cands, nil
}

// Discard deletes checkpoint id: its metadata first, then every object
// under its directory, then (on storage with real directories, file://) the
// directory itself once it is empty. Deleting a checkpoint that does not
// exist succeeds.
func (s *Store) Discard(ctx context.Context, id checkpoint.ID) error {
	meta := s.MetadataPath(id)
	if err := s.s.Delete(ctx, meta); err != nil {
		return fmt.Errorf("discard checkpoint %d: %w", id, err)
	}
	keys, err := s.s.List(ctx, s.Dir(id))
	if err != nil {
		return fmt.Errorf("discard checkpoint %d: %w", id, err)
	}
	var errs []error
	for _, k := range keys {
		if err := s.s.Delete(ctx, k); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("discard checkpoint %d: %d of %d objects not deleted: %w", id, len(errs), len(keys), errors.Join(errs...))
	}
	// fileblob leaves the emptied directories behind; one per checkpoint
	// would pile up in a long-running job.
	if err := blob.RemoveEmptyDirs(ctx, s.s, s.Dir(id)); err != nil {
		return fmt.Errorf("discard checkpoint %d: %w", id, err)
	}
	s.logger.Debug("discarded checkpoint", slog.Uint64("checkpoint", uint64(id)), slog.Int("state_objects", len(keys)))
	return nil
}
