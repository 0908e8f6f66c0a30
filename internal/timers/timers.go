// Package timers holds the timers of one keyed operator instance in one
// subtask, for one time domain: which keys asked to be called back at which
// instants.
//
// The timers are keyed state: a table of the backend (internal/state) maps
// each key to its due times, so they are snapshotted per key group, restored
// at any parallelism, and move with their keys when the job rescales. An
// indexed queue over the same timers finds the next one due. Both hold the
// same node per timer: deleting a timer takes it out of the table and out of
// the queue at once, so memory follows the number of live timers, never the
// number of registrations. A process function that resets an inactivity
// timeout on every record (delete the key's timer, register a new one) runs
// in constant memory.
//
// Instants are int64s in the unit of the time domain (Unix nanoseconds for
// processing time); the package never reads a clock. A Set belongs to the
// subtask's goroutine, like its backend.
//
// # State layout
//
// The table's value for a key is its due times, strictly increasing, encoded
// as codec.Slice[int64] of codec.Int64 (a uvarint count, then 8 bytes big
// endian each): the bytes of the []int64 table that the timers used before
// the queue was indexed, so snapshots of either restore into the other.
package timers

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/state"
)

// Timer is a timer of one key: due at At, for Key in key group KG.
type Timer[K comparable] struct {
	At  int64
	KG  keygroup.KeyGroup
	Key K
}

// Set is the timers of one operator instance in one time domain. A key has
// at most one timer per instant.
//
// Timers due at the same instant come out in the order they were
// registered; timers restored by New come out by key group, then by the
// bytes of their key.
type Set[K comparable] struct {
	// table holds each key's timers, sorted by At; every node in it is in
	// queue and the other way round.
	table *state.Table[K, []*node[K]]
	queue queue[K]
	// free keeps nodes taken out for the next registrations, at most
	// maxFree of them, and spare the last key's list that became empty, so
	// that a delete followed by a register (a reset) allocates nothing.
	free  []*node[K]
	spare []*node[K]
}

// maxFree bounds Set.free.
const maxFree = 64

// New declares the timers table name in b, with the codec of the keys, and
// queues the timers it holds: those restored from a snapshot, or kept in b
// across a rescale. Like any table, it must be declared before the first
// record, and b must not be restored into afterwards.
func New[K comparable](b *state.Backend, name string, kc codec.Codec[K]) (*Set[K], error) {
	t, err := state.NewTable(b, name, kc, dueCodec[K]{})
	if err != nil {
		return nil, fmt.Errorf("timers: %w", err)
	}
	s := &Set[K]{table: t}
	// Queue them in a deterministic order: key group, then the key's bytes
	// (the table is a map), then due time.
	type entry struct {
		enc   []byte
		key   K
		nodes []*node[K]
	}
	var all []*node[K]
	var es []entry
	r := b.Range()
	for kg := r.Start; kg <= r.End; kg++ {
		es = es[:0]
		t.Range(kg, func(k K, ns []*node[K]) bool {
			if len(ns) == 0 {
				t.Delete(kg, k)
				return true
			}
			es = append(es, entry{enc: kc.Append(nil, k), key: k, nodes: ns})
			return true
		})
		slices.SortFunc(es, func(a, b entry) int { return bytes.Compare(a.enc, b.enc) })
		for _, e := range es {
			for _, n := range e.nodes {
				n.KG, n.Key, n.seq = kg, e.key, uint64(len(all))
				all = append(all, n)
			}
		}
	}
	s.queue.init(all)
	return s, nil
}

// Len returns the number of timers.
func (s *Set[K]) Len() int { return s.queue.Len() }

// Register adds a timer of k, in key group kg, due at at. It reports false
// if k already had one due at at: a key has one timer per instant, which
// fires once.
func (s *Set[K]) Register(kg keygroup.KeyGroup, k K, at int64) bool {
	ns, _ := s.table.Get(kg, k)
	i, found := slices.BinarySearchFunc(ns, at, byAt)
	if found {
		return false
	}
	if ns == nil {
		ns, s.spare = s.spare, nil
	}
	n := s.newNode(Timer[K]{At: at, KG: kg, Key: k})
	s.table.Put(kg, k, slices.Insert(ns, i, n))
	s.queue.push(n)
	return true
}

