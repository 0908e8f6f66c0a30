package nexmark

import (
	"testing"
)

// generatedStream is 60,000 events at 500 events/s of event time: two
// minutes, so twelve tumbling windows and sixty sliding ones, split over
// three generators and interleaved as three source subtasks would deliver
// them.
func generatedStream(t *testing.T) []Event {
	t.Helper()
	parts, err := Config{Seed: 42, NumEvents: 60_000, FirstEventRate: 500}.Split(3)
	if err != nil {
		t.Fatal(err)
	}
	var gens []*Generator
	for _, p := range parts {
		g, err := NewGenerator(p)
		if err != nil {
			t.Fatal(err)
		}
		gens = append(gens, g)
	}
	var evs []Event
	var ev Event
	for more := true; more; {
		more = false
		for _, g := range gens {
			if g.Next(&ev) {
				evs = append(evs, ev)
				more = true
			}
		}
	}
	return evs
}

func bids(evs []Event) []Bid {
	var bs []Bid
	for _, e := range evs {
		if e.Kind == KindBid {
			bs = append(bs, e.Bid)
		}
	}
	return bs
}

func TestQueriesOnGeneratedData(t *testing.T) {
	evs := generatedStream(t)
	bs := bids(evs)
	if n := len(bs); n != 60_000*46/50 {
		t.Fatalf("%d bids, want 46/50 of 60,000", n)
	}

	t.Run("q0 q1 q2", func(t *testing.T) {
		q0, q1, q2 := Q0(FromSlice(evs)), Q1(FromSlice(evs)), Q2(FromSlice(evs))
		if len(q0) != len(bs) || len(q1) != len(bs) {
			t.Fatalf("q0 %d rows, q1 %d rows, want one per bid (%d)", len(q0), len(q1), len(bs))
		}
		for i := range q0 {
			if q1[i].PriceThousandths != q0[i].Price*908 || q1[i].DateTime != q0[i].DateTime {
				t.Fatalf("q1 row %+v does not convert q0 row %+v", q1[i], q0[i])
			}
		}
		want := 0
		for _, b := range bs {
			if b.Auction%123 == 0 {
				want++
			}
		}
		if len(q2) != want || want == 0 {
			t.Fatalf("q2 %d rows, want %d (and some)", len(q2), want)
		}
	})

	t.Run("q3", func(t *testing.T) {
		persons := make(map[int64]Person)
		for _, e := range evs {
			if e.Kind == KindPerson {
				persons[e.Person.ID] = e.Person
			}
		}
		var want []Q3Row
		for _, e := range evs {
			a := e.Auction
			if p, ok := persons[a.Seller]; ok && e.Kind == KindAuction && a.Category == 10 &&
				(p.State == "OR" || p.State == "ID" || p.State == "CA") {
				want = append(want, Q3Row{p.Name, p.City, p.State, a.ID})
			}
		}
		SortQ3(want)
		if len(want) == 0 {
			t.Fatal("no q3 matches in the generated stream")
		}
		check(t, "q3", Q3(FromSlice(evs)), want)
	})

	t.Run("q5", func(t *testing.T) {
		rows := Q5(FromSlice(evs))
		windows := make(map[int64]bool)
		for _, r := range rows {
			windows[r.WindowStart] = true
			counts := make(map[int64]int64)
			for _, b := range bs {
				if b.DateTime >= r.WindowStart && b.DateTime < r.WindowEnd {
					counts[b.Auction]++
				}
			}
			if counts[r.Auction] != r.Num {
				t.Fatalf("row %+v: auction has %d bids in the window", r, counts[r.Auction])
			}
			for a, n := range counts {
				if n > r.Num {
					t.Fatalf("row %+v: auction %d has more bids (%d)", r, a, n)
				}
			}
		}
		for _, b := range bs {
			hopStarts(b.DateTime, WindowSize, HopSlide, func(s int64) {
				if !windows[s] {
					t.Fatalf("window at %d holds bid %+v but has no row", s, b)
				}
			})
		}
	})

	t.Run("q7", func(t *testing.T) {
		rows := Q7(FromSlice(evs))
		ends := make(map[int64]bool)
		for _, r := range rows {
			ends[r.WindowEnd] = true
			if r.DateTime < r.WindowEnd-WindowSize || r.DateTime > r.WindowEnd {
				t.Fatalf("row %+v: bid outside [end-10 s, end]", r)
			}
			for _, b := range bs {
				if b.DateTime >= r.WindowEnd-WindowSize && b.DateTime < r.WindowEnd && b.Price > r.Price {
					t.Fatalf("row %+v: bid %+v in the window is higher", r, b)
				}
			}
		}
		for _, b := range bs {
			if !ends[windowStart(b.DateTime, WindowSize)+WindowSize] {
				t.Fatalf("the window of bid %+v has no row", b)
			}
		}
	})

	t.Run("q8", func(t *testing.T) {
		rows := Q8(FromSlice(evs))
		if len(rows) == 0 {
			t.Fatal("no q8 rows in the generated stream")
		}
		for _, r := range rows {
			var person, auction bool
			for _, e := range evs {
				in := windowStart(e.DateTime(), WindowSize) == r.WindowStart
				person = person || in && e.Kind == KindPerson && e.Person.ID == r.ID && e.Person.Name == r.Name
				auction = auction || in && e.Kind == KindAuction && e.Auction.Seller == r.ID
			}
			if !person || !auction {
				t.Fatalf("row %+v: person in window %v, auction by them %v", r, person, auction)
			}
		}
	})

	t.Run("q11", func(t *testing.T) {
		rows := Q11(FromSlice(evs))
		var total int64
		for i, r := range rows {
			total += r.BidCount
			if i > 0 && rows[i-1].Bidder == r.Bidder && r.Start-(rows[i-1].End-SessionGap) <= SessionGap {
				t.Fatalf("sessions %+v and %+v are within the gap", rows[i-1], r)
			}
		}
		if total != int64(len(bs)) {
			t.Fatalf("sessions hold %d bids, want %d", total, len(bs))
		}
	})

	t.Run("q12", func(t *testing.T) {
		rows := Q12(FromSlice(evs), ProcTimeAtRate(DefaultBaseTime, 3000))
		var total int64
		for _, r := range rows {
			total += r.BidCount
		}
		if total != int64(len(bs)) {
			t.Fatalf("windows hold %d bids, want %d", total, len(bs))
		}
	})

	t.Run("order", func(t *testing.T) {
		// The event-time references do not depend on arrival order (no
		// event is dropped as late), so any interleaving gives the same
		// rows.
		sh := shuffled(evs)
		check(t, "q3", Q3(FromSlice(sh)), Q3(FromSlice(evs)))
		check(t, "q5", Q5(FromSlice(sh)), Q5(FromSlice(evs)))
		check(t, "q7", Q7(FromSlice(sh)), Q7(FromSlice(evs)))
		check(t, "q8", Q8(FromSlice(sh)), Q8(FromSlice(evs)))
		check(t, "q11", Q11(FromSlice(sh)), Q11(FromSlice(evs)))
	})
}

// TestGeneratedStreamIsNeverLate checks the premise of the event-time
// references, that no event is late: with the default OutOfOrderGroupSize
// each generator's event times never decrease, and in the interleaved
// stream no event is even 4 s behind the latest time seen before it, so it
// is not late under the SQL's watermark (dateTime - 4 s) however the
// watermark is combined across generators.
func TestGeneratedStreamIsNeverLate(t *testing.T) {
	evs := generatedStream(t)
	var latest int64
	for i, e := range evs {
		if i >= 3 && e.DateTime() < evs[i-3].DateTime() {
			t.Fatalf("event %d at %d precedes event %d of its generator at %d", i, e.DateTime(), i-3, evs[i-3].DateTime())
		}
		if e.DateTime() < latest-WatermarkDelay {
			t.Fatalf("event %d at %d is late: %d was seen before it", i, e.DateTime(), latest)
		}
		latest = max(latest, e.DateTime())
	}
}
