package timers

import (
	"bytes"
	"cmp"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/state"
)

const (
	maxP  = 8
	table = "_timers"
)

var all = keygroup.Range{Start: 0, End: maxP - 1}

func kgOf(k int64) keygroup.KeyGroup { return keygroup.OfBytes(codec.Int64{}.Append(nil, k), maxP) }

func newSet(t testing.TB, b *state.Backend) *Set[int64] {
	t.Helper()
	s, err := New(b, table, codec.Int64{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// restore snapshots b and restores the key groups of r into a new backend.
func restore(t testing.TB, b *state.Backend, r keygroup.Range) *state.Backend {
	t.Helper()
	var buf bytes.Buffer
	offs, crcs, err := b.Snapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	nb := state.NewBackend(maxP, r)
	for kg := r.Start; kg <= r.End; kg++ {
		i := kg - b.Range().Start
		if err := nb.RestoreKeyGroup(kg, buf.Bytes()[offs[i]:offs[i+1]], crcs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return nb
}

// popAll pops every timer due at now.
func popAll(s *Set[int64], now int64) []Timer[int64] {
	var out []Timer[int64]
	for {
		tm, ok := s.PopDue(now)
		if !ok {
			return out
		}
		out = append(out, tm)
	}
}

// check verifies that the table and the queue hold the same nodes.
func (s *Set[K]) check(t *testing.T, r keygroup.Range) {
	t.Helper()
	s.queue.check(t)
	n := 0
	for kg := r.Start; kg <= r.End; kg++ {
		s.table.Range(kg, func(k K, ns []*node[K]) bool {
			if len(ns) == 0 {
				t.Fatalf("key %v has an empty list of timers", k)
			}
			for i, nd := range ns {
				if nd.Key != k || nd.KG != kg || nd.index < 0 || nd.index >= s.queue.Len() || s.queue.heap[nd.index] != nd {
					t.Fatalf("timer %+v of key %v in key group %d is not queued where it says (%d)", nd.Timer, k, kg, nd.index)
				}
				if i > 0 && ns[i-1].At >= nd.At {
					t.Fatalf("timers of key %v not increasing: %d then %d", k, ns[i-1].At, nd.At)
				}
			}
			n += len(ns)
			return true
		})
	}
	if n != s.queue.Len() {
		t.Fatalf("table holds %d timers, queue %d", n, s.queue.Len())
	}
}

func TestRegisterTwiceFiresOnce(t *testing.T) {
	s := newSet(t, state.NewBackend(maxP, all))
	if !s.Register(kgOf(1), 1, 100) {
		t.Fatal("first Register reported a duplicate")
	}
	if s.Register(kgOf(1), 1, 100) {
		t.Fatal("second Register at the same instant did not report a duplicate")
	}
	if !s.Register(kgOf(2), 2, 100) || !s.Register(kgOf(1), 1, 50) {
		t.Fatal("another key, or another instant, is not a duplicate")
	}
	s.check(t, all)
	want := []Timer[int64]{{50, kgOf(1), 1}, {100, kgOf(1), 1}, {100, kgOf(2), 2}}
	if got := popAll(s, 100); !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	if s.Len() != 0 {
		t.Fatalf("Len %d after firing everything", s.Len())
	}
}

func TestDeleteAndPopDue(t *testing.T) {
	s := newSet(t, state.NewBackend(maxP, all))
	for k := range int64(10) {
		s.Register(kgOf(k), k, 100+k)
	}
	if s.Delete(kgOf(3), 3, 999) {
		t.Fatal("Delete of a timer never registered reported one")
	}
	if !s.Delete(kgOf(3), 3, 103) || s.Delete(kgOf(3), 3, 103) {
		t.Fatal("Delete of a registered timer: want true once")
	}
	s.check(t, all)
	if tm, ok := s.Peek(); !ok || tm.At != 100 {
		t.Fatalf("Peek = %v, %v; want the timer at 100", tm, ok)
	}
	if tm, ok := s.PopDue(99); ok {
		t.Fatalf("PopDue(99) = %v: nothing is due before 100", tm)
	}
	var keys []int64
	for _, tm := range popAll(s, 105) {
		keys = append(keys, tm.Key)
	}
	if want := []int64{0, 1, 2, 4, 5}; !slices.Equal(keys, want) {
		t.Fatalf("due at 105: keys %v, want %v", keys, want)
	}
	s.check(t, all)
	if s.Len() != 4 || s.table.Len() != 4 {
		t.Fatalf("Len %d, table %d entries after firing; want 4 each", s.Len(), s.table.Len())
	}
}

// TestResetRunsInConstantMemory is the inactivity-timeout pattern: each
// record deletes its key's timer and registers a later one. The queue, its
// slice, the table and the snapshot stay the size of the live timers (one
// per key), however many resets.
func TestResetRunsInConstantMemory(t *testing.T) {
	const keys, resets = 100, 200_000
	b := state.NewBackend(maxP, all)
	s := newSet(t, b)
	due := make(map[int64]int64)
	r := rand.New(rand.NewPCG(1, 1))
	snap := func() int {
		var buf bytes.Buffer
		if _, _, err := b.Snapshot(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Len()
	}
	var first int
	for i := range int64(resets) {
		// Key 0 gets one record and goes quiet: its timer stays earliest,
		// which a queue that deletes lazily cannot get past.
		k := 0 + r.Int64N(keys)
		if i == 0 {
			k = 0
		} else if k == 0 {
			k = 1
		}
		if at, ok := due[k]; ok {
			s.Delete(kgOf(k), k, at)
		}
		due[k] = i + 1_000_000
		s.Register(kgOf(k), k, due[k])
		if i == 10_000 {
			first = snap()
		}
		if i%10_000 == 0 {
			if s.Len() != len(due) || s.table.Len() != len(due) {
				t.Fatalf("after %d resets: %d timers queued, %d keys in the table; %d are live", i+1, s.Len(), s.table.Len(), len(due))
			}
			if c := cap(s.queue.heap); c > 2*keys {
				t.Fatalf("after %d resets: the queue's slice holds %d for %d live timers", i+1, c, len(due))
			}
			if len(s.free) > maxFree {
				t.Fatalf("%d free nodes kept, at most %d", len(s.free), maxFree)
			}
		}
	}
	s.check(t, all)
	if last := snap(); last != first {
		t.Fatalf("snapshot of %d live timers: %d bytes after 10,000 resets, %d after %d", len(due), first, last, resets)
	}
}

// TestLayoutUnchanged: the timers table has the bytes of the []int64 table
// it replaces, both ways.
func TestLayoutUnchanged(t *testing.T) {
	old := state.NewBackend(maxP, all)
	ot, err := state.NewTable(old, table, codec.Int64{}, codec.Slice[int64]{Elem: codec.Int64{}})
	if err != nil {
		t.Fatal(err)
	}
	for k := range int64(50) {
		ot.Put(kgOf(k), k, []int64{k, k + 1000, k + 2000})
	}
	s := newSet(t, restore(t, old, all))
	s.check(t, all)
	if s.Len() != 150 {
		t.Fatalf("%d timers restored from the old layout, want 150", s.Len())
	}
	var want, got bytes.Buffer
	if _, _, err := old.Snapshot(&want); err != nil {
		t.Fatal(err)
	}
	// The snapshot of a set that registered the same timers is the same
	// bytes, whatever the order of the registrations.
	nb := state.NewBackend(maxP, all)
	ns := newSet(t, nb)
	for k := int64(49); k >= 0; k-- {
		for _, at := range []int64{k + 2000, k, k + 1000} {
			ns.Register(kgOf(k), k, at)
		}
	}
	if _, _, err := nb.Snapshot(&got); err != nil {
		t.Fatal(err)
	}
	if want.Len() != got.Len() {
		t.Fatalf("snapshot of %d bytes, the old layout's %d", got.Len(), want.Len())
	}
	rb := restore(t, nb, all)
	rt, err := state.NewTable(rb, table, codec.Int64{}, codec.Slice[int64]{Elem: codec.Int64{}})
	if err != nil {
		t.Fatal(err)
	}
	for k := range int64(50) {
		if ats, _ := rt.Get(kgOf(k), k); !slices.Equal(ats, []int64{k, k + 1000, k + 2000}) {
			t.Fatalf("key %d read back with the old layout: %v", k, ats)
		}
	}
}

func TestDecodeRefusesUnorderedTimes(t *testing.T) {
	b := dueCodec[int64]{}
	for _, ats := range [][]int64{{5, 5}, {5, 4}} {
		enc := codec.Slice[int64]{Elem: codec.Int64{}}.Append(nil, ats)
		if _, _, err := b.Decode(enc); !errors.Is(err, state.ErrCorrupt) {
			t.Errorf("Decode(%v) = %v, want ErrCorrupt", ats, err)
		}
	}
}

// TestTimersMoveWithTheirKeys restores the timers of one backend into two,
// as a rescale from 1 to 2 does, and back into one: every timer is on the
// side that owns its key, once.
func TestTimersMoveWithTheirKeys(t *testing.T) {
	b := state.NewBackend(maxP, all)
	s := newSet(t, b)
	for k := range int64(200) {
		s.Register(kgOf(k), k, 1000-k)
		s.Register(kgOf(k), k, 2000+k)
	}
	var halves []*state.Backend
	seen := map[Timer[int64]]bool{}
	for i := range 2 {
		r := keygroup.RangeFor(maxP, 2, i)
		hb := restore(t, b, r)
		halves = append(halves, restore(t, hb, r)) // before firing
		hs := newSet(t, hb)
		hs.check(t, r)
		for _, tm := range popAll(hs, 1<<62) {
			if !r.Contains(tm.KG) || tm.KG != kgOf(tm.Key) || seen[tm] {
				t.Fatalf("subtask %d of 2 (%v) fired %+v", i, r, tm)
			}
			seen[tm] = true
		}
	}
	if len(seen) != 400 {
		t.Fatalf("%d timers after the rescale, want 400", len(seen))
	}
	// Back to one: both halves' key groups into one backend.
	one := state.NewBackend(maxP, all)
	for i, h := range halves {
		var buf bytes.Buffer
		offs, crcs, err := h.Snapshot(&buf)
		if err != nil {
			t.Fatal(err)
		}
		r := keygroup.RangeFor(maxP, 2, i)
		for kg := r.Start; kg <= r.End; kg++ {
			j := kg - r.Start
			if err := one.RestoreKeyGroup(kg, buf.Bytes()[offs[j]:offs[j+1]], crcs[j]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := newSet(t, one).Len(); n != 400 {
		t.Fatalf("%d timers after rescaling back to 1, want 400", n)
	}
}

// TestKeptAcrossSetRange: a backend kept in memory across a rescale
// (local recovery) is narrowed with SetRange, and the next operator
// instance declares the timers again and finds those of its key groups.
func TestKeptAcrossSetRange(t *testing.T) {
	b := state.NewBackend(maxP, all)
	s := newSet(t, b)
	for k := range int64(100) {
		s.Register(kgOf(k), k, k)
	}
	b.Release()
	r := keygroup.RangeFor(maxP, 2, 1)
	b.SetRange(r)
	s2 := newSet(t, b)
	s2.check(t, r)
	want := 0
	for k := range int64(100) {
		if r.Contains(kgOf(k)) {
			want++
		}
	}
	got := popAll(s2, 1000)
	if len(got) != want {
		t.Fatalf("%d timers kept, want %d", len(got), want)
	}
	if !slices.IsSortedFunc(got, func(a, b Timer[int64]) int { return cmp.Compare(a.At, b.At) }) {
		t.Fatalf("kept timers fired out of order: %v", got)
	}
}

// model is the reference for a Set: a map of timers and the rank that
// orders ties.
type model struct {
	timers map[Timer[int64]]uint64
	seq    uint64
}

func (m *model) earliest(now int64) (Timer[int64], bool) {
	var best Timer[int64]
	var bestSeq uint64
	found := false
	for tm, seq := range m.timers {
		if tm.At <= now && (!found || tm.At < best.At || tm.At == best.At && seq < bestSeq) {
			best, bestSeq, found = tm, seq, true
		}
	}
	return best, found
}

// restored ranks the timers as New does: key group, key bytes, due time.
// Keys are non-negative, so their big-endian bytes sort as the numbers.
func (m *model) restored() {
	ts := make([]Timer[int64], 0, len(m.timers))
	for tm := range m.timers {
		ts = append(ts, tm)
	}
	slices.SortFunc(ts, func(a, b Timer[int64]) int {
		return cmp.Or(cmp.Compare(a.KG, b.KG), cmp.Compare(a.Key, b.Key), cmp.Compare(a.At, b.At))
	})
	for i, tm := range ts {
		m.timers[tm] = uint64(i)
	}
	m.seq = uint64(len(ts))
}

// runOps interprets ops as a program of three bytes per step (operation,
// key, instant) against a Set and the model, and fails at the first
// difference.
func runOps(t *testing.T, ops []byte) {
	b := state.NewBackend(maxP, all)
	s := newSet(t, b)
	m := &model{timers: map[Timer[int64]]uint64{}}
	for i := 0; i+2 < len(ops); i += 3 {
		k, at := int64(ops[i+1]%16), int64(ops[i+2]%32)
		tm := Timer[int64]{At: at, KG: kgOf(k), Key: k}
		_, had := m.timers[tm]
		switch ops[i] % 8 {
		case 0, 1, 2: // register
			if got := s.Register(tm.KG, k, at); got == had {
				t.Fatalf("step %d: Register(%d, %d) = %v with the timer present: %v", i/3, k, at, got, had)
			}
			if !had {
				m.timers[tm] = m.seq
				m.seq++
			}
		case 3, 4: // delete
			if got := s.Delete(tm.KG, k, at); got != had {
				t.Fatalf("step %d: Delete(%d, %d) = %v with the timer present: %v", i/3, k, at, got, had)
			}
			delete(m.timers, tm)
		case 5, 6: // fire what is due at at
			want, wok := m.earliest(at)
			got, gok := s.PopDue(at)
			if got != want || gok != wok {
				t.Fatalf("step %d: PopDue(%d) = %+v, %v; want %+v, %v", i/3, at, got, gok, want, wok)
			}
			delete(m.timers, want)
		case 7: // checkpoint and restore
			b = restore(t, b, all)
			s = newSet(t, b)
			m.restored()
		}
		if s.Len() != len(m.timers) {
			t.Fatalf("step %d: Len %d, want %d", i/3, s.Len(), len(m.timers))
		}
	}
	s.check(t, all)
	for {
		want, wok := m.earliest(1 << 62)
		got, gok := s.PopDue(1 << 62)
		if got != want || gok != wok {
			t.Fatalf("final drain: PopDue = %+v, %v; want %+v, %v", got, gok, want, wok)
		}
		if !gok {
			return
		}
		delete(m.timers, want)
	}
}

func TestSetAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		ops := make([]byte, 3*r.IntN(400))
		for i := range ops {
			ops[i] = byte(r.Uint32())
		}
		runOps(t, ops)
	}
}

func FuzzSet(f *testing.F) {
	f.Add([]byte{0, 1, 5, 0, 1, 5, 5, 0, 9})
	f.Add([]byte{0, 1, 5, 0, 2, 5, 7, 0, 0, 5, 0, 31})
	f.Add([]byte{0, 1, 5, 3, 1, 5, 0, 1, 6, 5, 0, 31})
	f.Fuzz(runOps)
}

// FuzzDueCodec: a key's timers come back from checkpoints; whatever the
// bytes, they decode as strictly increasing due times that encode back to
// the same bytes (the element count is a uvarint, so only after a first
// re-encoding), or fail, without allocating for a count the bytes cannot
// hold.
func FuzzDueCodec(f *testing.F) {
	c := dueCodec[int64]{}
	f.Add(c.Append(nil, []*node[int64]{{Timer: Timer[int64]{At: -3}}, {Timer: Timer[int64]{At: 7}}}))
	f.Add(codec.Slice[int64]{Elem: codec.Int64{}}.Append(nil, []int64{5, 5}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f})
	f.Fuzz(func(t *testing.T, b []byte) {
		ns, n, err := c.Decode(b)
		if err != nil {
			return
		}
		if n <= 0 || n > len(b) || len(ns) > len(b)/8 {
			t.Fatalf("%d timers using %d of %d bytes", len(ns), n, len(b))
		}
		for i, nd := range ns {
			if nd.index != -1 || (i > 0 && nd.At <= ns[i-1].At) {
				t.Fatalf("timer %d of %d: %+v after %+v", i, len(ns), *nd, *ns[max(i-1, 0)])
			}
		}
		enc := c.Append(nil, ns)
		again, m, err := c.Decode(enc)
		if err != nil || m != len(enc) || len(again) != len(ns) {
			t.Fatalf("re-encoding %x: %d timers using %d bytes, %v", enc, len(again), m, err)
		}
		for i := range ns {
			if again[i].At != ns[i].At {
				t.Fatalf("timer %d: due at %d, then %d", i, ns[i].At, again[i].At)
			}
		}
	})
}
