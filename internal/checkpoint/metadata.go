package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/keygroup"
)

// ID numbers the checkpoints of a job, from 1, increasing; ids continue
// across attempts and restores.
type ID uint64

// Metadata describes one completed checkpoint or savepoint: where the
// state of every operator lives. It is written last, after every state
// object it names, so a checkpoint exists only once its metadata does and
// verifies.
type Metadata struct {
	JobID              string       `json:"job_id"`
	CheckpointID       ID           `json:"checkpoint_id"`
	Attempt            exec.Attempt `json:"attempt"`
	Savepoint          bool         `json:"savepoint,omitempty"`
	TimestampUnixMilli int64        `json:"timestamp_unix_milli"`
	// MaxParallelism is the number of key groups of the job.
	MaxParallelism int `json:"max_parallelism"`
	// Operators are sorted by OperatorID, without duplicates.
	Operators []OperatorState `json:"operators"`
}

// OperatorState is the state of one operator over all its subtasks.
type OperatorState struct {
	OperatorID string `json:"operator_id"`
	// Parallelism is the operator's parallelism when it was snapshotted.
	Parallelism int `json:"parallelism"`
	// Keyed holds one handle per old subtask that had keyed state; their
	// ranges are disjoint.
	Keyed []KeyedHandle `json:"keyed,omitempty"`
	// List is the operator list state: the entries of all old subtasks,
	// concatenated in subtask order. AssignList splits it on restore.
	List [][]byte `json:"list,omitempty"`
	// SourcePosition is the sum of the records the operator's source
	// subtasks had emitted at the snapshot; 0 if it is not a source.
	SourcePosition int64 `json:"source_position,omitempty"`
}

// KeyedHandle names one blob object holding the keyed state of a range of
// key groups, with an index so that a restore reads only the key groups it
// needs.
type KeyedHandle struct {
	// Path is the blob key of the object, relative to the state root.
	Path string `json:"path"`
	// Range is the key groups in the object.
	Range keygroup.Range `json:"range"`
	// Offsets has Range.Len()+1 entries: key group kg's bytes are
	// [Offsets[kg-Start], Offsets[kg-Start+1]).
	Offsets []int64 `json:"offsets"`
	// CRCs holds the CRC-32C (Castagnoli) of each key group's bytes.
	CRCs []uint32 `json:"crcs"`
	// Watermark is the event-time watermark of the subtask that wrote the
	// object, when it had one: no record at or before it may change these
	// key groups' windows and timers again, whichever subtask owns them
	// after a restore.
	Watermark *int64 `json:"watermark,omitempty"`
	// Watermarks, when set, are each key group's own watermark (Range.Len()
	// entries; math.MinInt64 for none), written instead of Watermark when
	// the subtask's key groups came with different ones from a restore.
	Watermarks []int64 `json:"watermarks,omitempty"`
}

// KeyGroupBytes returns the byte range [off, end) of key group kg in the
// object, and false if kg is not in the handle.
func (h *KeyedHandle) KeyGroupBytes(kg keygroup.KeyGroup) (off, end int64, ok bool) {
	if !h.Range.Contains(kg) || len(h.Offsets) != h.Range.Len()+1 {
		return 0, 0, false
	}
	i := int(kg - h.Range.Start)
	return h.Offsets[i], h.Offsets[i+1], true
}

// Size is the number of bytes of key-group data the handle covers.
func (h *KeyedHandle) Size() int64 {
	if len(h.Offsets) == 0 {
		return 0
	}
	return h.Offsets[len(h.Offsets)-1] - h.Offsets[0]
}

// crcTable is the CRC-32C (Castagnoli) table used for key-group checksums
// and for the metadata checksum. It is never written after initialization.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C (Castagnoli) of b: the checksum
// KeyedHandle.CRCs holds for each key group's bytes.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, crcTable) }

// Errors wrapped by Decode, so that callers can tell a damaged file from a
// well-formed one that says something impossible.
var (
	// ErrCorrupt: the bytes are not an intact metadata file (bad magic,
	// length or checksum; a torn or damaged write).
	ErrCorrupt = errors.New("checkpoint: corrupt metadata")
	// ErrInvalid: the metadata is intact but breaks an invariant.
	ErrInvalid = errors.New("checkpoint: invalid metadata")
)

