// Package nexmark is the engine-independent half of Tide's Nexmark
// benchmark: the event generator, reference results in plain Go for the
// queries Tide runs, and Flink's published figures to print beside Tide's.
// It uses only the standard library and no Tide package, so the references
// share no code with the engine they check.
//
// # The model
//
// Nexmark models an auction site with three streams: Person (a new user),
// Auction (an item for sale) and Bid. The generator follows the nexmark
// project's (github.com/nexmark/nexmark, nexmark-flink/.../generator),
// itself Beam's (sdks/java/testing/nexmark), which produced the Flink
// figures:
//
//   - Event number n of a generator has event id FirstEventID+n. Ids cycle
//     through 50 slots, 1 person, 3 auctions, 46 bids (2%, 6%, 92%), and the
//     slot decides the kind. Person and auction ids are consecutive from
//     1000, so they too follow from the event id.
//   - Event time is BaseTime + floor(n × 10⁶/FirstEventRate ×
//     NumEventGenerators µs) / 1000 ms: it never decreases within one
//     generator, and the rate only spaces event times (sources emit as fast
//     as they can). Config.Split gives n generators disjoint id ranges on
//     parallel timelines, as Flink's source does at parallelism n.
//   - Bids go to a hot auction (the first of the latest hundred) with
//     probability 1/2, else to one of the 101 latest auctions or up to 10
//     not yet created; bidders are a hot person (the second of the latest
//     hundred) with probability 3/4, else one of the 1000 latest persons or
//     up to 10 ahead. Sellers likewise, hot with probability 3/4.
//   - Prices are round(10^(6u)·100), log-uniform in [100, 10⁸]; an auction's
//     reserve is its initial bid plus another price; auctions expire after
//     a uniform time averaging the event-time span of 100 auctions; there
//     are five categories, 10 to 14. Persons live in one of six US states
//     and ten cities. Half the bids come from four hot channels, the rest
//     from 10,000 others with fixed URLs. Every event carries an Extra
//     string that pads it to an average size (200, 500, 100 bytes).
//
// # Determinism
//
// Every field of an event is a function of (Config, event number) alone:
// the random draws of one event come from a source seeded with (Seed, event
// id), as in Beam. So equal Configs give equal streams on every machine, a
// generator can resume from a checkpointed count (Generator.Restore), and
// the references can regenerate a stream instead of storing it. The
// nexmark project's own generator is not deterministic (it draws from an
// unseeded SplittableRandom and starts at the wall clock); this package
// keeps its distributions, not its random sequence.
//
// Where this generator differs from nexmark-flink's, and why:
//
//   - The random sequence and the base time, for determinism (above).
//   - Bidder ids: nexmark-flink's BidGenerator adds FIRST_PERSON_ID twice, so
//     its bidders are person ids plus 1000 and match no person. Beam adds it
//     once; so does this package, so that bids join with persons. The number
//     and skew of bidder keys, which is what q11 and q12 exercise, is the same.
//   - Strings are cut from shared random texts (see Speed): each string
//     has the Java generator's length and per-character law, but texts are
//     shared between events. nexmark-flink's Extra text is built from
//     negative ints modulo 26 and so also holds 'H' to '`'; this package's is
//     lowercase letters only.
//   - LongGenerator's skewed draw for bounds beyond 2^31 is not reproduced:
//     draws are uniform for every bound.
//
// # Speed
//
// Bids and auctions are generated without allocating: names, cities,
// channels and URLs come from fixed tables, and item names, descriptions
// and Extra fields are cut from two shared 1 MiB random texts with the
// per-character law of the Java generator (nexmark-flink cuts Extra the
// same way). A person costs one allocation, for its e-mail address and
// credit card. BenchmarkGenerator measures about 55 ns per event.
//
// # Time, watermarks and windows
//
// The nexmark SQL declares WATERMARK FOR `dateTime` AS `dateTime` -
// INTERVAL '4' SECOND. Windows are Flink's: epoch-aligned, [start, end)
// with start inclusive and end exclusive; an event-time window fires when
// the watermark passes its end, and the end of input raises the watermark
// to the end of time, so every window fires. A generator's event times
// never decrease, so with the default OutOfOrderGroupSize no event is ever
// late and nothing is dropped. The references therefore drop nothing and
// do not depend on arrival order: each is the query's result over the whole
// input. They stop describing an engine's output if events arrive more than
// 4 s out of order.
//
// # Comparing an engine's result
//
// Each query Qn reads the events once (an iter.Seq[*Event], e.g.
// Generator.Events or FromSlice) and returns its rows as a slice of QnRow,
// sorted by SortQn into a canonical order. The engine's output, collected
// into the same row type, is compared as a multiset with Diff (or sorted
// with SortQn and compared with ==): the queries' results are append-only
// (window aggregates emit once, the joins are inner joins of append-only
// inputs), so no retractions need applying first. Row types keep the
// window bounds where the SQL drops them (q5, q7) so that rows of different
// windows stay distinct; q1's DECIMAL price is kept exactly, in
// thousandths. q12 windows on processing time, which the reference takes as
// a function from event index to time (see Q12).
//
// # Flink's figures
//
// FlinkV1 and FlinkV2 are the nexmark project's published Flink result
// tables for the same queries, with their sources and setups; their per-core
// throughputs are what `bench nexmark` prints beside Tide's.
package nexmark
