package nexmark

import (
	"cmp"
	"iter"
	"slices"
)

// Q3Row is a row of q3 (local item suggestion):
//
//	SELECT P.name, P.city, P.state, A.id
//	FROM auction AS A INNER JOIN person AS P on A.seller = P.id
//	WHERE A.category = 10 and (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')
type Q3Row struct {
	Name, City, State string
	ID                int64 // the auction's id
}

// Q3 is the reference for q3. The join is a regular (unwindowed) one, so it
// matches an auction with its seller whichever came first and however far
// apart in time: the result is the join of all persons with all auctions.
func Q3(events iter.Seq[*Event]) []Q3Row {
	type auction struct{ id, seller int64 }
	persons := make(map[int64][]Q3Row) // by person id; ID unset
	var auctions []auction
	for e := range events {
		switch e.Kind {
		case KindPerson:
			p := &e.Person
			if p.State == "OR" || p.State == "ID" || p.State == "CA" {
				persons[p.ID] = append(persons[p.ID], Q3Row{Name: p.Name, City: p.City, State: p.State})
			}
		case KindAuction:
			if e.Auction.Category == 10 {
				auctions = append(auctions, auction{e.Auction.ID, e.Auction.Seller})
			}
		}
	}
	var rows []Q3Row
	for _, a := range auctions {
		for _, p := range persons[a.seller] {
			p.ID = a.id
			rows = append(rows, p)
		}
	}
	SortQ3(rows)
	return rows
}

// SortQ3 puts q3 rows in canonical order: by auction id, then the rest.
func SortQ3(rows []Q3Row) {
	slices.SortFunc(rows, func(a, b Q3Row) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.City, b.City), cmp.Compare(a.State, b.State))
	})
}