const (
	magic = "TIDECKPT"
	// Version is the metadata format version Encode writes.
	Version byte = 1
	// headerLen is magic, version byte and the 4-byte payload length.
	headerLen = len(magic) + 1 + 4
	crcLen    = 4
	// maxPayload bounds the payload so that a damaged length cannot make
	// Decode allocate without limit.
	maxPayload = 1 << 30
)

// Encode validates m and serializes it as: the magic "TIDECKPT", a version
// byte, the payload length (uint32, big endian), the payload (JSON), and a
// CRC-32C (big endian) of everything before it.
func Encode(m *Metadata) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("encode checkpoint metadata: %w: nil", ErrInvalid)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("encode checkpoint %d metadata: %w", m.CheckpointID, err)
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode checkpoint %d metadata: %w", m.CheckpointID, err)
	}
	if len(payload) > maxPayload {
		return nil, fmt.Errorf("encode checkpoint %d metadata: payload of %d bytes exceeds %d", m.CheckpointID, len(payload), maxPayload)
	}
	b := make([]byte, 0, headerLen+len(payload)+crcLen)
	b = append(b, magic...)
	b = append(b, Version)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	b = binary.BigEndian.AppendUint32(b, Checksum(b))
	return b, nil
}

// Decode parses and verifies metadata written by Encode: magic, version,
// length and checksum (failures wrap ErrCorrupt), then the invariants of
// Validate (failures wrap ErrInvalid).
func Decode(b []byte) (*Metadata, error) {
	if len(b) < headerLen+crcLen {
		return nil, fmt.Errorf("decode checkpoint metadata: %w: %d bytes, shorter than the %d-byte frame", ErrCorrupt, len(b), headerLen+crcLen)
	}
	if string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("decode checkpoint metadata: %w: bad magic %q", ErrCorrupt, b[:len(magic)])
	}
	if v := b[len(magic)]; v != Version {
		return nil, fmt.Errorf("decode checkpoint metadata: %w: unsupported version %d (want %d)", ErrCorrupt, v, Version)
	}
	n := binary.BigEndian.Uint32(b[len(magic)+1:])
	if want := uint64(headerLen) + uint64(n) + crcLen; uint64(len(b)) != want {
		return nil, fmt.Errorf("decode checkpoint metadata: %w: payload length %d says %d bytes in all, have %d (torn write?)", ErrCorrupt, n, want, len(b))
	}
	body := b[:len(b)-crcLen]
	if got, want := Checksum(body), binary.BigEndian.Uint32(b[len(body):]); got != want {
		return nil, fmt.Errorf("decode checkpoint metadata: %w: checksum mismatch: computed %08x, stored %08x", ErrCorrupt, got, want)
	}
	var m Metadata
	dec := json.NewDecoder(bytes.NewReader(body[headerLen:]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode checkpoint metadata: %w: payload: %v", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("decode checkpoint metadata: %w: trailing data after payload", ErrInvalid)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("decode checkpoint %d metadata: %w", m.CheckpointID, err)
	}
	return &m, nil
}

// Validate checks the invariants every metadata must hold; the error wraps
// ErrInvalid and names the first problem found.
func (m *Metadata) Validate() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	if m.JobID == "" {
		return fail("empty job id")
	}
	if m.CheckpointID == 0 {
		return fail("checkpoint id is 0")
	}
	if err := keygroup.Validate(m.MaxParallelism, 1); err != nil {
		return fail("%v", err)
	}
	for i := range m.Operators {
		op := &m.Operators[i]
		if op.OperatorID == "" {
			return fail("operator %d has an empty id", i)
		}
		if i > 0 && op.OperatorID <= m.Operators[i-1].OperatorID {
			if op.OperatorID == m.Operators[i-1].OperatorID {
				return fail("duplicate operator %q", op.OperatorID)
			}
			return fail("operators not sorted: %q after %q", op.OperatorID, m.Operators[i-1].OperatorID)
		}
		if err := op.validate(m.MaxParallelism); err != nil {
			return fail("operator %q: %v", op.OperatorID, err)
		}
	}
	return nil
}

