package nexmark

// FlinkFigure is one query's row of a Flink result table published by the
// nexmark project, with the table's own figures; nothing here is measured
// or estimated by Tide.
type FlinkFigure struct {
	Query string
	// Events is the number of events the figure covers.
	Events int64
	// Cores is the average number of CPU cores Flink used, as measured by
	// the nexmark project's per-node CPU collector (not Flink's own metric).
	Cores float64
	// Seconds is the time taken for Events.
	Seconds float64
	// PublishedPerCore is the table's "Throughput/Cores" in events per second
	// per core, or 0 where the table has no such column (V2).
	PublishedPerCore float64
	// PublishedThroughput is the table's "Throughput" in events per second,
	// or 0 where the table has no such column (V1).
	PublishedThroughput float64
}

// EventsPerSecondPerCore is the published throughput per core, or, for a
// table that publishes none (V2), Events/(Cores*Seconds): the same formula
// by which the V1 table derives its column (q0 of V1: 100,000,000 /
// 645.087 = 155.02 K/s).
func (f FlinkFigure) EventsPerSecondPerCore() float64 {
	if f.PublishedPerCore != 0 {
		return f.PublishedPerCore
	}
	return float64(f.Events) / (f.Cores * f.Seconds)
}

// FlinkRun is one published Flink result table and how it was produced.
type FlinkRun struct {
	Name   string
	Source string // where the table is published
	Setup  string // the cluster, configuration and workload the page states
	// Figures holds the queries Tide runs: q0, q1, q2, q3, q5, q7, q8, q11
	// and q12, in that order.
	Figures []FlinkFigure
}

// Figure returns the row of query q ("q7") and whether the table has it.
func (r FlinkRun) Figure(q string) (FlinkFigure, bool) {
	for _, f := range r.Figures {
		if f.Query == q {
			return f, true
		}
	}
	return FlinkFigure{}, false
}

// FlinkV1 is the nexmark project's V1 result table. It was published in the
// README with "Flink version: 1.13" by commit 8ff9866 ("[queries] Extend
// several queries (#15)", 2021-05-31) and is carried unchanged into
// GUIDE_V1.md (commit e115ef9, 2025-03-02), which introduces it as "an
// example of result table" and now says "Flink version: 1.13 ~ 2.0". An
// earlier README table (commit 7856985, 2021-05-11, also Flink 1.13) had
// higher figures for the simple queries (q0 246 K/s per core), before the
// queries were extended; it is superseded and not recorded here.
//
// The workload: nexmark's own generator as the source at 10,000,000 events
// per second of event time (so 100 M events span 10 s of event time per
// generator), max emit speed, proportions 1:3:46.
var FlinkV1 = FlinkRun{
	Name:   "Flink 1.13, nexmark V1 runner",
	Source: "https://github.com/nexmark/nexmark/blob/master/GUIDE_V1.md#benchmark-results (commit 6b3646c3baec701f1fa74baf938d235f742e5d3c)",
	Setup: "3 worker nodes of 8 cores and 32 GB; 8 TaskManagers with 1 slot and 8 GB each; parallelism 8; " +
		"exactly-once checkpoints every 3 min; RocksDB with incremental checkpoints; " +
		"mini-batch 2 s / 5,000 rows (the 2021 README; GUIDE_V1.md now says 50,000); " +
		"split distinct aggregation; 100,000,000 events generated at 10,000,000 events/s",
	Figures: []FlinkFigure{
		{Query: "q0", Events: 100_000_000, Cores: 8.45, Seconds: 76.323, PublishedPerCore: 155_020},
		{Query: "q1", Events: 100_000_000, Cores: 8.26, Seconds: 76.643, PublishedPerCore: 157_940},
		{Query: "q2", Events: 100_000_000, Cores: 8.23, Seconds: 69.309, PublishedPerCore: 175_210},
		{Query: "q3", Events: 100_000_000, Cores: 8.59, Seconds: 76.531, PublishedPerCore: 152_120},
		{Query: "q5", Events: 100_000_000, Cores: 10.8, Seconds: 418.242, PublishedPerCore: 22_140},
		{Query: "q7", Events: 100_000_000, Cores: 14.21, Seconds: 570.983, PublishedPerCore: 12_330},
		{Query: "q8", Events: 100_000_000, Cores: 9.42, Seconds: 72.673, PublishedPerCore: 146_140},
		{Query: "q11", Events: 100_000_000, Cores: 10.6, Seconds: 237.599, PublishedPerCore: 39_700},
		{Query: "q12", Events: 100_000_000, Cores: 13.69, Seconds: 96.559, PublishedPerCore: 75_670},
	},
}

// FlinkV2 is the nexmark project's V2 result table (GUIDE_V2.md, commit
// e115ef9, 2025-03-02, "Flink version: 2.0 or above", also introduced as
// "an example of result table"). The V2 runner measures only the second
// phase of each query: 150 M warm-up events, then 50 M measured ones. The
// table publishes Cores, Time and Throughput but no per-core column, so
// EventsPerSecondPerCore derives it (q0: 50,000,000 / (7 × 18.875 s) =
// 378 K/s per core). Its TPS setting (100,000) spaces event times only: the
// source runs at max emit speed.
var FlinkV2 = FlinkRun{
	Name:   "Flink 2.0, nexmark V2 runner",
	Source: "https://github.com/nexmark/nexmark/blob/master/GUIDE_V2.md#benchmark-results (commit 6b3646c3baec701f1fa74baf938d235f742e5d3c)",
	Setup: "4 worker nodes of 16 cores and 32 GB, HDFS on 4 data nodes; 8 TaskManagers with 1 slot and 8 GB each; " +
		"parallelism 8; exactly-once checkpoints every 30 s; RocksDB with incremental checkpoints; " +
		"mini-batch 2 s / 50,000 rows; split distinct aggregation; 150,000,000 warm-up events, then 50,000,000 measured, " +
		"generated at max speed with event times 100,000 events/s apart",
	Figures: []FlinkFigure{
		{Query: "q0", Events: 50_000_000, Cores: 7, Seconds: 18.875, PublishedThroughput: 2_650_000},
		{Query: "q1", Events: 50_000_000, Cores: 7.24, Seconds: 17.462, PublishedThroughput: 2_860_000},
		{Query: "q2", Events: 50_000_000, Cores: 7.13, Seconds: 16.927, PublishedThroughput: 2_950_000},
		{Query: "q3", Events: 50_000_000, Cores: 8.69, Seconds: 26.250, PublishedThroughput: 1_900_000},
		{Query: "q5", Events: 50_000_000, Cores: 12.35, Seconds: 54.324, PublishedThroughput: 920_400},
		{Query: "q7", Events: 50_000_000, Cores: 11.45, Seconds: 190.508, PublishedThroughput: 262_460},
		{Query: "q8", Events: 50_000_000, Cores: 12.83, Seconds: 23.994, PublishedThroughput: 2_080_000},
		{Query: "q11", Events: 50_000_000, Cores: 9.29, Seconds: 116.856, PublishedThroughput: 427_880},
		{Query: "q12", Events: 50_000_000, Cores: 10.03, Seconds: 25.656, PublishedThroughput: 1_950_000},
	},
}
