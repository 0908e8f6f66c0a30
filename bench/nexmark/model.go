package nexmark

import (
	"fmt"
	"iter"
)

// Person is a new user of the auction site (Nexmark's "person" table).
type Person struct {
	ID           int64
	Name         string
	EmailAddress string
	CreditCard   string
	City         string
	State        string
	DateTime     int64 // event time, ms since the epoch
	Extra        string
}

// Auction is an item put up for auction (Nexmark's "auction" table).
type Auction struct {
	ID          int64
	ItemName    string
	Description string
	InitialBid  int64
	Reserve     int64
	DateTime    int64 // event time, ms since the epoch
	Expires     int64 // ms since the epoch
	Seller      int64 // a Person.ID
	Category    int64
	Extra       string
}

// Bid is a bid on an auction (Nexmark's "bid" table).
type Bid struct {
	Auction  int64 // an Auction.ID
	Bidder   int64 // a Person.ID
	Price    int64
	Channel  string
	URL      string
	DateTime int64 // event time, ms since the epoch
	Extra    string
}

// Kind says which of an Event's three values is set. Its values are
// nexmark's event_type column: 0 person, 1 auction, 2 bid.
type Kind uint8

// The event kinds.
const (
	KindPerson Kind = iota
	KindAuction
	KindBid
)

func (k Kind) String() string {
	switch k {
	case KindPerson:
		return "person"
	case KindAuction:
		return "auction"
	case KindBid:
		return "bid"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Event is one element of the Nexmark stream: the value named by Kind is
// set and the other two are zero. The values are held inline, not behind
// pointers, so that a Generator can fill a caller's Event without
// allocating.
type Event struct {
	Kind    Kind
	Person  Person
	Auction Auction
	Bid     Bid
}

// DateTime is the event time of the value that is set, ms since the epoch:
// the SQL views' `dateTime` column, on which the queries' watermark and
// windows are defined.
func (e *Event) DateTime() int64 {
	switch e.Kind {
	case KindPerson:
		return e.Person.DateTime
	case KindAuction:
		return e.Auction.DateTime
	default:
		return e.Bid.DateTime
	}
}

// FromSlice yields pointers to the elements of events, for the reference
// queries.
func FromSlice(events []Event) iter.Seq[*Event] {
	return func(yield func(*Event) bool) {
		for i := range events {
			if !yield(&events[i]) {
				return
			}
		}
	}
}
