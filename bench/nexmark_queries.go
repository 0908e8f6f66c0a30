package main

import (
	"math"
	"time"

	"github.com/tide-stream/tide/bench/nexmark"
	"github.com/tide-stream/tide/stream"
)

// The Nexmark queries as Tide jobs, written against the public stream API
// as a user would. Each projects the events it needs before its first
// exchange, as Flink's planner does for the SQL, and gives binary codecs
// to what crosses a subtask boundary (nexmark_codec.go). Results are
// nexmark's QnRow types so that they compare with the references as they
// are.

func isBid(e nexmark.Event) bool { return e.Kind == nexmark.KindBid }

// windowStartOf is the start of the epoch-aligned size-long window holding
// t (t >= 0 here: Nexmark times are after 2015).
func windowStartOf(t, size int64) int64 { return t - t%size }

// q0: pass-through of every bid, projected.
func q0(src stream.DataStream[nexmark.Event]) stream.DataStream[nexmark.Q0Row] {
	return stream.Map(stream.Filter(src, "q0 bids", isBid), "q0 project", func(e nexmark.Event) nexmark.Q0Row {
		b := &e.Bid
		return nexmark.Q0Row{Auction: b.Auction, Bidder: b.Bidder, Price: b.Price, DateTime: b.DateTime, Extra: b.Extra}
	})
}

// q1: currency conversion, the price as an exact DECIMAL(23, 3) in
// thousandths.
func q1(src stream.DataStream[nexmark.Event]) stream.DataStream[nexmark.Q1Row] {
	return stream.Map(stream.Filter(src, "q1 bids", isBid), "q1 convert", func(e nexmark.Event) nexmark.Q1Row {
		b := &e.Bid
		return nexmark.Q1Row{Auction: b.Auction, Bidder: b.Bidder, PriceThousandths: b.Price * 908, DateTime: b.DateTime, Extra: b.Extra}
	})
}

// q2: the bids on every 123rd auction.
func q2(src stream.DataStream[nexmark.Event]) stream.DataStream[nexmark.Q2Row] {
	sel := stream.Filter(src, "q2 select", func(e nexmark.Event) bool { return e.Kind == nexmark.KindBid && e.Bid.Auction%123 == 0 })
	return stream.Map(sel, "q2 project", func(e nexmark.Event) nexmark.Q2Row {
		return nexmark.Q2Row{Auction: e.Bid.Auction, Price: e.Bid.Price}
	})
}

// q3Person is a person of q3's states, projected; q3Auction an auction of
// category 10.
type q3Person struct {
	ID                int64
	Name, City, State string
}

type q3Auction struct{ ID, Seller int64 }

var (
	q3PersonCodec = fieldCodec[q3Person]{
		enc: func(e *enc, p q3Person) { e.int(p.ID); e.str(p.Name); e.str(p.City); e.str(p.State) },
		dec: func(d *dec) q3Person { return q3Person{ID: d.int(), Name: d.str(), City: d.str(), State: d.str()} },
	}
	q3AuctionCodec = fieldCodec[q3Auction]{
		enc: func(e *enc, a q3Auction) { e.int(a.ID); e.int(a.Seller) },
		dec: func(d *dec) q3Auction { return q3Auction{ID: d.int(), Seller: d.int()} },
	}
)

// q3In is an event q3 reads, projected: a person of q3's states or an
// auction of category 10.
type q3In struct {
	IsPerson bool
	Person   q3Person
	Auction  q3Auction
}

var q3InCodec = fieldCodec[q3In]{
	enc: func(e *enc, v q3In) {
		if v.IsPerson {
			e.int(1)
			q3PersonCodec.enc(e, v.Person)
			return
		}
		e.int(0)
		q3AuctionCodec.enc(e, v.Auction)
	},
	dec: func(d *dec) q3In {
		if d.int() == 1 {
			return q3In{IsPerson: true, Person: q3PersonCodec.dec(d)}
		}
		return q3In{Auction: q3AuctionCodec.dec(d)}
	},
}

