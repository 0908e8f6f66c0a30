package nexmark

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func bidAt(t, auction, bidder, price int64) Event {
	return Event{Kind: KindBid, Bid: Bid{Auction: auction, Bidder: bidder, Price: price, DateTime: t, Extra: "x"}}
}

func personAt(t, id int64, name, city, state string) Event {
	return Event{Kind: KindPerson, Person: Person{ID: id, Name: name, City: city, State: state, DateTime: t}}
}

func auctionAt(t, id, seller, category int64) Event {
	return Event{Kind: KindAuction, Auction: Auction{ID: id, Seller: seller, Category: category, DateTime: t, Expires: t + 1}}
}

// shuffled returns a copy of evs in a random order with a fixed seed: the
// references must not depend on arrival order.
func shuffled(evs []Event) []Event {
	s := slices.Clone(evs)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}

func check[R any](t *testing.T, name string, got, want []R) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", name, d)
	}
}

func TestStatelessQueries(t *testing.T) {
	evs := []Event{
		bidAt(2, 246, 7, 7),
		personAt(0, 1000, "Kate White", "Boise", "ID"),
		bidAt(1, 123, 5, 1000),
		bidAt(1, 1000, 6, 3),
	}
	check(t, "q0", Q0(FromSlice(evs)), []Q0Row{
		{123, 5, 1000, 1, "x"}, {1000, 6, 3, 1, "x"}, {246, 7, 7, 2, "x"},
	})
	check(t, "q1", Q1(FromSlice(evs)), []Q1Row{
		{123, 5, 908_000, 1, "x"}, {1000, 6, 2724, 1, "x"}, {246, 7, 6356, 2, "x"},
	})
	check(t, "q2", Q2(FromSlice(evs)), []Q2Row{{123, 1000}, {246, 7}})
}

func TestQ3(t *testing.T) {
	evs := []Event{
		personAt(0, 1, "Paul Smith", "Portland", "OR"),
		personAt(1, 2, "Luke Jones", "Seattle", "WA"),
		auctionAt(2, 10, 1, 10),  // OR seller, category 10
		auctionAt(3, 11, 2, 10),  // WA seller
		auctionAt(4, 12, 3, 11),  // category 11
		auctionAt(5, 13, 3, 10),  // before its seller
		auctionAt(6, 14, 99, 10), // seller never appears
		personAt(7, 3, "Kate White", "Los Angeles", "CA"),
	}
	want := []Q3Row{
		{"Paul Smith", "Portland", "OR", 10},
		{"Kate White", "Los Angeles", "CA", 13},
	}
	check(t, "q3", Q3(FromSlice(evs)), want)
	check(t, "q3 shuffled", Q3(FromSlice(shuffled(evs))), want)
}

func TestQ5(t *testing.T) {
	evs := []Event{
		bidAt(0, 1, 0, 1), bidAt(1000, 1, 0, 1), bidAt(1500, 2, 0, 1),
		bidAt(2500, 2, 0, 1), bidAt(11000, 3, 0, 1),
	}
	// Window [-8000, 2000) holds auction 1 twice and 2 once; the four up to
	// [0, 10000) hold both twice; [2000, 12000) holds 2 and 3 once; the
	// later ones only auction 3.
	want := []Q5Row{{-8000, 2000, 1, 2}}
	for s := int64(-6000); s <= 0; s += 2000 {
		want = append(want, Q5Row{s, s + 10000, 1, 2}, Q5Row{s, s + 10000, 2, 2})
	}
	want = append(want, Q5Row{2000, 12000, 2, 1}, Q5Row{2000, 12000, 3, 1})
	for s := int64(4000); s <= 10000; s += 2000 {
		want = append(want, Q5Row{s, s + 10000, 3, 1})
	}
	check(t, "q5", Q5(FromSlice(evs)), want)
	check(t, "q5 shuffled", Q5(FromSlice(shuffled(evs))), want)
}

