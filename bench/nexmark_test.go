package main

import (
	"context"
	"hash/maphash"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/bench/nexmark"
	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/internal/task/tasktest"
	"github.com/tide-stream/tide/stream"
)

// testNexmark is a small stream with many windows: 20,000 events over 20 s
// of event time, so that every windowed query fires several windows and
// q11's bidders have several sessions.
var testNexmark = nexmarkOptions{parallelism: 2, rate: 1_000, repeat: 1, seed: 7}

const testNexmarkEvents = 20_000

// TestNexmarkQueries runs every query as the benchmark does (real tasks,
// loopback network managers, parallelism 2) on a small stream and compares
// its rows with the reference's, row by row.
func TestNexmarkQueries(t *testing.T) {
	queries := newNexmarkQueries()
	for _, name := range nexmarkQueryNames {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			r, err := runNexmarkOnce(ctx, queries[name], testNexmark, testNexmarkEvents, true, "")
			if err != nil {
				t.Fatal(err)
			}
			if r.checkErr != nil {
				t.Fatal(r.checkErr)
			}
			if r.rows == 0 {
				t.Errorf("no result rows: the comparison shows nothing")
			}
			if r.perCore <= 0 || r.cpu <= 0 {
				t.Errorf("events/s per core %v over %v of CPU", r.perCore, r.cpu)
			}
		})
	}
}

// TestNexmarkCheckFails checks that a wrong result fails the run, both row
// by row and by fingerprint alone (the benchmark's large runs).
func TestNexmarkCheckFails(t *testing.T) {
	wrong := func(src stream.DataStream[nexmark.Event]) stream.DataStream[nexmark.Q2Row] {
		return stream.Map(q2(src), "off by one", func(r nexmark.Q2Row) nexmark.Q2Row {
			if r.Price%7 == 0 {
				r.Price++
			}
			return r
		})
	}
	q := standardQuery("q2", wrong, nexmark.Q2, func(_ maphash.Seed, r nexmark.Q2Row) uint64 { return mix(mix(1, r.Auction), r.Price) })
	for _, collect := range []bool{true, false} {
		r, err := runNexmarkOnce(t.Context(), q, testNexmark, testNexmarkEvents, collect, "")
		if err != nil {
			t.Fatal(err)
		}
		if r.checkErr == nil || !strings.Contains(r.checkErr.Error(), "q2:") {
			t.Errorf("collect %v: a wrong result passed the check (err %v)", collect, r.checkErr)
		}
	}
}

func TestNexmarkCodecs(t *testing.T) {
	bid := q7Bid{Auction: 1001, Bidder: 1002, Price: 12345, DateTime: 1436918400000, Extra: "xyz"}
	roundTrip(t, q3InCodec, q3In{IsPerson: true, Person: q3Person{ID: 1000, Name: "Ann", City: "Boise", State: "ID"}})
	roundTrip(t, q3InCodec, q3In{Auction: q3Auction{ID: 1003, Seller: 1000}})
	roundTrip(t, keyCountCodec, keyCount{Key: 1000, N: 42})
	roundTrip(t, q5TopCodec, q5Top{Max: 3, Auctions: []int64{1000, 1001}})
	roundTrip(t, q7TopCodec, q7Top{Max: 12345, Bids: []q7Bid{bid}, AtStart: []q7Bid{bid, bid}})
	roundTrip(t, q7PartCodec, q7Part{End: 1436918410000, HasMax: true, Max: 12345, Bids: []q7Bid{bid}})
	roundTrip(t, q8InCodec, q8In{Person: true, ID: 0, Name: "Bo"})
	roundTrip(t, q8InCodec, q8In{ID: 0})
	roundTrip(t, q11SessionCodec, q11Session{Bidder: 1001, N: 3, First: 5, Last: 9})
	if _, _, err := q7TopCodec.Decode(q7TopCodec.Append(nil, q7Top{Max: 1, Bids: []q7Bid{bid}})[:9]); err == nil {
		t.Error("a truncated value decoded without error")
	}
}

func roundTrip[T any](t *testing.T, c fieldCodec[T], v T) {
	t.Helper()
	b := c.Append([]byte{0xff}, v)[1:]
	got, n, err := c.Decode(append(b, 0xee))
	if err != nil || n != len(b) {
		t.Fatalf("%+v: decode: %v, %d of %d bytes", v, err, n, len(b))
	}
	if c.Append(nil, got) == nil || string(c.Append(nil, got)) != string(b) {
		t.Errorf("%+v came back as %+v", v, got)
	}
}

// TestNexmarkEdgeCases runs q7 and q11 on crafted bids at the edges the
// generated stream rarely reaches: a bid at exactly a window's end with
// the window's highest price (q7's BETWEEN includes it), ties, and bids
// exactly one session gap apart (q11's sessions then merge).
func TestNexmarkEdgeCases(t *testing.T) {
	const s = 10_000
	base := nexmark.DefaultBaseTime // a multiple of 10 s
	bid := func(at, price, bidder int64) nexmark.Event {
		return nexmark.Event{Kind: nexmark.KindBid, Bid: nexmark.Bid{Auction: 1000 + price%3, Bidder: bidder, Price: price, DateTime: base + at, Extra: "e"}}
	}
	events := []nexmark.Event{
		bid(3_000, 100, 1), bid(4_000, 100, 2), bid(9_999, 7, 1), // window 1: two bids at the maximum
		bid(s, 100, 3), bid(s, 50, 4), // at window 1's end: the first matches it
		bid(15_000, 200, 1), bid(2*s, 200, 2), // window 2's maximum, and one at its end
		bid(2*s+s, 1, 1), // q11: exactly one gap after bidder 1's last bid
		bid(60_000, 5, 5),
	}
	queries := newNexmarkQueries()
	for _, name := range []string{"q7", "q11", "q0"} {
		t.Run(name, func(t *testing.T) {
			env := stream.NewEnv(128)
			src := stream.FromSource(env, sliceSource(events), nexmarkWatermarks())
			check := queries[name].build(src, true)
			g, err := env.Plan()
			if err != nil {
				t.Fatal(err)
			}
			jg, err := plan.Compile(g)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tasktest.Run(t.Context(), jg, 2, 2); err != nil {
				t.Fatal(err)
			}
			rows, err := check(nexmark.FromSlice(events), timeSpan{})
			if err != nil {
				t.Fatal(err)
			}
			if rows == 0 {
				t.Error("no rows")
			}
		})
	}
}

// sliceSource emits events from subtask 0; the other subtasks emit none.
func sliceSource(events []nexmark.Event) stream.Source[nexmark.Event] {
	return stream.Source[nexmark.Event]{Name: "slice", Open: func(ctx stream.SourceContext, _ [][]byte) (stream.SourceReader[nexmark.Event], error) {
		r := &sliceReader{}
		if ctx.Subtask() == 0 {
			r.events = events
		}
		return r, nil
	}}
}

type sliceReader struct {
	events []nexmark.Event
	pos    int
}

func (r *sliceReader) Poll(_ context.Context, out stream.SourceOutput[nexmark.Event]) (stream.PollStatus, time.Duration, error) {
	for ; r.pos < len(r.events); r.pos++ {
		out.EmitAt(r.events[r.pos], r.events[r.pos].DateTime())
	}
	return stream.Done, 0, nil
}
func (r *sliceReader) Snapshot(uint64) ([][]byte, error) { return nil, nil }
func (r *sliceReader) Position() int64                   { return int64(r.pos) }
func (r *sliceReader) Close() error                      { return nil }