// q3: the incremental join of persons and auctions on seller = person id.
// Like Flink's regular join it keeps both sides in keyed state for ever
// and emits each match when its second side arrives.
//
// The events are selected and projected in the source's chain first: an
// operator read by two others does not chain to them (plan.Compile), so
// the split into persons and auctions crosses a subtask boundary, and
// splitting there costs two encodings of the 2% of events q3 keeps instead
// of two of every event.
func q3(src stream.DataStream[nexmark.Event]) stream.DataStream[nexmark.Q3Row] {
	sel := stream.Map(stream.Filter(src, "q3 select", func(e nexmark.Event) bool {
		switch e.Kind {
		case nexmark.KindPerson:
			s := e.Person.State
			return s == "OR" || s == "ID" || s == "CA"
		case nexmark.KindAuction:
			return e.Auction.Category == 10
		}
		return false
	}), "q3 project", func(e nexmark.Event) q3In {
		if e.Kind == nexmark.KindPerson {
			p := &e.Person
			return q3In{IsPerson: true, Person: q3Person{ID: p.ID, Name: p.Name, City: p.City, State: p.State}}
		}
		return q3In{Auction: q3Auction{ID: e.Auction.ID, Seller: e.Auction.Seller}}
	}).WithCodec(q3InCodec)
	persons := stream.Map(stream.Filter(sel, "q3 persons", func(v q3In) bool { return v.IsPerson }),
		"q3 person", func(v q3In) q3Person { return v.Person }).WithCodec(q3PersonCodec)
	auctions := stream.Map(stream.Filter(sel, "q3 auctions", func(v q3In) bool { return !v.IsPerson }),
		"q3 auction", func(v q3In) q3Auction { return v.Auction }).WithCodec(q3AuctionCodec)
	keyed := stream.KeyByConnected(stream.Connect(persons, auctions),
		func(p q3Person) int64 { return p.ID }, func(a q3Auction) int64 { return a.Seller })
	return stream.KeyedCoProcess(keyed, "q3 join", func() stream.KeyedCoProcessFunction[int64, q3Person, q3Auction, nexmark.Q3Row] {
		return &q3Join{}
	})
}

type q3Join struct {
	persons  *stream.ListState[int64, q3Person]
	auctions *stream.ListState[int64, int64]
}

func (j *q3Join) Open(rt *stream.KeyedRuntime[int64]) error {
	var err error
	if j.persons, err = stream.List[q3Person](rt, "persons", q3PersonCodec); err != nil {
		return err
	}
	j.auctions, err = stream.List[int64](rt, "auctions")
	return err
}

func (j *q3Join) ProcessElement1(_ int64, p q3Person, out stream.Collector[nexmark.Q3Row]) error {
	for _, id := range j.auctions.Get() {
		out.Emit(nexmark.Q3Row{Name: p.Name, City: p.City, State: p.State, ID: id})
	}
	j.persons.Add(p)
	return nil
}

func (j *q3Join) ProcessElement2(_ int64, a q3Auction, out stream.Collector[nexmark.Q3Row]) error {
	for _, p := range j.persons.Get() {
		out.Emit(nexmark.Q3Row{Name: p.Name, City: p.City, State: p.State, ID: a.ID})
	}
	j.auctions.Add(a.ID)
	return nil
}

// keyCount is a count per key: bids per auction (q5), per bidder (q12).
type keyCount struct{ Key, N int64 }

var keyCountCodec = fieldCodec[keyCount]{
	enc: func(e *enc, c keyCount) { e.int(c.Key); e.int(c.N) },
	dec: func(d *dec) keyCount { return keyCount{Key: d.int(), N: d.int()} },
}

// countPerKey counts the records of a window whose records are their key.
type countPerKey struct{}

