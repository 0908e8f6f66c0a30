package nexmark

import (
	"cmp"
	"iter"
	"slices"
)

// Q8Row is a row of q8 (monitor new users): a person who entered the system
// and also created an auction in the same 10 s tumbling window.
//
//	SELECT P.id, P.name, P.starttime
//	FROM (SELECT id, name, window_start AS starttime, window_end AS endtime
//	      FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
//	      GROUP BY id, name, window_start, window_end) P
//	JOIN (SELECT seller, window_start AS starttime, window_end AS endtime
//	      FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
//	      GROUP BY seller, window_start, window_end) A
//	ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime;
type Q8Row struct {
	ID          int64
	Name        string
	WindowStart int64 // stime; the window ends 10 s later
}

// Q8 is the reference for q8. Both sides are grouped, so a person appears
// once per window whatever the number of their auctions in it.
func Q8(events iter.Seq[*Event]) []Q8Row {
	type person struct {
		start, id int64
		name      string
	}
	type seller struct{ start, id int64 }
	persons := make(map[person]bool)
	sellers := make(map[seller]bool)
	for e := range events {
		switch e.Kind {
		case KindPerson:
			p := &e.Person
			persons[person{windowStart(p.DateTime, WindowSize), p.ID, p.Name}] = true
		case KindAuction:
			a := &e.Auction
			sellers[seller{windowStart(a.DateTime, WindowSize), a.Seller}] = true
		}
	}
	var rows []Q8Row
	for p := range persons {
		if sellers[seller{p.start, p.id}] {
			rows = append(rows, Q8Row{p.id, p.name, p.start})
		}
	}
	SortQ8(rows)
	return rows
}

// SortQ8 puts q8 rows in canonical order: by window, then person.
func SortQ8(rows []Q8Row) {
	slices.SortFunc(rows, func(a, b Q8Row) int {
		return cmp.Or(cmp.Compare(a.WindowStart, b.WindowStart), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Name, b.Name))
	})
}
