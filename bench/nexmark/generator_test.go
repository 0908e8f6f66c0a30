package nexmark

import (
	"math"
	"runtime"
	"slices"
	"testing"
)

// generate returns the first n events of cfg.
func generate(t testing.TB, cfg Config, n int) []Event {
	t.Helper()
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]Event, 0, n)
	var ev Event
	for len(evs) < n && g.Next(&ev) {
		evs = append(evs, ev)
	}
	return evs
}

func TestGeneratorIsDeterministic(t *testing.T) {
	a := generate(t, Config{Seed: 7}, 5000)
	b := generate(t, Config{Seed: 7}, 5000)
	if !slices.Equal(a, b) {
		t.Fatal("equal configs gave different streams")
	}
	c := generate(t, Config{Seed: 8}, 5000)
	if slices.Equal(a, c) {
		t.Fatal("seeds 7 and 8 gave the same stream")
	}
}

func TestGeneratorRestore(t *testing.T) {
	all := generate(t, Config{Seed: 3}, 3000)
	g, err := NewGenerator(Config{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	g.Restore(1234)
	var ev Event
	for i := 1234; i < len(all); i++ {
		if !g.Next(&ev) || ev != all[i] {
			t.Fatalf("event %d after Restore(1234) = %+v, want %+v", i, ev, all[i])
		}
	}
}

func TestGeneratorModel(t *testing.T) {
	const n = 100_000
	cfg := Config{Seed: 1}
	evs := generate(t, cfg, n)
	if len(evs) != n {
		t.Fatalf("got %d events, want %d", len(evs), n)
	}
	var counts [3]int
	var nextPerson, nextAuction int64 = FirstPersonID, FirstAuctionID
	var hotAuctionBids, hotBidderBids, extraBytes, bids int
	for i, ev := range evs {
		counts[ev.Kind]++
		// Rate 10,000/s: 100 µs between events, so event i is at i/10 ms.
		if want := DefaultBaseTime + int64(i)/10; ev.DateTime() != want {
			t.Fatalf("event %d at %d, want %d", i, ev.DateTime(), want)
		}
		// Event id i: kind by i mod 50, persons first, then auctions.
		wantKind := KindBid
		switch m := i % 50; {
		case m < 1:
			wantKind = KindPerson
		case m < 4:
			wantKind = KindAuction
		}
		if ev.Kind != wantKind {
			t.Fatalf("event %d is a %v, want a %v", i, ev.Kind, wantKind)
		}
		switch ev.Kind {
		case KindPerson:
			p := ev.Person
			if p.ID != nextPerson {
				t.Fatalf("person id %d, want %d", p.ID, nextPerson)
			}
			nextPerson++
			if !slices.Contains(usStates, p.State) || !slices.Contains(usCities, p.City) {
				t.Fatalf("person %+v: unknown state or city", p)
			}
			if len(p.CreditCard) != 19 || p.EmailAddress[len(p.EmailAddress)-4:] != ".com" {
				t.Fatalf("person %+v: bad credit card or e-mail", p)
			}
		case KindAuction:
			a := ev.Auction
			if a.ID != nextAuction {
				t.Fatalf("auction id %d, want %d", a.ID, nextAuction)
			}
			nextAuction++
			if a.Category < 10 || a.Category >= 15 || a.Expires <= a.DateTime || a.Reserve <= a.InitialBid {
				t.Fatalf("bad auction %+v", a)
			}
			if a.Seller < FirstPersonID || a.Seller >= nextPerson+personIDLead {
				t.Fatalf("auction %+v: seller beyond the person lead (next person %d)", a, nextPerson)
			}
		case KindBid:
			b := ev.Bid
			bids++
			extraBytes += len(b.Extra)
			if b.Auction < FirstAuctionID || b.Auction >= nextAuction+auctionIDLead {
				t.Fatalf("bid %+v: auction beyond the auction lead (next %d)", b, nextAuction)
			}
			if b.Bidder < FirstPersonID || b.Bidder >= nextPerson+personIDLead {
				t.Fatalf("bid %+v: bidder beyond the person lead (next %d)", b, nextPerson)
			}
			if b.Price < 100 || b.Price > 100_000_000 || b.Channel == "" || b.URL == "" {
				t.Fatalf("bad bid %+v", b)
			}
			if b.Auction == (nextAuction-1-FirstAuctionID)/100*100+FirstAuctionID {
				hotAuctionBids++
			}
			if b.Bidder == (nextPerson-1-FirstPersonID)/100*100+1+FirstPersonID {
				hotBidderBids++
			}
		}
	}
	if counts != [3]int{n / 50, 3 * n / 50, 46 * n / 50} {
		t.Fatalf("person, auction, bid counts %v, want 1:3:46 of %d", counts, n)
	}
	// Hot picks are 1-1/2 of bids' auctions and 1-1/4 of their bidders,
	// plus the cold picks that happen to hit them.
	if f := float64(hotAuctionBids) / float64(bids); f < 0.49 || f > 0.52 {
		t.Errorf("hot auction share %.3f, want about 0.5", f)
	}
	if f := float64(hotBidderBids) / float64(bids); f < 0.74 || f > 0.76 {
		t.Errorf("hot bidder share %.3f, want about 0.75", f)
	}
	// A bid's Extra pads 32 bytes to 100: 54 + [0, 28), 67.5 on average.
	if avg := float64(extraBytes) / float64(bids); math.Abs(avg-67.5) > 0.3 {
		t.Errorf("average bid extra %.2f bytes, want about 67.5", avg)
	}
}

func TestSplit(t *testing.T) {
	parts, err := Config{NumEvents: 10_001, FirstEventRate: 1000}.Split(3)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for i, p := range parts {
		total += p.NumEvents
		evs := generate(t, p, int(p.NumEvents)+1)
		if int64(len(evs)) != p.NumEvents {
			t.Fatalf("part %d: %d events, want %d", i, len(evs), p.NumEvents)
		}
		// Three generators at 1000/s together: 3 ms between one's events.
		for j, ev := range evs {
			if want := DefaultBaseTime + int64(j)*3; ev.DateTime() != want {
				t.Fatalf("part %d event %d at %d, want %d", i, j, ev.DateTime(), want)
			}
		}
		first := generate(t, Config{FirstEventID: p.FirstEventID}, 1)[0]
		if first.Kind != evs[0].Kind {
			t.Fatalf("part %d starts with a %v, want a %v", i, evs[0].Kind, first.Kind)
		}
	}
	if total != 10_001 || parts[2].FirstEventID != 2*3333 || parts[2].NumEvents != 3335 {
		t.Fatalf("parts %+v do not cover 10,001 events", parts)
	}
}

func TestGeneratorAllocations(t *testing.T) {
	g, err := NewGenerator(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	g.Next(&ev) // builds the shared tables
	// One allocation per person (its e-mail and credit card), none else.
	allocs := testing.AllocsPerRun(10, func() {
		for range 5000 {
			g.Next(&ev)
		}
	})
	if allocs > 100 {
		t.Fatalf("%v allocations per 5000 events, want at most 100 (one per person)", allocs)
	}
}

func TestNextPriceMatchesPow(t *testing.T) {
	r := newEventRand(1, 1)
	for range 1_000_000 {
		saved := r
		got := r.nextPrice()
		u := saved.float64()
		exact := math.Pow(10, u*6) * 100
		want := int64(math.Floor(exact + 0.5))
		if got != want && math.Abs(exact-math.Floor(exact)-0.5) > 1e-6 {
			t.Fatalf("u=%v: nextPrice %d, round(10^(6u)*100) %d", u, got, want)
		}
		if got < 100 || got > 100_000_000 {
			t.Fatalf("price %d out of [100, 1e8]", got)
		}
	}
}

// BenchmarkGenerator reports ns/event and, as allocs/event, the exact
// average number of allocations per event (the standard allocs/op rounds
// the one allocation per 50 events down to 0).
func BenchmarkGenerator(b *testing.B) {
	g, err := NewGenerator(Config{FirstEventRate: 10_000_000})
	if err != nil {
		b.Fatal(err)
	}
	var ev Event
	g.Next(&ev) // builds the shared tables
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if !g.Next(&ev) {
			b.Fatal("generator exhausted")
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N), "allocs/event")
}