func (countPerKey) Create() keyCount                   { return keyCount{} }
func (countPerKey) Add(acc keyCount, k int64) keyCount { return keyCount{Key: k, N: acc.N + 1} }
func (countPerKey) Result(acc keyCount) keyCount       { return acc }
func (countPerKey) Merge(a, b keyCount) keyCount       { return keyCount{Key: a.Key, N: a.N + b.N} }
func bidAuction(e nexmark.Event) int64                 { return e.Bid.Auction }
func bidBidder(e nexmark.Event) int64                  { return e.Bid.Bidder }
func identity(k int64) int64                           { return k }
func constantKey[T any](T) int64                       { return 0 }
func keyOfCount(c keyCount) int64                      { return c.Key }
func bidsProjected(src stream.DataStream[nexmark.Event], name string, f func(nexmark.Event) int64) stream.DataStream[int64] {
	return stream.Map(stream.Filter(src, name+" bids", isBid), name+" project", f)
}

// q5: hot items. Bids are counted per auction in 10 s windows sliding by
// 2 s; a second stage keeps, per window, the auctions with the largest
// count.
//
// The second stage would be keyed by window, as Flink's SQL groups by it,
// but WindowAggregate's result does not see its window (Flink's
// aggregate(AggregateFunction, ProcessWindowFunction) is missing), so the
// counts carry it only as their timestamp, the window's last millisecond.
// The second stage reads it there (KeyedRuntime.Timestamp) and is keyed by
// one constant key: each window's counts meet on one subtask, as under
// Flink's GROUP BY window, but all windows on the same one.
func q5(src stream.DataStream[nexmark.Event]) stream.DataStream[nexmark.Q5Row] {
	auctions := bidsProjected(src, "q5", bidAuction)
	size, slide := time.Duration(nexmark.WindowSize)*time.Millisecond, time.Duration(nexmark.HopSlide)*time.Millisecond
	counts := stream.WindowAggregate[int64, int64, keyCount, keyCount](stream.KeyBy(auctions, identity).Window(stream.SlidingEventTimeWindows(size, slide)),
		"q5 count per auction", countPerKey{}, keyCountCodec).WithCodec(keyCountCodec)
	return stream.Process(stream.KeyBy(counts, constantKey[keyCount]), "q5 max per window", func() stream.ProcessFunction[int64, keyCount, nexmark.Q5Row] {
		return &q5Max{}
	})
}

// q5Top is a window's largest count so far and the auctions that have it.
type q5Top struct {
	Max      int64
	Auctions []int64
}

var q5TopCodec = fieldCodec[q5Top]{
	enc: func(e *enc, t q5Top) {
		e.int(t.Max)
		e.int(int64(len(t.Auctions)))
		for _, a := range t.Auctions {
			e.int(a)
		}
	},
	dec: func(d *dec) q5Top {
		t := q5Top{Max: d.int()}
		n := d.count()
		for range n {
			t.Auctions = append(t.Auctions, d.int())
		}
		return t
	},
}

type q5Max struct {
	rt  *stream.KeyedRuntime[int64]
	top *stream.MapState[int64, int64, q5Top] // by window end
}

func (m *q5Max) Open(rt *stream.KeyedRuntime[int64]) error {
	m.rt = rt
	var err error
	m.top, err = stream.MapOf[int64, q5Top](rt, "top", nil, q5TopCodec)
	return err
}

func (m *q5Max) Process(_ int64, c keyCount, _ stream.Collector[nexmark.Q5Row]) error {
	ts, _ := m.rt.Timestamp() // the count's window's last millisecond
	end := ts + 1
	t, ok := m.top.Get(end)
	switch {
	case !ok || c.N > t.Max:
		t = q5Top{Max: c.N, Auctions: []int64{c.Key}}
		m.rt.RegisterEventTimeTimer(ts)
	case c.N == t.Max:
		t.Auctions = append(t.Auctions, c.Key)
	default:
		return nil
	}
	m.top.Put(end, t)
	return nil
}

func (m *q5Max) OnTimer(_ int64, tm stream.Timer, out stream.Collector[nexmark.Q5Row]) error {
	end := tm.Timestamp() + 1
	t, ok := m.top.Get(end)
	if !ok {
		return nil
	}
	for _, a := range t.Auctions {
		out.Emit(nexmark.Q5Row{WindowStart: end - nexmark.WindowSize, WindowEnd: end, Auction: a, Num: t.Max})
	}
	m.top.Remove(end)
	return nil
}

