package filesink

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// Config configures a Writer.
type Config struct {
	// Dir is the output directory. Committed parts appear directly in it;
	// in-progress and pending parts live in Dir/.inprogress. Both are created
	// if missing. Required.
	Dir string
	// Subtask is the index of the sink subtask that owns the Writer. Must be
	// ≥ 0.
	Subtask int
	// Attempt is the attempt number of the job deployment. It makes part
	// names unique across restarts.
	Attempt uint64
	// MaxPartBytes, if > 0, rolls the in-progress part once it holds at least
	// this many bytes; the rolled part joins the pending parts of the next
	// checkpoint. 0 (the default) rolls only on checkpoints.
	MaxPartBytes int64
	// Logger receives commit and recovery events. nil discards them.
	Logger *slog.Logger
}

// Validate reports every problem with c at once.
func (c *Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("file sink: Dir is empty"))
	}
	if c.Subtask < 0 {
		errs = append(errs, fmt.Errorf("file sink: Subtask %d is negative", c.Subtask))
	}
	if c.MaxPartBytes < 0 {
		errs = append(errs, fmt.Errorf("file sink: MaxPartBytes %d is negative", c.MaxPartBytes))
	}
	return errors.Join(errs...)
}

// writeBufferSize is the size of the buffer in front of a part file.
const writeBufferSize = 64 << 10

// maxNameTries bounds how many sequence numbers a Writer skips when names
// already exist (a reused attempt number) before giving up.
const maxNameTries = 1 << 16

// Writer is one sink subtask's side of the two-phase commit. See the package
// documentation for the protocol. It is not safe for concurrent use.
type Writer struct {
	cfg    Config
	tmpDir string
	log    *slog.Logger

	// nextSeq is the sequence number of the next part to open.
	nextSeq uint64
	// cur is the in-progress part, or nil when no record was written since
	// the last roll.
	cur *openPart
	// rolled are parts closed by MaxPartBytes that no checkpoint covers yet.
	rolled []string
	// pending are closed parts with their checkpoint ids, in creation order,
	// not yet committed.
	pending []Pending
	// lastPreCommit is the checkpoint id of the last successful PreCommit,
	// firstPreCommit of the first: a checkpoint of this attempt.
	lastPreCommit, firstPreCommit uint64
	// staleRemoved is set once this Writer (subtask 0's) removed the parts
	// of older attempts (see removeStale).
	staleRemoved bool
}

// openPart is an in-progress part file.
type openPart struct {
	name string
	f    *os.File
	bw   *bufio.Writer
	size int64
}

// NewWriter creates the output directories if needed, checks that they are
// writable and returns a Writer with no open part.
func NewWriter(cfg Config) (*Writer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tmpDir := filepath.Join(cfg.Dir, inProgressDir)
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return nil, fmt.Errorf("file sink: create output directory %s: %w", tmpDir, err)
	}
	for _, d := range []string{cfg.Dir, tmpDir} {
		f, err := os.CreateTemp(d, ".probe-*")
		if err != nil {
			return nil, fmt.Errorf("file sink: output directory %s is not writable: %w", d, err)
		}
		name := f.Name()
		err = errors.Join(f.Close(), os.Remove(name))
		if err != nil {
			return nil, fmt.Errorf("file sink: probe output directory %s: %w", d, err)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "filesink", "subtask", cfg.Subtask, "attempt", cfg.Attempt)
	return &Writer{cfg: cfg, tmpDir: tmpDir, log: log}, nil
}

// Write appends line and a newline to the in-progress part, opening one if
// there is none. The bytes are buffered; they are durable only after
// PreCommit.
func (w *Writer) Write(line []byte) error {
	if w.cur == nil {
		if err := w.openPart(); err != nil {
			return err
		}
	}
	p := w.cur
	if _, err := p.bw.Write(line); err != nil {
		return fmt.Errorf("file sink: write part %s: %w", p.name, err)
	}
	if err := p.bw.WriteByte('\n'); err != nil {
		return fmt.Errorf("file sink: write part %s: %w", p.name, err)
	}
	p.size += int64(len(line)) + 1
	if w.cfg.MaxPartBytes > 0 && p.size >= w.cfg.MaxPartBytes {
		if err := w.closePart(); err != nil {
			return err
		}
		w.rolled = append(w.rolled, p.name)
	}
	return nil
}

// openPart opens a new in-progress part with the first unused name.
func (w *Writer) openPart() error {
	for range maxNameTries {
		name := partName{attempt: w.cfg.Attempt, subtask: w.cfg.Subtask, seq: w.nextSeq}.String()
		w.nextSeq++
		committed := filepath.Join(w.cfg.Dir, name)
		if _, err := os.Lstat(committed); err == nil {
			w.log.Warn("part name already committed, skipping it; is the attempt number reused?", "part", name)
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("file sink: check part %s: %w", committed, err)
		}
		path := filepath.Join(w.tmpDir, name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			w.log.Warn("part name already pending, skipping it; is the attempt number reused?", "part", name)
			continue
		}
		if err != nil {
			return fmt.Errorf("file sink: open part %s: %w", path, err)
		}
		w.cur = &openPart{name: name, f: f, bw: bufio.NewWriterSize(f, writeBufferSize)}
		return nil
	}
	return fmt.Errorf("file sink: no free part name for subtask %d attempt %d after %d tries in %s",
		w.cfg.Subtask, w.cfg.Attempt, maxNameTries, w.cfg.Dir)
}

