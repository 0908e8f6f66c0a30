package task

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/rpc"
)

type upload struct {
	path string
	data []byte
}

// checkpoint takes checkpoint id's snapshot of the chain, forwards the
// barrier, and uploads keyed state in the background; the acknowledgement
// follows the upload. Only the synchronous part (copying state into
// buffers, sinks' pre-commit) stalls the records.
func (t *Task) checkpoint(ctx context.Context, id uint64) error {
	// One upload in flight at a time keeps memory bounded by one snapshot.
	t.upload.Wait()
	snaps := make([]checkpoint.OperatorSnapshot, 0, len(t.chain))
	var ups []upload
	for i, l := range t.chain {
		list, err := l.hooks.Snapshot(id)
		if err != nil {
			return &Failure{Domain: rpc.DomainExternal, Err: fmt.Errorf("%s: snapshot for checkpoint %d: %w", l.op.ID, id, err)}
		}
		s := checkpoint.OperatorSnapshot{OperatorID: l.op.ID, Subtask: t.cfg.Subtask, List: list}
		if i == 0 && t.source != nil {
			s.SourcePosition = t.source.Position()
		}
		if l.backend != nil {
			// The previous snapshot's buffer is free again (its upload has
			// finished, see above); reusing it spares touching fresh memory,
			// which costs more than the copy itself for large state.
			buf := bytes.NewBuffer(l.snapBuf[:0])
			offsets, crcs, err := l.backend.Snapshot(buf)
			if err != nil {
				return &Failure{Domain: rpc.DomainInternal, Err: fmt.Errorf("%s: snapshot keyed state for checkpoint %d: %w", l.op.ID, id, err)}
			}
			path := fmt.Sprintf("%s%s-%d-a%d", t.cfg.StateDir(id), l.op.ID, t.cfg.Subtask, t.cfg.Attempt)
			s.Keyed = &checkpoint.KeyedHandle{Path: path, Range: l.backend.Range(), Offsets: offsets, CRCs: crcs}
			s.Keyed.Watermark, s.Keyed.Watermarks = l.ctx.floors.snapshot(l.backend.Range(), t.wm.current)
			l.snapBuf = buf.Bytes()
			ups = append(ups, upload{path: path, data: l.snapBuf})
		}
		snaps = append(snaps, s)
	}
	var keyed int64
	for _, u := range ups {
		keyed += int64(len(u.data))
	}
	t.stateBytes.Store(keyed)
	payload := binary.BigEndian.AppendUint64(nil, id)
	for _, w := range t.writers {
		if err := w.event(kindBarrier, payload); err != nil {
			return fmt.Errorf("forward barrier %d: %w", id, err)
		}
	}
	t.lastCP = id
	t.dirty = false
	t.upload.Add(1)
	go func() {
		defer t.upload.Done()
		for _, u := range ups {
			if err := t.cfg.Storage.Write(ctx, u.path, u.data); err != nil {
				t.decline(id, fmt.Sprintf("write %s: %v", u.path, err))
				return
			}
		}
		t.cfg.Report.Ack(t.cfg.Attempt, t.key, checkpoint.ID(id), snaps)
	}()
	return nil
}

// decline reports that the subtask cannot complete checkpoint id. It is
// safe for concurrent use.
func (t *Task) decline(id uint64, reason string) {
	t.log.Warn("declining checkpoint", "checkpoint", id, "reason", reason)
	t.cfg.Report.Decline(t.cfg.Attempt, t.key, checkpoint.ID(id), reason)
}