// q7Bid is a bid as q7 outputs it.
type q7Bid struct {
	Auction, Bidder, Price, DateTime int64
	Extra                            string
}

func encQ7Bid(e *enc, b q7Bid) {
	e.int(b.Auction)
	e.int(b.Bidder)
	e.int(b.Price)
	e.int(b.DateTime)
	e.str(b.Extra)
}

func decQ7Bid(d *dec) q7Bid {
	return q7Bid{Auction: d.int(), Bidder: d.int(), Price: d.int(), DateTime: d.int(), Extra: d.str()}
}

func encQ7Bids(e *enc, bs []q7Bid) {
	e.int(int64(len(bs)))
	for _, b := range bs {
		encQ7Bid(e, b)
	}
}

func decQ7Bids(d *dec) []q7Bid {
	n := d.count()
	var bs []q7Bid
	for range n {
		bs = append(bs, decQ7Bid(d))
	}
	return bs
}

// q7Top is, for one auction and tumbling window [s, s+10 s), the highest
// price and the bids that have it, and the bids at exactly s, which the
// SQL's BETWEEN also joins with the window before, [s-10 s, s).
type q7Top struct {
	Max     int64
	Bids    []q7Bid
	AtStart []q7Bid
}

// q7Part is what stage two reads for the window ending at End: a partial
// maximum (HasMax) or bids at exactly End.
type q7Part struct {
	End      int64
	HasMax   bool
	Max      int64
	Bids     []q7Bid
	Boundary []q7Bid
}

var (
	q7BidCodec = fieldCodec[q7Bid]{enc: encQ7Bid, dec: decQ7Bid}
	q7TopCodec = fieldCodec[q7Top]{
		enc: func(e *enc, t q7Top) { e.int(t.Max); encQ7Bids(e, t.Bids); encQ7Bids(e, t.AtStart) },
		dec: func(d *dec) q7Top { return q7Top{Max: d.int(), Bids: decQ7Bids(d), AtStart: decQ7Bids(d)} },
	}
	q7PartCodec = fieldCodec[q7Part]{
		enc: func(e *enc, p q7Part) {
			h := int64(0)
			if p.HasMax {
				h = 1
			}
			e.int(p.End)
			e.int(h)
			e.int(p.Max)
			encQ7Bids(e, p.Bids)
			encQ7Bids(e, p.Boundary)
		},
		dec: func(d *dec) q7Part {
			return q7Part{End: d.int(), HasMax: d.int() == 1, Max: d.int(), Bids: decQ7Bids(d), Boundary: decQ7Bids(d)}
		},
	}
)

// q7: the highest bids of each 10 s tumbling window. The SQL joins every
// bid with the windows' maxima on price = max and dateTime BETWEEN end-10 s
// AND end, so a bid at exactly a window's end also matches that window.
// Stage one takes, per auction and window, the maximum and the bids at the
// window's start (Tide's window operator); a FlatMap splits that into a
// part for the window and one for the window before; stage two, keyed by
// window end, combines the parts. The part for window [s-10 s, s) from
// window [s, s+10 s) comes when that one fires, so stage two fires a window
// one window after its end, when the watermark passes end+10 s-1. (A
// second path for the bids at a window's end would also do, but it splits
// the bids into two consumers, and an operator read by two others does
// not chain to them: every bid would cross a subtask boundary twice.)
func q7(src stream.DataStream[nexmark.Event]) stream.DataStream[nexmark.Q7Row] {
	bids := stream.Map(stream.Filter(src, "q7 bids", isBid), "q7 project", func(e nexmark.Event) q7Bid {
		b := &e.Bid
		return q7Bid{Auction: b.Auction, Bidder: b.Bidder, Price: b.Price, DateTime: b.DateTime, Extra: b.Extra}
	}).WithCodec(q7BidCodec)
	size := time.Duration(nexmark.WindowSize) * time.Millisecond
	partial := stream.WindowAggregate[int64, q7Bid, q7Top, q7Top](stream.KeyBy(bids, func(b q7Bid) int64 { return b.Auction }).Window(stream.TumblingEventTimeWindows(size)),
		"q7 max per auction", q7MaxAgg{}, q7TopCodec)
	parts := stream.FlatMap(partial, "q7 parts", func(t q7Top, out stream.Collector[q7Part]) {
		end := windowStartOf(t.Bids[0].DateTime, nexmark.WindowSize) + nexmark.WindowSize
		out.Emit(q7Part{End: end, HasMax: true, Max: t.Max, Bids: t.Bids})
		if len(t.AtStart) > 0 {
			out.Emit(q7Part{End: end - nexmark.WindowSize, Boundary: t.AtStart})
		}
	}).WithCodec(q7PartCodec)
	return stream.Process(stream.KeyBy(parts, func(p q7Part) int64 { return p.End }), "q7 highest bid", func() stream.ProcessFunction[int64, q7Part, nexmark.Q7Row] {
		return &q7Highest{}
	})
}

