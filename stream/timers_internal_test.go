package stream

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/keygroup"
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

// TestTimersKeptAcrossALocalRescale checks the kept-backend path of a local
// rescale at the operator level: the backend of one instance, narrowed to
// half the key groups, opens in a new instance with the timers of those key
// groups only, each firing once.
func TestTimersKeptAcrossALocalRescale(t *testing.T) {
	const maxP, keys = 128, 200
	ctx := newFakeContext(maxP)
	p := openProcess[string](t, ctx, &inactivity{timeout: time.Minute}, &collected[string]{})
	for k := range int64(keys) {
		p.Emit(k)
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
