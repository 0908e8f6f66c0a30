package nexmark

import (
	"cmp"
	"iter"
	"slices"
)

// Q11Row is a row of q11 (user sessions): the number of bids a bidder made
// in one session.
//
//	SELECT B.bidder, count(*) as bid_count,
//	    SESSION_START(B.`dateTime`, INTERVAL '10' SECOND) as starttime,
//	    SESSION_END(B.`dateTime`, INTERVAL '10' SECOND) as endtime
//	FROM bid B
//	GROUP BY B.bidder, SESSION(B.`dateTime`, INTERVAL '10' SECOND);
type Q11Row struct {
	Bidder   int64
	BidCount int64
	Start    int64 // the session's first bid's dateTime
	End      int64 // its last bid's dateTime + 10 s (exclusive)
}

// Q11 is the reference for q11. Each bid opens a window [t, t+10 s); a
// bidder's windows merge into one session when they intersect, and Flink's
// TimeWindow.intersects includes the ends (start <= other.end && end >=
// other.start), so two bids exactly 10 s apart are in the same session. The
// sessions are thus the runs of a bidder's sorted bid times with no gap
// above 10 s; they do not depend on arrival order as long as no bid is late.
func Q11(events iter.Seq[*Event]) []Q11Row {
	times := make(map[int64][]int64) // bidder -> bid times
	for e := range events {
		if e.Kind == KindBid {
			times[e.Bid.Bidder] = append(times[e.Bid.Bidder], e.Bid.DateTime)
		}
	}
	var rows []Q11Row
	for bidder, ts := range times {
		slices.Sort(ts)
		cur := Q11Row{Bidder: bidder, Start: ts[0]}
		last := ts[0]
		for _, t := range ts {
			if t-last > SessionGap {
				cur.End = last + SessionGap
				rows = append(rows, cur)
				cur = Q11Row{Bidder: bidder, Start: t}
			}
			cur.BidCount++
			last = t
		}
		cur.End = last + SessionGap
		rows = append(rows, cur)
	}
	SortQ11(rows)
	return rows
}

// SortQ11 puts q11 rows in canonical order: by bidder, then session start.
func SortQ11(rows []Q11Row) {
	slices.SortFunc(rows, func(a, b Q11Row) int {
		return cmp.Or(cmp.Compare(a.Bidder, b.Bidder), cmp.Compare(a.Start, b.Start),
			cmp.Compare(a.End, b.End), cmp.Compare(a.BidCount, b.BidCount))
	})
}