// q7MaxAgg keeps the highest price of a window and its bids, and the bids
// at the window's start.
type q7MaxAgg struct{}

func (q7MaxAgg) Create() q7Top { return q7Top{Max: math.MinInt64} }
func (q7MaxAgg) Add(acc q7Top, b q7Bid) q7Top {
	if b.DateTime%nexmark.WindowSize == 0 {
		acc.AtStart = append(acc.AtStart, b)
	}
	switch {
	case b.Price > acc.Max:
		// A new slice: the old one may be shared with an emitted result.
		acc.Max, acc.Bids = b.Price, []q7Bid{b}
	case b.Price == acc.Max:
		acc.Bids = append(acc.Bids, b)
	}
	return acc
}
func (q7MaxAgg) Result(acc q7Top) q7Top { return acc }

// q7Highest is stage two; its state per window end is a q7Part that
// accumulates the window's parts.
type q7Highest struct {
	rt *stream.KeyedRuntime[int64]
	w  *stream.ValueState[int64, q7Part]
}

func (h *q7Highest) Open(rt *stream.KeyedRuntime[int64]) error {
	h.rt = rt
	var err error
	h.w, err = stream.Value[q7Part](rt, "window", q7PartCodec)
	return err
}

func (h *q7Highest) Process(end int64, p q7Part, _ stream.Collector[nexmark.Q7Row]) error {
	w, ok := h.w.Get()
	if !ok {
		w.End = end
		// Every part of this window has come once stage one has fired the
		// window after it.
		h.rt.RegisterEventTimeTimer(end + nexmark.WindowSize - 1)
	}
	switch {
	case !p.HasMax:
		w.Boundary = append(w.Boundary, p.Boundary...)
	case !w.HasMax || p.Max > w.Max:
		w.HasMax, w.Max, w.Bids = true, p.Max, p.Bids
	case p.Max == w.Max:
		w.Bids = append(w.Bids, p.Bids...)
	}
	h.w.Update(w)
	return nil
}

func (h *q7Highest) OnTimer(end int64, _ stream.Timer, out stream.Collector[nexmark.Q7Row]) error {
	w, ok := h.w.Get()
	if !ok {
		return nil
	}
	h.w.Clear()
	if !w.HasMax {
		return nil // no bid in the window: no maximum to match
	}
	for _, b := range w.Bids {
		out.Emit(nexmark.Q7Row{WindowEnd: end, Auction: b.Auction, Bidder: b.Bidder, Price: b.Price, DateTime: b.DateTime, Extra: b.Extra})
	}
	for _, b := range w.Boundary {
		if b.Price == w.Max {
			out.Emit(nexmark.Q7Row{WindowEnd: end, Auction: b.Auction, Bidder: b.Bidder, Price: b.Price, DateTime: b.DateTime, Extra: b.Extra})
		}
	}
	return nil
}

// q8In is either input of q8's join: a person (id, name) or an auction's
// seller (id).
type q8In struct {
	Person bool
	ID     int64
	Name   string
}

