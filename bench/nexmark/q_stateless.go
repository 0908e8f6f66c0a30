package nexmark

import (
	"cmp"
	"iter"
	"slices"
)

// Q0Row is a row of q0 (pass through): INSERT INTO nexmark_q0 SELECT
// auction, bidder, price, `dateTime`, extra FROM bid.
type Q0Row struct {
	Auction, Bidder, Price int64
	DateTime               int64
	Extra                  string
}

// Q0 is the reference for q0: every bid, projected.
func Q0(events iter.Seq[*Event]) []Q0Row {
	var rows []Q0Row
	for e := range events {
		if e.Kind == KindBid {
			b := &e.Bid
			rows = append(rows, Q0Row{b.Auction, b.Bidder, b.Price, b.DateTime, b.Extra})
		}
	}
	SortQ0(rows)
	return rows
}

// SortQ0 puts q0 rows in canonical order: by time, then by every column.
func SortQ0(rows []Q0Row) {
	slices.SortFunc(rows, func(a, b Q0Row) int {
		return cmp.Or(cmp.Compare(a.DateTime, b.DateTime), cmp.Compare(a.Auction, b.Auction),
			cmp.Compare(a.Bidder, b.Bidder), cmp.Compare(a.Price, b.Price), cmp.Compare(a.Extra, b.Extra))
	})
}

// Q1Row is a row of q1 (currency conversion): SELECT auction, bidder, 0.908
// * price AS price, `dateTime`, extra FROM bid, where price is a
// DECIMAL(23, 3).
type Q1Row struct {
	Auction, Bidder int64
	// PriceThousandths is the euro price 0.908*price as the exact
	// DECIMAL(23, 3) the SQL produces, in thousandths: price*908.
	PriceThousandths int64
	DateTime         int64
	Extra            string
}

// Q1 is the reference for q1.
func Q1(events iter.Seq[*Event]) []Q1Row {
	var rows []Q1Row
	for e := range events {
		if e.Kind == KindBid {
			b := &e.Bid
			rows = append(rows, Q1Row{b.Auction, b.Bidder, b.Price * 908, b.DateTime, b.Extra})
		}
	}
	SortQ1(rows)
	return rows
}

// SortQ1 puts q1 rows in canonical order: by time, then by every column.
func SortQ1(rows []Q1Row) {
	slices.SortFunc(rows, func(a, b Q1Row) int {
		return cmp.Or(cmp.Compare(a.DateTime, b.DateTime), cmp.Compare(a.Auction, b.Auction),
			cmp.Compare(a.Bidder, b.Bidder), cmp.Compare(a.PriceThousandths, b.PriceThousandths),
			cmp.Compare(a.Extra, b.Extra))
	})
}

// Q2Row is a row of q2 (selection): SELECT auction, price FROM bid WHERE
// MOD(auction, 123) = 0. (The original Nexmark q2 picks five fixed auction
// ids; Beam and the nexmark project take every 123rd auction so that the
// result grows with the stream.)
type Q2Row struct {
	Auction, Price int64
}

// Q2 is the reference for q2.
func Q2(events iter.Seq[*Event]) []Q2Row {
	var rows []Q2Row
	for e := range events {
		if e.Kind == KindBid && e.Bid.Auction%123 == 0 {
			rows = append(rows, Q2Row{e.Bid.Auction, e.Bid.Price})
		}
	}
	SortQ2(rows)
	return rows
}

// SortQ2 puts q2 rows in canonical order: by auction, then price.
func SortQ2(rows []Q2Row) {
	slices.SortFunc(rows, func(a, b Q2Row) int {
		return cmp.Or(cmp.Compare(a.Auction, b.Auction), cmp.Compare(a.Price, b.Price))
	})
}
