package nexmark

import (
	"errors"
	"fmt"
	"math"
)

// Ids start at these values so that queries find matches even on small
// streams (GeneratorConfig.FIRST_*_ID in both reference generators).
const (
	FirstPersonID   = 1000
	FirstAuctionID  = 1000
	FirstCategoryID = 10
)

// DefaultBaseTime is the event time of event number 0 when Config.BaseTime is
// zero: 2015-07-15T00:00:00Z in ms, Beam's NexmarkUtils.BASE_TIME. (The
// nexmark project's Flink source uses the wall clock at job submission,
// which makes its streams differ from run to run.)
const DefaultBaseTime int64 = 1436918400000

// Config controls the generated stream. Its fields and defaults are those of
// the nexmark project's NexmarkConfiguration (nexmark-flink) and of the
// GeneratorConfig built from it; a zero field takes the default named in its
// comment. The rate shape and the occasional-delay options of
// NexmarkConfiguration are absent because nexmark-flink's GeneratorConfig
// ignores them (it keeps a single inter-event delay).
type Config struct {
	// Seed selects the stream: equal Configs give equal streams, different
	// seeds give different random draws with the same distributions. Zero is
	// a valid seed.
	Seed uint64

	// NumEvents is the number of events to generate. Default 0: unbounded
	// (in practice a count so large that it is never reached, computed as
	// the Java generator does).
	NumEvents int64

	// FirstEventRate is the overall event rate, in events per second of event
	// time summed over all generators. It sets the inter-event delay, hence
	// how fast event time advances per event. Default 10,000
	// (NexmarkConfiguration). The published Flink figures were produced with
	// 10,000,000 (V1) and 100,000 (V2); see FlinkV1 and FlinkV2.
	FirstEventRate int64

	// NumEventGenerators is the number of generators running on parallel
	// timelines (Flink: the source's parallelism). Each one's inter-event
	// delay is multiplied by it, so the summed rate stays FirstEventRate.
	// Split sets it. Default 1.
	NumEventGenerators int

	// PersonProportion, AuctionProportion and BidProportion are the shares
	// of each event kind; event id modulo their sum decides the kind.
	// Defaults 1, 3 and 46.
	PersonProportion, AuctionProportion, BidProportion int

	// AvgPersonByteSize, AvgAuctionByteSize and AvgBidByteSize are the
	// idealised average sizes that the Extra field pads each event to.
	// Defaults 200, 500 and 100.
	AvgPersonByteSize, AvgAuctionByteSize, AvgBidByteSize int

	// HotAuctionRatio: a bid is for a hot auction with probability
	// 1-1/HotAuctionRatio. Default 2.
	HotAuctionRatio int
	// HotSellersRatio: an auction is by a hot seller with probability
	// 1-1/HotSellersRatio. Default 4.
	HotSellersRatio int
	// HotBiddersRatio: a bid is by a hot bidder with probability
	// 1-1/HotBiddersRatio. Default 4.
	HotBiddersRatio int

	// NumInFlightAuctions is the average number of auctions open at any time
	// per generator; it bounds the auction ids that cold bids pick and sets
	// the auctions' lengths. Default 100.
	NumInFlightAuctions int
	// NumActivePeople bounds the person ids that cold sellers and bidders
	// pick. Default 1000.
	NumActivePeople int

	// OutOfOrderGroupSize: events are permuted pseudo-randomly within groups
	// of this many event numbers; 1 means in order. Default 1. With groups
	// larger than the queries' 4 s watermark delay allows, events become late
	// and the reference queries (which drop nothing) no longer describe what
	// an engine emits.
	OutOfOrderGroupSize int64

	// BaseTime is the event time of event number 0, ms since the epoch.
	// Default DefaultBaseTime.
	BaseTime int64

	// FirstEventID is added to every event number to form the event id,
	// which decides the kind and the ids of the event. Default 0 (Beam);
	// nexmark-flink's table source uses 1. Split sets it per part.
	FirstEventID int64
	// FirstEventNumber is the number of the first event, which decides its
	// timestamp. Default 0 (Beam); nexmark-flink's table source uses 1.
	FirstEventNumber int64
}