var q8InCodec = fieldCodec[q8In]{
	enc: func(e *enc, v q8In) {
		if v.Person {
			e.int(v.ID)
			e.str(v.Name)
			return
		}
		e.int(-v.ID - 1) // ids are >= 0: a negative one marks a seller
	},
	dec: func(d *dec) q8In {
		id := d.int()
		if id < 0 {
			return q8In{ID: -id - 1}
		}
		return q8In{Person: true, ID: id, Name: d.str()}
	},
}

// q8: persons who created an auction in the 10 s tumbling window in which
// they entered the system: the union of both inputs, as one either type,
// keyed by person id, cut into tumbling windows, paired by WindowProcess.
// Persons and auctions are projected in the source's chain and split after
// it (see q3 for why).
func q8(src stream.DataStream[nexmark.Event]) stream.DataStream[nexmark.Q8Row] {
	sel := stream.Map(stream.Filter(src, "q8 select", func(e nexmark.Event) bool { return e.Kind != nexmark.KindBid }),
		"q8 project", func(e nexmark.Event) q8In {
			if e.Kind == nexmark.KindPerson {
				return q8In{Person: true, ID: e.Person.ID, Name: e.Person.Name}
			}
			return q8In{ID: e.Auction.Seller}
		}).WithCodec(q8InCodec)
	persons := stream.Filter(sel, "q8 persons", func(v q8In) bool { return v.Person })
	sellers := stream.Filter(sel, "q8 sellers", func(v q8In) bool { return !v.Person })
	size := time.Duration(nexmark.WindowSize) * time.Millisecond
	w := stream.KeyBy(stream.Union(persons, sellers), func(v q8In) int64 { return v.ID }).Window(stream.TumblingEventTimeWindows(size))
	return stream.WindowProcess(w, "q8 join", func() stream.ProcessWindowFunction[int64, q8In, nexmark.Q8Row] { return q8Join{} })
}

type q8Join struct{}

