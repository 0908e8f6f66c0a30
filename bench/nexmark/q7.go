package nexmark

import (
	"cmp"
	"iter"
	"math"
	"slices"
)

// Q7Row is a row of q7 (highest bid):
//
//	SELECT B.auction, B.price, B.bidder, B.`dateTime`, B.extra
//	from bid B
//	JOIN (
//	  SELECT MAX(price) AS maxprice, window_end as `dateTime`
//	  FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
//	  GROUP BY window_start, window_end
//	) B1
//	ON B.price = B1.maxprice
//	WHERE B.`dateTime` BETWEEN B1.`dateTime` - INTERVAL '10' SECOND AND B1.`dateTime`;
//
// The fields are named for what they hold. (The SQL selects price before
// bidder into a sink declared (auction, bidder, price, ...), so Flink's sink
// gets them swapped by position; that changes nothing for the benchmark.)
// WindowEnd is B1.`dateTime`, which the SQL does not output; it is kept so
// that a bid matching two windows gives two distinct rows.
type Q7Row struct {
	WindowEnd              int64
	Auction, Bidder, Price int64
	DateTime               int64
	Extra                  string
}

// Q7 is the reference for q7: for each 10 s tumbling window [end-10 s, end)
// that holds bids, with highest price M, every bid whose price is M and
// whose dateTime lies in [end-10 s, end]. BETWEEN includes both ends, so a
// bid at exactly end (which belongs to the next window) also matches if its
// price equals this window's maximum. The join is a regular one, so the
// result does not depend on arrival order. It reads the events once,
// keeping per window only the bids that could still be its maximum.
func Q7(events iter.Seq[*Event]) []Q7Row {
	type window struct {
		maxPrice   int64
		candidates []Q7Row // bids whose price was >= maxPrice when seen
	}
	windows := make(map[int64]*window) // by end
	get := func(end int64) *window {
		w := windows[end]
		if w == nil {
			w = &window{maxPrice: math.MinInt64}
			windows[end] = w
		}
		return w
	}
	for e := range events {
		if e.Kind != KindBid {
			continue
		}
		b := &e.Bid
		start := windowStart(b.DateTime, WindowSize)
		// The bid's own window, whose maximum it counts towards.
		w := get(start + WindowSize)
		if b.Price >= w.maxPrice {
			w.maxPrice = b.Price
			w.candidates = append(w.candidates, Q7Row{start + WindowSize, b.Auction, b.Bidder, b.Price, b.DateTime, b.Extra})
		}
		// The previous window, if the bid lies on its closed upper end.
		if b.DateTime == start {
			if w := get(start); b.Price >= w.maxPrice {
				w.candidates = append(w.candidates, Q7Row{start, b.Auction, b.Bidder, b.Price, b.DateTime, b.Extra})
			}
		}
	}
	var rows []Q7Row
	for _, w := range windows {
		// A window that holds no bid of its own has no B1 row, and its
		// maxPrice is still MinInt64, which no candidate's price equals.
		for _, r := range w.candidates {
			if r.Price == w.maxPrice {
				rows = append(rows, r)
			}
		}
	}
	SortQ7(rows)
	return rows
}

// SortQ7 puts q7 rows in canonical order: by window, then time, then the
// rest.
func SortQ7(rows []Q7Row) {
	slices.SortFunc(rows, func(a, b Q7Row) int {
		return cmp.Or(cmp.Compare(a.WindowEnd, b.WindowEnd), cmp.Compare(a.DateTime, b.DateTime),
			cmp.Compare(a.Auction, b.Auction), cmp.Compare(a.Bidder, b.Bidder),
			cmp.Compare(a.Price, b.Price), cmp.Compare(a.Extra, b.Extra))
	})
}