func (op *OperatorState) validate(maxP int) error {
	if op.Parallelism < 1 || op.Parallelism > maxP {
		return fmt.Errorf("parallelism %d out of range [1, %d]", op.Parallelism, maxP)
	}
	if len(op.Keyed) > op.Parallelism {
		return fmt.Errorf("%d keyed handles for parallelism %d", len(op.Keyed), op.Parallelism)
	}
	if op.SourcePosition < 0 {
		return fmt.Errorf("negative source position %d", op.SourcePosition)
	}
	for i := range op.Keyed {
		if err := op.Keyed[i].validate(maxP); err != nil {
			return fmt.Errorf("keyed handle %d: %w", i, err)
		}
	}
	// The handles' ranges must be disjoint, or a key group would be
	// restored twice.
	ranges := make([]keygroup.Range, len(op.Keyed))
	for i := range op.Keyed {
		ranges[i] = op.Keyed[i].Range
	}
	slices.SortFunc(ranges, func(a, b keygroup.Range) int { return int(a.Start) - int(b.Start) })
	for i := 1; i < len(ranges); i++ {
		if ranges[i].Start <= ranges[i-1].End {
			return fmt.Errorf("keyed ranges %v and %v overlap", ranges[i-1], ranges[i])
		}
	}
	return nil
}

func (h *KeyedHandle) validate(maxP int) error {
	if err := checkKey(h.Path); err != nil {
		return err
	}
	if h.Range.Len() == 0 || h.Range.Start < 0 || int(h.Range.End) >= maxP {
		return fmt.Errorf("%s: range %v not a non-empty range inside [0, %d)", h.Path, h.Range, maxP)
	}
	if len(h.Offsets) != h.Range.Len()+1 {
		return fmt.Errorf("%s: %d offsets for %d key groups, want %d", h.Path, len(h.Offsets), h.Range.Len(), h.Range.Len()+1)
	}
	if h.Offsets[0] < 0 {
		return fmt.Errorf("%s: negative offset %d", h.Path, h.Offsets[0])
	}
	for i := 1; i < len(h.Offsets); i++ {
		if h.Offsets[i] < h.Offsets[i-1] {
			return fmt.Errorf("%s: offset of key group %d (%d) is before the previous one (%d)",
				h.Path, int(h.Range.Start)+i, h.Offsets[i], h.Offsets[i-1])
		}
	}
	if len(h.CRCs) != h.Range.Len() {
		return fmt.Errorf("%s: %d CRCs for %d key groups", h.Path, len(h.CRCs), h.Range.Len())
	}
	return nil
}

// maxKeyLen bounds a state object's key; real ones are a job id, a
// checkpoint directory and an operator id (at most plan.MaxUIDLen bytes, or
// a default id of a few dozen) with a subtask and an attempt.
const maxKeyLen = 1024

// checkKey checks that a state object's key is a plain relative key:
// slash-separated names, none empty, "." or "..", without control
// characters or backslashes, valid UTF-8. Keys come from the TaskManagers'
// acknowledgements and from metadata files, and every reader of a
// checkpoint (restoring subtasks, the JobManager when it verifies or
// copies one) passes them to the storage as they are.
func checkKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty path")
	case len(key) > maxKeyLen:
		return fmt.Errorf("path of %d bytes, longer than %d", len(key), maxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("path %q is not valid UTF-8", key)
	case strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }):
		return fmt.Errorf("path %q has a control character or a backslash", key)
	}
	for name := range strings.SplitSeq(key, "/") {
		if name == "" || name == "." || name == ".." {
			return fmt.Errorf("path %q is not a plain relative key (an empty, \".\" or \"..\" element)", key)
		}
	}
	return nil
}

// StateDir returns the directory "<jobID>/chk-<id>/" under which the
// subtasks write the state objects of checkpoint id.
func StateDir(jobID string, id ID) string {
	return jobID + "/chk-" + strconv.FormatUint(uint64(id), 10) + "/"
}
