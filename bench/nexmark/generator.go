package nexmark

import (
	"iter"
)

// Constants of nexmark-flink's PersonGenerator, AuctionGenerator and
// BidGenerator.
const (
	// personIDLead and auctionIDLead: cold picks may name up to this many
	// persons or auctions that are not generated yet, so a bid can precede
	// its auction and an auction its seller.
	personIDLead  = 10
	auctionIDLead = 10
	// numCategories keeps query 3's category 10 frequent.
	numCategories = 5
	// hotSellerRatio, hotAuctionRatio and hotBidderRatio: a hot pick is the
	// first (for bidders the second) of the latest batch of this many
	// persons or auctions.
	hotSellerRatio  = 100
	hotAuctionRatio = 100
	hotBidderRatio  = 100
)

// Generator produces one generator's share of the Nexmark stream, as
// nexmark-flink's NexmarkGenerator does: event number n (counted from
// Config.FirstEventNumber) gets the event id FirstEventID+n, which decides
// its kind (id modulo the proportions' sum: persons first, then auctions,
// then bids) and the ids it mentions, and the event time
// BaseTime + floor(n * interEventDelayUs) / 1000 ms, which never decreases.
// Every other field is drawn from a random source seeded by (Seed, event
// id), so the event depends on nothing else (see eventRand).
//
// A Generator is not safe for concurrent use; run one per goroutine (see
// Config.Split).
type Generator struct {
	cfg       Config
	t         *stringTables
	total     int64   // the proportions' sum
	delayUs   float64 // inter-event delay in µs
	maxEvents int64
	count     int64  // events generated so far
	buf       []byte // scratch for a person's e-mail and credit card
}

// NewGenerator returns a generator for cfg, after cfg.EnsureDefaults.
func NewGenerator(cfg Config) (*Generator, error) {
	cfg = cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Generator{
		cfg:       cfg,
		t:         sharedTables(),
		total:     cfg.totalProportion(),
		delayUs:   cfg.interEventDelayUs(),
		maxEvents: cfg.maxEvents(),
		buf:       make([]byte, 0, 64),
	}, nil
}

// Config is the generator's configuration, defaults filled in.
func (g *Generator) Config() Config { return g.cfg }

// Count is the number of events generated so far: the state a source must
// checkpoint to resume the stream with Restore.
func (g *Generator) Count() int64 { return g.count }

// Restore makes the next event the one a fresh generator would produce after
// count events.
func (g *Generator) Restore(count int64) { g.count = count }

// HasNext reports whether another event remains.
func (g *Generator) HasNext() bool { return g.count < g.maxEvents }

// Next fills ev with the next event and reports whether there was one. It
// overwrites all of ev, and ev's strings stay valid after later calls.
func (g *Generator) Next(ev *Event) bool {
	if g.count >= g.maxEvents {
		return false
	}
	n := g.adjustedEventNumber(g.count)
	id := g.cfg.FirstEventID + n
	ts := g.timestampForEvent(n)
	r := newEventRand(g.cfg.Seed, id)
	switch rem := id % g.total; {
	case rem < int64(g.cfg.PersonProportion):
		ev.Kind = KindPerson
		ev.Auction, ev.Bid = Auction{}, Bid{}
		g.nextPerson(&ev.Person, id, &r, ts)
	case rem < int64(g.cfg.PersonProportion+g.cfg.AuctionProportion):
		ev.Kind = KindAuction
		ev.Person, ev.Bid = Person{}, Bid{}
		g.nextAuction(&ev.Auction, id, &r, ts)
	default:
		ev.Kind = KindBid
		ev.Person, ev.Auction = Person{}, Auction{}
		g.nextBid(&ev.Bid, id, &r, ts)
	}
	g.count++
	return true
}

// Events yields the remaining events. The *Event is reused: it is valid until
// the next iteration (copy what you keep; its strings may be kept as they
// are).
func (g *Generator) Events() iter.Seq[*Event] {
	return func(yield func(*Event) bool) {
		var ev Event
		for g.Next(&ev) {
			if !yield(&ev) {
				return
			}
		}
	}
}

// Watermark is the generator watermark of Beam's and nexmark-flink's
// NextEvent: a lower bound on the event time of the next event and of every
// later event of this generator (the time of the first event number of the
// next event's out-of-order group). The nexmark SQL queries do not use it;
// their watermark is dateTime minus 4 s.
func (g *Generator) Watermark() int64 {
	n := g.cfg.FirstEventNumber + g.count
	k := g.cfg.OutOfOrderGroupSize
	return g.timestampForEvent(n / k * k)
}

// adjustedEventNumber is GeneratorConfig.nextAdjustedEventNumber: the event
// number, permuted within groups of OutOfOrderGroupSize.
func (g *Generator) adjustedEventNumber(count int64) int64 {
	n := g.cfg.FirstEventNumber + count
	k := g.cfg.OutOfOrderGroupSize
	if k == 1 {
		return n
	}
	return n/k*k + (n*953)%k
}

// timestampForEvent is GeneratorConfig.timestampForEvent, including its
// truncation of the µs product before the integer division.
func (g *Generator) timestampForEvent(n int64) int64 {
	return g.cfg.BaseTime + int64(float64(n)*g.delayUs)/1000
}

// lastBase0PersonID is the id (from 0) of the latest person at event id id,
// which is id's own person if id is a person event.
func (g *Generator) lastBase0PersonID(id int64) int64 {
	epoch, off := id/g.total, id%g.total
	pp := int64(g.cfg.PersonProportion)
	if off >= pp {
		off = pp - 1
	}
	return epoch*pp + off
}