func (q8Join) Process(id int64, w stream.Window, elems []stream.Element[q8In], out stream.Collector[nexmark.Q8Row]) error {
	seller := false
	for _, e := range elems {
		if !e.Value.Person {
			seller = true
			break
		}
	}
	if !seller {
		return nil
	}
	// GROUP BY id, name: a person once per window and name.
	var seen []string
	for _, e := range elems {
		if !e.Value.Person || contains(seen, e.Value.Name) {
			continue
		}
		seen = append(seen, e.Value.Name)
		out.Emit(nexmark.Q8Row{ID: id, Name: e.Value.Name, WindowStart: w.Start})
	}
	return nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// q11Bid is a bid's bidder and time; q11Session the running count of one
// session window.
type q11Bid struct{ Bidder, DateTime int64 }

type q11Session struct{ Bidder, N, First, Last int64 }

var (
	q11BidCodec = fieldCodec[q11Bid]{
		enc: func(e *enc, b q11Bid) { e.int(b.Bidder); e.int(b.DateTime) },
		dec: func(d *dec) q11Bid { return q11Bid{Bidder: d.int(), DateTime: d.int()} },
	}
	q11SessionCodec = fieldCodec[q11Session]{
		enc: func(e *enc, s q11Session) { e.int(s.Bidder); e.int(s.N); e.int(s.First); e.int(s.Last) },
		dec: func(d *dec) q11Session { return q11Session{Bidder: d.int(), N: d.int(), First: d.int(), Last: d.int()} },
	}
)

// q11: bids per bidder and session (gap 10 s). A session window over bids
// at times t is [min t, max t + gap), so the accumulator's first and last
// bid times give the SQL's SESSION_START and SESSION_END.
func q11(src stream.DataStream[nexmark.Event]) stream.DataStream[nexmark.Q11Row] {
	bids := stream.Map(stream.Filter(src, "q11 bids", isBid), "q11 project", func(e nexmark.Event) q11Bid {
		return q11Bid{Bidder: e.Bid.Bidder, DateTime: e.Bid.DateTime}
	}).WithCodec(q11BidCodec)
	gap := time.Duration(nexmark.SessionGap) * time.Millisecond
	w := stream.KeyBy(bids, func(b q11Bid) int64 { return b.Bidder }).Window(stream.EventTimeSessionWindows(gap))
	return stream.WindowAggregate[int64, q11Bid, q11Session, nexmark.Q11Row](w, "q11 sessions", q11Agg{}, q11SessionCodec)
}

type q11Agg struct{}

func (q11Agg) Create() q11Session { return q11Session{First: math.MaxInt64, Last: math.MinInt64} }
func (q11Agg) Add(s q11Session, b q11Bid) q11Session {
	return q11Session{Bidder: b.Bidder, N: s.N + 1, First: min(s.First, b.DateTime), Last: max(s.Last, b.DateTime)}
}
func (q11Agg) Merge(a, b q11Session) q11Session {
	return q11Session{Bidder: a.Bidder, N: a.N + b.N, First: min(a.First, b.First), Last: max(a.Last, b.Last)}
}
func (q11Agg) Result(s q11Session) nexmark.Q11Row {
	return nexmark.Q11Row{Bidder: s.Bidder, BidCount: s.N, Start: s.First, End: s.Last + nexmark.SessionGap}
}

// q12: bids per bidder in 10 s tumbling windows of processing time. The
// windows fire on the wall clock and, as the reference expects, also at
// the end of the input (endOfInputTrigger). A last stage keyed by bidder
// turns each count's timestamp, its window's last millisecond, into the
// row's window (WindowAggregate's result does not see the window, see q5).
func q12(src stream.DataStream[nexmark.Event]) stream.DataStream[nexmark.Q12Row] {
	bidders := bidsProjected(src, "q12", bidBidder)
	size := time.Duration(nexmark.WindowSize) * time.Millisecond
	w := stream.KeyBy(bidders, identity).Window(stream.TumblingProcessingTimeWindows(size)).Trigger(endOfInputTrigger[int64]{})
	counts := stream.WindowAggregate[int64, int64, keyCount, keyCount](w, "q12 count per bidder", countPerKey{}, keyCountCodec).WithCodec(keyCountCodec)
	return stream.Process(stream.KeyBy(counts, keyOfCount), "q12 window of the count", func() stream.ProcessFunction[int64, keyCount, nexmark.Q12Row] {
		return &q12Window{}
	})
}

type q12Window struct{ rt *stream.KeyedRuntime[int64] }

func (q *q12Window) Open(rt *stream.KeyedRuntime[int64]) error { q.rt = rt; return nil }
func (q *q12Window) Process(_ int64, c keyCount, out stream.Collector[nexmark.Q12Row]) error {
	ts, _ := q.rt.Timestamp()
	end := ts + 1
	out.Emit(nexmark.Q12Row{Bidder: c.Key, BidCount: c.N, Start: end - nexmark.WindowSize, End: end})
	return nil
}

// endOfInputTrigger is the processing-time trigger that also fires every
// window still open when the input ends. The end of a bounded input raises
// the watermark to math.MaxInt64, which fires the event-time timer each
// window registers there. (Tide, like Flink, does not fire processing-time
// windows at the end of input: their last, partial window would be lost.)
type endOfInputTrigger[T any] struct{}

func (endOfInputTrigger[T]) OnElement(_ T, _ int64, w stream.Window, ctx *stream.TriggerContext[T]) stream.TriggerResult {
	if st := ctx.State(); st.N == 0 {
		st.N = 1
		ctx.RegisterProcessingTimeTimer(w.MaxTimestamp())
		ctx.RegisterEventTimeTimer(math.MaxInt64)
	}
	return stream.Continue
}

func (endOfInputTrigger[T]) OnEventTime(at int64, _ stream.Window, _ *stream.TriggerContext[T]) stream.TriggerResult {
	if at == math.MaxInt64 {
		return stream.FireAndPurge
	}
	return stream.Continue
}

func (endOfInputTrigger[T]) OnProcessingTime(at int64, w stream.Window, _ *stream.TriggerContext[T]) stream.TriggerResult {
	if at == w.MaxTimestamp() {
		return stream.FireAndPurge
	}
	return stream.Continue
}

func (endOfInputTrigger[T]) OnMerge(stream.Window, *stream.TriggerContext[T]) {}