// closePart flushes, fsyncs and closes the in-progress part. On error the
// part stays current so that Abort deletes it.
func (w *Writer) closePart() error {
	p := w.cur
	if err := p.bw.Flush(); err != nil {
		return fmt.Errorf("file sink: flush part %s: %w", p.name, err)
	}
	if err := p.f.Sync(); err != nil {
		return fmt.Errorf("file sink: fsync part %s: %w", p.name, err)
	}
	if err := p.f.Close(); err != nil {
		return fmt.Errorf("file sink: close part %s: %w", p.name, err)
	}
	w.cur = nil
	return nil
}

// PreCommit closes the in-progress part (if any record was written since the
// last checkpoint) and makes it, and any part rolled since, pending for
// checkpoint. It returns this subtask's transaction state: the encoding of
// all its pending parts, to be stored as its entry of the sink's operator
// list state in that checkpoint. Checkpoint ids must increase.
func (w *Writer) PreCommit(checkpoint uint64) ([]byte, error) {
	if checkpoint <= w.lastPreCommit {
		return nil, fmt.Errorf("file sink: pre-commit checkpoint %d: not after checkpoint %d", checkpoint, w.lastPreCommit)
	}
	if w.cur != nil {
		name := w.cur.name
		if err := w.closePart(); err != nil {
			return nil, fmt.Errorf("pre-commit checkpoint %d: %w", checkpoint, err)
		}
		w.rolled = append(w.rolled, name)
	}
	if len(w.rolled) > 0 {
		// The new names must be durable in .inprogress before the checkpoint
		// that lists them can complete.
		if err := syncDir(w.tmpDir); err != nil {
			return nil, fmt.Errorf("pre-commit checkpoint %d: %w", checkpoint, err)
		}
		for _, name := range w.rolled {
			w.pending = append(w.pending, Pending{Name: name, Checkpoint: checkpoint})
			w.log.Debug("part pending", "part", name, "checkpoint", checkpoint)
		}
		w.rolled = w.rolled[:0]
	}
	w.lastPreCommit = checkpoint
	if w.firstPreCommit == 0 {
		w.firstPreCommit = checkpoint
	}
	return encodeState(w.pending), nil
}

// Pending returns a copy of the parts that wait for a checkpoint to complete.
func (w *Writer) Pending() []Pending {
	return append([]Pending(nil), w.pending...)
}

// Commit makes every pending part of a checkpoint ≤ checkpoint visible by
// renaming it into the output directory, then fsyncs the directory. A part
// already committed is fine, so Commit is idempotent. On error the parts not
// yet committed stay pending and a later Commit retries them.
//
// The first Commit of subtask 0 for a checkpoint this Writer pre-committed
// also deletes the parts of older attempts left in .inprogress (see the
// package doc, "Stale files"); failing to delete them is logged, not
// returned, and retried on the next Commit.
func (w *Writer) Commit(checkpoint uint64) error {
	var errs []error
	kept := w.pending[:0]
	committed := 0
	for _, p := range w.pending {
		if p.Checkpoint > checkpoint {
			kept = append(kept, p)
			continue
		}
		if _, err := commitPart(w.cfg.Dir, p.Name); err != nil {
			errs = append(errs, fmt.Errorf("commit checkpoint %d: %w", checkpoint, err))
			kept = append(kept, p)
			continue
		}
		committed++
		w.log.Debug("part committed", "part", p.Name, "checkpoint", p.Checkpoint)
	}
	clear(w.pending[len(kept):])
	w.pending = kept
	if committed > 0 {
		if err := syncDirs(w.cfg.Dir); err != nil {
			errs = append(errs, fmt.Errorf("commit checkpoint %d: %w", checkpoint, err))
		}
	}
	w.maybeRemoveStale(checkpoint)
	return errors.Join(errs...)
}

// maybeRemoveStale removes the parts of older attempts once checkpoint, a
// checkpoint of this attempt, has completed; subtask 0 does it for all
// subtasks, once.
func (w *Writer) maybeRemoveStale(checkpoint uint64) {
	if w.cfg.Subtask != 0 || w.staleRemoved || w.firstPreCommit == 0 || checkpoint < w.firstPreCommit {
		return
	}
	n, err := removeParts(w.cfg.Dir, func(p partName) bool { return p.attempt < w.cfg.Attempt })
	if err != nil {
		w.log.Warn("removing stale parts of older attempts failed; retrying on the next commit", "removed", n, "err", err)
		return
	}
	w.staleRemoved = true
	if n > 0 {
		w.log.Info("removed stale parts of older attempts", "parts", n, "checkpoint", checkpoint)
	}
}

// Abort closes and deletes the in-progress part and the parts rolled since
// the last checkpoint: no checkpoint names them, so they can never be
// committed. Pending parts stay, since a restore may still commit them. The
// Writer may be used again afterwards.
func (w *Writer) Abort() error {
	var errs []error
	if p := w.cur; p != nil {
		w.cur = nil
		w.rolled = append(w.rolled, p.name)
		if err := p.f.Close(); err != nil && !errors.Is(err, fs.ErrClosed) {
			errs = append(errs, fmt.Errorf("file sink: abort: close part %s: %w", p.name, err))
		}
	}
	for _, name := range w.rolled {
		path := filepath.Join(w.tmpDir, name)
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("file sink: abort: remove part %s: %w", path, err))
		}
	}
	w.rolled = w.rolled[:0]
	return errors.Join(errs...)
}
