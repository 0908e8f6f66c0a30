package nexmark

import (
	"cmp"
	"iter"
	"slices"
)

// Q12Row is a row of q12 (processing-time windows): the number of bids a
// bidder made in one 10 s tumbling window of processing time.
//
//	CREATE VIEW B AS SELECT *, PROCTIME() as p_time FROM bid;
//	SELECT bidder, count(*) as bid_count, window_start AS starttime, window_end AS endtime
//	FROM TABLE(TUMBLE(TABLE B, DESCRIPTOR(p_time), INTERVAL '10' SECOND))
//	GROUP BY bidder, window_start, window_end;
type Q12Row struct {
	Bidder     int64
	BidCount   int64
	Start, End int64 // the processing-time window, ms since the epoch
}

// ProcTime assigns the processing time, in ms since the epoch, at which the
// engine handles the i-th event (counted from 0 over all events, not only
// bids) of the input.
type ProcTime func(i int64, e *Event) int64

// ProcTimeAtRate is the processing time of an engine that starts at start
// and handles eventsPerSecond events per second, evenly: event i at start +
// floor(i*1000/eventsPerSecond) ms.
func ProcTimeAtRate(start, eventsPerSecond int64) ProcTime {
	return func(i int64, _ *Event) int64 { return start + i*1000/eventsPerSecond }
}

// Q12 is the reference for q12. Processing time is not a property of the
// events, so the result depends on when the engine handled each bid; Q12
// takes that as procTime, which makes the reference deterministic: a bid
// handled at p belongs to the window [floor(p/10 s)*10 s, +10 s) (aligned to
// the epoch, i.e. to UTC for Flink's TIMESTAMP_LTZ p_time), and a row counts
// a bidder's bids in one window. Every window that holds a bid is included;
// an engine must fire its last, partial window at the end of input to
// match. To check an engine, record the processing time it stamped on each
// bid (or drive its processing-time clock from the same ProcTime) and
// compare; with a real clock only totals per bidder are comparable.
func Q12(events iter.Seq[*Event], procTime ProcTime) []Q12Row {
	type key struct{ start, bidder int64 }
	counts := make(map[key]int64)
	var i int64
	for e := range events {
		if e.Kind == KindBid {
			counts[key{windowStart(procTime(i, e), WindowSize), e.Bid.Bidder}]++
		}
		i++
	}
	rows := make([]Q12Row, 0, len(counts))
	for k, n := range counts {
		rows = append(rows, Q12Row{k.bidder, n, k.start, k.start + WindowSize})
	}
	SortQ12(rows)
	return rows
}

// SortQ12 puts q12 rows in canonical order: by window, then bidder.
func SortQ12(rows []Q12Row) {
	slices.SortFunc(rows, func(a, b Q12Row) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.Bidder, b.Bidder), cmp.Compare(a.BidCount, b.BidCount))
	})
}