// EnsureDefaults returns c with every zero field set to its default.
func (c Config) EnsureDefaults() Config {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	if c.FirstEventRate == 0 {
		c.FirstEventRate = 10_000
	}
	def(&c.NumEventGenerators, 1)
	def(&c.PersonProportion, 1)
	def(&c.AuctionProportion, 3)
	def(&c.BidProportion, 46)
	def(&c.AvgPersonByteSize, 200)
	def(&c.AvgAuctionByteSize, 500)
	def(&c.AvgBidByteSize, 100)
	def(&c.HotAuctionRatio, 2)
	def(&c.HotSellersRatio, 4)
	def(&c.HotBiddersRatio, 4)
	def(&c.NumInFlightAuctions, 100)
	def(&c.NumActivePeople, 1000)
	if c.OutOfOrderGroupSize == 0 {
		c.OutOfOrderGroupSize = 1
	}
	if c.BaseTime == 0 {
		c.BaseTime = DefaultBaseTime
	}
	return c
}

// Validate reports every problem with c (after EnsureDefaults) at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("nexmark: "+format, args...))
	}
	if c.NumEvents < 0 {
		bad("NumEvents %d is negative", c.NumEvents)
	}
	if c.FirstEventRate < 0 {
		bad("FirstEventRate %d is negative", c.FirstEventRate)
	}
	if c.NumEventGenerators < 0 {
		bad("NumEventGenerators %d is negative", c.NumEventGenerators)
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"PersonProportion", c.PersonProportion}, {"AuctionProportion", c.AuctionProportion},
		{"BidProportion", c.BidProportion}, {"AvgPersonByteSize", c.AvgPersonByteSize},
		{"AvgAuctionByteSize", c.AvgAuctionByteSize}, {"AvgBidByteSize", c.AvgBidByteSize},
		{"HotAuctionRatio", c.HotAuctionRatio}, {"HotSellersRatio", c.HotSellersRatio},
		{"HotBiddersRatio", c.HotBiddersRatio}, {"NumInFlightAuctions", c.NumInFlightAuctions},
		{"NumActivePeople", c.NumActivePeople},
	} {
		if f.v < 0 {
			bad("%s %d is negative", f.name, f.v)
		}
	}
	if c.OutOfOrderGroupSize < 0 {
		bad("OutOfOrderGroupSize %d is negative", c.OutOfOrderGroupSize)
	}
	if c.FirstEventID < 0 || c.FirstEventNumber < 0 {
		bad("FirstEventID %d and FirstEventNumber %d must not be negative", c.FirstEventID, c.FirstEventNumber)
	}
	return errors.Join(errs...)
}

// Split divides c's events among n generators on parallel timelines, as
// nexmark-flink's source does for a parallelism of n
// (GeneratorConfig.split): each part has a contiguous range of event ids and
// its own event numbers starting at FirstEventNumber, and every part's
// inter-event delay is n times the single generator's, so the parts together
// keep FirstEventRate. The last part takes the remainder.
func (c Config) Split(n int) ([]Config, error) {
	if n < 1 {
		return nil, fmt.Errorf("nexmark: splitting into %d generators: need at least 1", n)
	}
	c = c.EnsureDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	maxEvents := c.maxEvents()
	sub := maxEvents / int64(n)
	parts := make([]Config, n)
	first := c.FirstEventID
	for i := range parts {
		p := c
		p.NumEventGenerators = n
		p.FirstEventID = first
		p.NumEvents = sub
		if i == n-1 {
			p.NumEvents = maxEvents - sub*int64(n-1)
		}
		parts[i] = p
		first += sub
	}
	return parts, nil
}

func (c Config) totalProportion() int64 {
	return int64(c.PersonProportion + c.AuctionProportion + c.BidProportion)
}

// maxEvents is NumEvents, or for an unbounded stream the Java generator's
// stand-in: MaxInt64 scaled down so that size estimates cannot overflow.
func (c Config) maxEvents() int64 {
	if c.NumEvents > 0 {
		return c.NumEvents
	}
	biggest := max(c.AvgPersonByteSize, c.AvgAuctionByteSize, c.AvgBidByteSize)
	return math.MaxInt64 / (c.totalProportion() * int64(biggest))
}

// interEventDelayUs is the event-time distance between two consecutive
// events of one generator, in microseconds.
func (c Config) interEventDelayUs() float64 {
	return 1_000_000.0 / float64(c.FirstEventRate) * float64(c.NumEventGenerators)
}
