package stream

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/operator"
)

// snapshotBytes is the size of a checkpoint of ctx's keyed state.
func snapshotBytes(t *testing.T, ctx *fakeContext) int {
	t.Helper()
	var buf bytes.Buffer
	if _, _, err := ctx.backend.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}

// TestInactivityTimeoutRunsInConstantMemory resets a key's timer on every
// record, for 300,000 records over 50 keys, one of which gets one record
// and goes quiet (its timer stays the earliest all along). The timer queue
// holds one entry per live timer and the checkpointed state keeps its size,
// whatever the number of records; then every key's timeout fires once.
func TestInactivityTimeoutRunsInConstantMemory(t *testing.T) {
	const keys, records, batch = 50, 300_000, 1000
	ctx := newFakeContext(128)
	fn := &inactivity{timeout: time.Hour}
	out := &collected[string]{}
	p := openProcess[string](t, ctx, fn, out)

	vs := make([]int64, records)
	for i := range vs {
		vs[i] = 1 + int64(i*7919)%(keys-1) // keys 1..49, in a scrambled order
	}
	vs[0] = 0 // the quiet key
	var size int
	for i := 0; i < records; i += batch {
		resetTimers(t, ctx, p, vs[i:i+batch])
		live := fn.due.t.Len()
		if q := p.queuedTimers(); q != live {
			t.Fatalf("after %d records: %d timers queued, %d live", i+batch, q, live)
		}
		if live != keys {
			t.Fatalf("after %d records: %d live timers, want one per key (%d)", i+batch, live, keys)
		}
		switch n := snapshotBytes(t, ctx); {
		case i == 10*batch:
			size = n
		case i > 10*batch && n != size:
			t.Fatalf("after %d records: a checkpoint of %d bytes, %d after %d records", i+batch, n, size, 11*batch)
		}
	}
	if len(out.vs) != 0 {
		t.Fatalf("fired before the timeout: %v", out.vs)
	}
	at, ok := p.NextTimer()
	if want := time.Unix(1_700_000_000, 0).Add(time.Microsecond + time.Hour); !ok || !at.Equal(want) {
		t.Fatalf("NextTimer = %v, %v; want the quiet key's, %v", at, ok, want)
	}

	if err := p.FireTimers(ctx.advance(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if len(out.vs) != keys || out.vs[0] != "0:idle" {
		t.Fatalf("fired %d timers, first %q; want %d, the quiet key's first", len(out.vs), out.vs[0], keys)
	}
	slices.Sort(out.vs)
	if n := len(slices.Compact(out.vs)); n != keys {
		t.Fatalf("%d keys fired of %d: duplicates", n, keys)
	}
	if p.queuedTimers() != 0 || fn.due.t.Len() != 0 {
		t.Fatalf("%d timers queued, %d live after they all fired", p.queuedTimers(), fn.due.t.Len())
	}
}

// noTimerFn registers a timer but has no OnTimer.
type noTimerFn struct{ rt *KeyedRuntime[int64] }

func (f *noTimerFn) Open(rt *KeyedRuntime[int64]) error { f.rt = rt; return nil }
func (f *noTimerFn) Process(k, v int64, out Collector[string]) error {
	f.rt.RegisterTimer(f.rt.Now().Add(time.Second))
	return nil
}

// TestRegisterTimerWithoutOnTimerFails: Open cannot know whether a function
// will call RegisterTimer, so the call fails the subtask, with a permanent
// error that names the operator and the function's type; the timer is not
// kept.
func TestRegisterTimerWithoutOnTimerFails(t *testing.T) {
	ctx := newFakeContext(128)
	p := openProcess[string](t, ctx, &noTimerFn{}, &collected[string]{})
	if len(ctx.failed) != 0 {
		t.Fatalf("failed at open: %v", ctx.failed)
	}
	p.Emit(1, NoTimestamp)
	if len(ctx.failed) != 1 {
		t.Fatalf("%d failures after RegisterTimer, want 1: %v", len(ctx.failed), ctx.failed)
	}
	err := ctx.failed[0]
	const want = "inactivity-0123abcd: RegisterTimer: the process function *stream.noTimerFn has no OnTimer method (stream.TimerFunction), so its timers would never fire"
	if err.Error() != want || !operator.IsPermanent(err) {
		t.Fatalf("failure %q (permanent: %v), want the permanent %q", err, operator.IsPermanent(err), want)
	}
	if p.queuedTimers() != 0 {
		t.Fatalf("%d timers queued", p.queuedTimers())
	}
	if _, ok := p.NextTimer(); ok {
		t.Fatal("NextTimer found a timer")
	}
}

// TestRestoredTimersWithoutOnTimerFailOpen: a function without OnTimer
// restored from a checkpoint that holds timers (its previous version had
// one) fails at open, permanently, rather than drop them in silence.
func TestRestoredTimersWithoutOnTimerFailOpen(t *testing.T) {
	ctx := newFakeContext(128)
	p := openProcess[string](t, ctx, &inactivity{timeout: time.Minute}, &collected[string]{})
	for k := range int64(3) {
		p.Emit(k, NoTimestamp)
	}
	var buf bytes.Buffer
	offs, crcs, err := ctx.backend.Snapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	restored := newFakeContext(128)
	r := restored.backend.Range()
	for kg := r.Start; kg <= r.End; kg++ {
		if err := restored.backend.RestoreKeyGroup(kg, buf.Bytes()[offs[kg]:offs[kg+1]], crcs[kg]); err != nil {
			t.Fatal(err)
		}
	}
	q := &processOp[int64, int64, string]{fn: &noTimerFn{}, key: func(v int64) int64 { return v }, kc: p.kc, out: collector[string]{next: &collected[string]{}}}
	err = q.Open(restored)
	const want = "open inactivity-0123abcd: the state holds 3 timers but the process function *stream.noTimerFn has no OnTimer method (stream.TimerFunction) to fire them; add one, which may ignore them"
	if err == nil || err.Error() != want || !operator.IsPermanent(err) {
		t.Fatalf("Open = %v (permanent: %v), want the permanent %q", err, operator.IsPermanent(err), want)
	}

	// With an OnTimer, the same checkpoint opens and the timers fire.
	restored2 := newFakeContext(128)
	for kg := r.Start; kg <= r.End; kg++ {
		if err := restored2.backend.RestoreKeyGroup(kg, buf.Bytes()[offs[kg]:offs[kg+1]], crcs[kg]); err != nil {
			t.Fatal(err)
		}
	}
	out := &collected[string]{}
	p2 := openProcess[string](t, restored2, &inactivity{timeout: time.Minute}, out)
	if err := p2.FireTimers(restored2.advance(time.Hour)); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out.vs)
	if got := strings.Join(out.vs, " "); got != "0:idle 1:idle 2:idle" {
		t.Fatalf("restored timers fired %q", got)
	}
}

// TestTimersKeptAcrossALocalRescale checks the kept-backend path of a local
// rescale at the operator level: the backend of one instance, narrowed to
// half the key groups, opens in a new instance with the timers of those key
// groups only, each firing once.
func TestTimersKeptAcrossALocalRescale(t *testing.T) {
	const maxP, keys = 128, 200
	ctx := newFakeContext(maxP)
	p := openProcess[string](t, ctx, &inactivity{timeout: time.Minute}, &collected[string]{})
	for k := range int64(keys) {
		p.Emit(k, NoTimestamp)
	}
	ctx.backend.Release()
	r := keygroup.RangeFor(maxP, 2, 0)
	ctx.backend.SetRange(r)
	out := &collected[string]{}
	p2 := openProcess[string](t, ctx, &inactivity{timeout: time.Minute}, out)
	if err := p2.FireTimers(ctx.advance(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var want []string
	for k := range int64(keys) {
		if r.Contains(keygroup.OfBytes(p.kc.Append(nil, k), maxP)) {
			want = append(want, fmt.Sprintf("%d:idle", k))
		}
	}
	slices.Sort(want)
	slices.Sort(out.vs)
	if !slices.Equal(out.vs, want) {
		t.Fatalf("fired %v, want %v", out.vs, want)
	}
}
