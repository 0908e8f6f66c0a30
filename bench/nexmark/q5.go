package nexmark

import (
	"cmp"
	"iter"
	"slices"
)

// Q5Row is a row of q5 (hot items): for each 10 s window sliding by 2 s
// (HOP(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '2' SECOND, INTERVAL '10'
// SECOND)), every auction whose bid count in the window is the window's
// largest (ties give several rows). The SQL's output has only auction and
// num; the window is kept here so that rows of different windows stay
// apart; drop it to compare with an engine that does not emit it.
type Q5Row struct {
	WindowStart, WindowEnd int64
	Auction                int64
	Num                    int64 // bids on Auction in the window
}

// Q5 is the reference for q5. It assigns each bid to the five windows
// [s, s+10 s) with s a multiple of 2 s and dateTime-10 s < s <= dateTime,
// counts bids per (window, auction) and keeps, per window, the auctions
// whose count is the window's maximum (the SQL's join on num >= maxn).
// Every window that holds a bid appears: an engine fires the last ones when
// the end of input advances the watermark to the end of time.
func Q5(events iter.Seq[*Event]) []Q5Row {
	counts := make(map[int64]map[int64]int64) // window start -> auction -> bids
	for e := range events {
		if e.Kind != KindBid {
			continue
		}
		hopStarts(e.Bid.DateTime, WindowSize, HopSlide, func(s int64) {
			w := counts[s]
			if w == nil {
				w = make(map[int64]int64)
				counts[s] = w
			}
			w[e.Bid.Auction]++
		})
	}
	var rows []Q5Row
	for s, w := range counts {
		var maxn int64
		for _, n := range w {
			maxn = max(maxn, n)
		}
		for a, n := range w {
			if n >= maxn {
				rows = append(rows, Q5Row{s, s + WindowSize, a, n})
			}
		}
	}
	SortQ5(rows)
	return rows
}

// SortQ5 puts q5 rows in canonical order: by window, then auction.
func SortQ5(rows []Q5Row) {
	slices.SortFunc(rows, func(a, b Q5Row) int {
		return cmp.Or(cmp.Compare(a.WindowStart, b.WindowStart), cmp.Compare(a.WindowEnd, b.WindowEnd),
			cmp.Compare(a.Auction, b.Auction), cmp.Compare(a.Num, b.Num))
	})
}