// Delete removes the timer of k due at at, and reports whether there was
// one.
func (s *Set[K]) Delete(kg keygroup.KeyGroup, k K, at int64) bool {
	ns, _ := s.table.Get(kg, k)
	i, found := slices.BinarySearchFunc(ns, at, byAt)
	if !found {
		return false
	}
	n := ns[i]
	s.unlink(kg, k, ns, i)
	s.queue.remove(n)
	s.release(n)
	return true
}

// Peek returns the earliest timer, if any, and leaves it in place.
func (s *Set[K]) Peek() (Timer[K], bool) {
	n := s.queue.peek()
	if n == nil {
		return Timer[K]{}, false
	}
	return n.Timer, true
}

// PopDue removes and returns the earliest timer if it is due at now (At <=
// now).
func (s *Set[K]) PopDue(now int64) (Timer[K], bool) {
	n := s.queue.peek()
	if n == nil || n.At > now {
		return Timer[K]{}, false
	}
	t := n.Timer
	ns, _ := s.table.Get(t.KG, t.Key)
	i, found := slices.BinarySearchFunc(ns, t.At, byAt)
	if !found || ns[i] != n {
		panic(fmt.Sprintf("timers: queued timer of key %v at %d is not in table %q", t.Key, t.At, s.table.Name()))
	}
	s.unlink(t.KG, t.Key, ns, i)
	s.queue.remove(n)
	s.release(n)
	return t, true
}

// unlink removes ns[i] from the timers of k, ns.
func (s *Set[K]) unlink(kg keygroup.KeyGroup, k K, ns []*node[K], i int) {
	if ns = slices.Delete(ns, i, i+1); len(ns) == 0 {
		s.table.Delete(kg, k)
		s.spare = ns
	} else {
		s.table.Put(kg, k, ns)
	}
}

func (s *Set[K]) newNode(t Timer[K]) *node[K] {
	if n := len(s.free); n > 0 {
		nd := s.free[n-1]
		s.free[n-1] = nil
		s.free = s.free[:n-1]
		nd.Timer = t
		return nd
	}
	return &node[K]{Timer: t, index: -1}
}

// release keeps n, out of the table and the queue, for a later timer.
func (s *Set[K]) release(n *node[K]) {
	if len(s.free) < maxFree {
		n.Timer = Timer[K]{} // let go of the key
		s.free = append(s.free, n)
	}
}

func byAt[K comparable](n *node[K], at int64) int { return cmp.Compare(n.At, at) }

// dueCodec encodes a key's timers as their due times: the bytes of
// codec.Slice[int64]{Elem: codec.Int64{}}. The nodes it decodes have only
// their due time; New fills in their key.
type dueCodec[K comparable] struct{}

var ints = codec.Slice[int64]{Elem: codec.Int64{}}

func (dueCodec[K]) Append(dst []byte, ns []*node[K]) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ns)))
	for _, n := range ns {
		dst = codec.Int64{}.Append(dst, n.At)
	}
	return dst
}

func (dueCodec[K]) Decode(src []byte) ([]*node[K], int, error) {
	ats, m, err := ints.Decode(src)
	if err != nil {
		return nil, 0, fmt.Errorf("timers: %w", err)
	}
	block := make([]node[K], len(ats))
	ns := make([]*node[K], len(ats))
	for i, at := range ats {
		if i > 0 && at <= ats[i-1] {
			return nil, 0, fmt.Errorf("timers: due times %d then %d, not increasing: %w", ats[i-1], at, state.ErrCorrupt)
		}
		block[i] = node[K]{Timer: Timer[K]{At: at}, index: -1}
		ns[i] = &block[i]
	}
	return ns, m, nil
}