func TestQ7(t *testing.T) {
	evs := []Event{
		bidAt(1000, 1, 0, 5), bidAt(3000, 2, 0, 9), bidAt(9999, 3, 0, 9),
		bidAt(10000, 4, 0, 9), bidAt(10000, 5, 0, 3), bidAt(15000, 6, 0, 4),
		bidAt(20000, 7, 0, 1),
		personAt(25000, 1, "", "", ""),
	}
	// [0, 10000) has maximum 9: its bids at 9 plus the one at exactly
	// 10000 (BETWEEN is closed). [10000, 20000) has maximum 9 too (the bid at
	// 10000); [20000, 30000) has 1.
	want := []Q7Row{
		{10000, 2, 0, 9, 3000, "x"}, {10000, 3, 0, 9, 9999, "x"}, {10000, 4, 0, 9, 10000, "x"},
		{20000, 4, 0, 9, 10000, "x"},
		{30000, 7, 0, 1, 20000, "x"},
	}
	check(t, "q7", Q7(FromSlice(evs)), want)
	check(t, "q7 shuffled", Q7(FromSlice(shuffled(evs))), want)

	// A bid on the closed end of a window without bids matches nothing
	// there, and one above that window's maximum does not match it.
	evs = []Event{bidAt(20000, 1, 0, 5), bidAt(5000, 2, 0, 3), bidAt(10000, 3, 0, 4)}
	want = []Q7Row{{10000, 2, 0, 3, 5000, "x"}, {20000, 3, 0, 4, 10000, "x"}, {30000, 1, 0, 5, 20000, "x"}}
	check(t, "q7 edges", Q7(FromSlice(evs)), want)
}

func TestQ8(t *testing.T) {
	evs := []Event{
		auctionAt(2000, 50, 4, 10), // before its seller, same window
		personAt(1000, 1, "Paul Smith", "", ""),
		personAt(3000, 4, "Saul Noris", "", ""),
		auctionAt(5000, 51, 1, 10),
		personAt(9000, 2, "Luke Jones", "", ""),
		auctionAt(10500, 52, 2, 10), // next window
		personAt(12000, 3, "Kate White", "", ""),
		auctionAt(13000, 53, 3, 10),
		auctionAt(14000, 54, 3, 11), // grouped: one row
	}
	want := []Q8Row{{1, "Paul Smith", 0}, {4, "Saul Noris", 0}, {3, "Kate White", 10000}}
	check(t, "q8", Q8(FromSlice(evs)), want)
	check(t, "q8 shuffled", Q8(FromSlice(shuffled(evs))), want)
}

func TestQ11(t *testing.T) {
	evs := []Event{
		bidAt(0, 1, 1, 1), bidAt(5000, 1, 1, 1),
		bidAt(15000, 1, 1, 1), // exactly 10 s after the last: same session
		bidAt(25001, 1, 1, 1), // 10.001 s after: a new one
		bidAt(100, 1, 2, 1),
	}
	want := []Q11Row{{1, 3, 0, 25000}, {1, 1, 25001, 35001}, {2, 1, 100, 10100}}
	check(t, "q11", Q11(FromSlice(evs)), want)
	check(t, "q11 shuffled", Q11(FromSlice(shuffled(evs))), want)
}

func TestQ12(t *testing.T) {
	// A person first, then 25 bids alternating bidders; one event per
	// second of processing time, so event i is handled at i s.
	evs := []Event{personAt(0, 1, "", "", "")}
	for i := range int64(25) {
		evs = append(evs, bidAt(0, 1, i%2, 1))
	}
	// Events 1-9 (bids 0-8) are in [0, 10 s): bidder 0 has bids 0,2,4,6,8.
	want := []Q12Row{
		{0, 5, 0, 10000}, {1, 4, 0, 10000},
		{0, 5, 10000, 20000}, {1, 5, 10000, 20000},
		{0, 3, 20000, 30000}, {1, 3, 20000, 30000},
	}
	check(t, "q12", Q12(FromSlice(evs), ProcTimeAtRate(0, 1)), want)
}

func TestDiff(t *testing.T) {
	want := []Q2Row{{1, 1}, {1, 1}, {2, 2}, {3, 3}}
	got := []Q2Row{{3, 3}, {1, 1}, {4, 4}, {2, 2}}
	missing, unexpected := Diff(want, got)
	check(t, "missing", missing, []Q2Row{{1, 1}})
	check(t, "unexpected", unexpected, []Q2Row{{4, 4}})
	if m, u := Diff(want, []Q2Row{{2, 2}, {1, 1}, {3, 3}, {1, 1}}); m != nil || u != nil {
		t.Errorf("Diff of a permutation: missing %v, unexpected %v", m, u)
	}
}