// lastBase0AuctionID is the id (from 0) of the latest auction at event id
// id, which is id's own auction if id is an auction event (-1 before the
// first auction).
func (g *Generator) lastBase0AuctionID(id int64) int64 {
	epoch, off := id/g.total, id%g.total
	pp, ap := int64(g.cfg.PersonProportion), int64(g.cfg.AuctionProportion)
	switch {
	case off < pp:
		epoch--
		off = ap - 1
	case off >= pp+ap:
		off = ap - 1
	default:
		off -= pp
	}
	return epoch*ap + off
}

// nextBase0PersonID picks a person among the NumActivePeople latest ones
// plus personIDLead not yet generated.
func (g *Generator) nextBase0PersonID(id int64, r *eventRand) int64 {
	numPeople := g.lastBase0PersonID(id) + 1
	active := min(numPeople, int64(g.cfg.NumActivePeople))
	return numPeople - active + r.intn(active+personIDLead)
}

// nextBase0AuctionID picks an auction among the NumInFlightAuctions latest
// ones plus auctionIDLead not yet generated.
func (g *Generator) nextBase0AuctionID(id int64, r *eventRand) int64 {
	hi := g.lastBase0AuctionID(id)
	lo := max(hi-int64(g.cfg.NumInFlightAuctions), 0)
	return lo + r.intn(hi-lo+1+auctionIDLead)
}

func (g *Generator) nextPerson(p *Person, id int64, r *eventRand, ts int64) {
	t := g.t
	p.ID = g.lastBase0PersonID(id) + FirstPersonID
	p.Name = t.names[r.intn(int64(len(firstNames)))*int64(len(lastNames))+r.intn(int64(len(lastNames)))]
	// The e-mail address and the credit card share one allocation.
	b := g.buf[:0]
	b = append(b, t.nextString(r, 7)...)
	b = append(b, '@')
	b = append(b, t.nextString(r, 5)...)
	b = append(b, ".com"...)
	emailLen := len(b)
	for i := range 4 {
		if i > 0 {
			b = append(b, ' ')
		}
		v := r.intn(10_000)
		b = append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
	}
	s := string(b)
	g.buf = b
	p.EmailAddress, p.CreditCard = s[:emailLen], s[emailLen:]
	p.City = usCities[r.intn(int64(len(usCities)))]
	p.State = usStates[r.intn(int64(len(usStates)))]
	p.DateTime = ts
	size := 8 + len(p.Name) + len(p.EmailAddress) + len(p.CreditCard) + len(p.City) + len(p.State)
	p.Extra = t.nextExtra(r, size, g.cfg.AvgPersonByteSize)
}

func (g *Generator) nextAuction(a *Auction, id int64, r *eventRand, ts int64) {
	t := g.t
	a.ID = g.lastBase0AuctionID(id) + FirstAuctionID
	// An auction is by a hot seller with probability 1-1/HotSellersRatio.
	if r.intn(int64(g.cfg.HotSellersRatio)) > 0 {
		a.Seller = g.lastBase0PersonID(id) / hotSellerRatio * hotSellerRatio
	} else {
		a.Seller = g.nextBase0PersonID(id, r)
	}
	a.Seller += FirstPersonID
	a.Category = FirstCategoryID + r.intn(numCategories)
	a.InitialBid = r.nextPrice()
	a.DateTime = ts
	a.Expires = ts + g.nextAuctionLengthMs(r, ts)
	a.ItemName = t.nextString(r, 20)
	a.Description = t.nextString(r, 100)
	a.Reserve = a.InitialBid + r.nextPrice()
	size := 8 + len(a.ItemName) + len(a.Description) + 8 + 8 + 8 + 8 + 8
	a.Extra = t.nextExtra(r, size, g.cfg.AvgAuctionByteSize)
}

// nextAuctionLengthMs is AuctionGenerator.nextAuctionLengthMs: uniform in
// [1, 2*horizon], where horizon is the event time until NumInFlightAuctions
// more auctions have been generated, so that about that many are open at
// once.
func (g *Generator) nextAuctionLengthMs(r *eventRand, ts int64) int64 {
	n := g.adjustedEventNumber(g.count)
	eventsForAuctions := int64(g.cfg.NumInFlightAuctions) * g.total / int64(g.cfg.AuctionProportion)
	horizon := g.timestampForEvent(n+eventsForAuctions) - ts
	return 1 + r.intn(max(horizon*2, 1))
}

func (g *Generator) nextBid(b *Bid, id int64, r *eventRand, ts int64) {
	t := g.t
	// A bid is for a hot auction with probability 1-1/HotAuctionRatio.
	if r.intn(int64(g.cfg.HotAuctionRatio)) > 0 {
		b.Auction = g.lastBase0AuctionID(id) / hotAuctionRatio * hotAuctionRatio
	} else {
		b.Auction = g.nextBase0AuctionID(id, r)
	}
	b.Auction += FirstAuctionID
	// A bid is by a hot bidder with probability 1-1/HotBiddersRatio; hot
	// bidders are the second person of a batch so that they are not also
	// the hot sellers.
	if r.intn(int64(g.cfg.HotBiddersRatio)) > 0 {
		b.Bidder = g.lastBase0PersonID(id)/hotBidderRatio*hotBidderRatio + 1
	} else {
		b.Bidder = g.nextBase0PersonID(id, r)
	}
	b.Bidder += FirstPersonID
	b.Price = r.nextPrice()
	if r.intn(hotChannelsRatio) > 0 {
		i := r.intn(int64(len(hotChannels)))
		b.Channel, b.URL = hotChannels[i], t.hotURLs[i]
	} else {
		i := r.intn(channelsNumber)
		b.Channel, b.URL = t.channels[i], t.channelURLs[i]
	}
	b.DateTime = ts
	b.Extra = t.nextExtra(r, 8+8+8+8, g.cfg.AvgBidByteSize)
}
