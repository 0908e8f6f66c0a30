package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tide-stream/tide/bench/nexmark"
	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/internal/task/tasktest"
	"github.com/tide-stream/tide/stream"
)

// The nexmark subcommand runs the Nexmark queries as Tide jobs in this
// process — every subtask a real task.Task, records between subtasks
// crossing network.Managers over loopback TCP (one manager per slot, as
// one TaskManager with one slot each), the harness playing the
// JobManager's part at the end of the bounded input (tasktest.Run) — and
// measures events per second per core as the nexmark project does: events
// processed divided by the CPU time (user + system) the process spent on
// the run. Every run's result is checked against bench/nexmark's
// reference on the same events; a mismatch fails the run.

// nexmarkOptions configures the nexmark benchmark.
type nexmarkOptions struct {
	queries     string
	events      int64
	parallelism int
	rate        int64
	repeat      int
	seed        uint64
	cpuprofile  string
}

func (o *nexmarkOptions) bind(fs *flag.FlagSet, withProfile bool) {
	fs.StringVar(&o.queries, "queries", strings.Join(nexmarkQueryNames, ","), "nexmark: comma-separated queries to run")
	fs.Int64Var(&o.events, "events", 0, "nexmark: events per run, for every query (0: each query's default, see BENCHMARKS.md)")
	fs.IntVar(&o.parallelism, "parallelism", 2, "nexmark: parallelism of every operator, one slot and network manager per subtask index")
	fs.Int64Var(&o.rate, "event-rate", 100_000, "nexmark: FirstEventRate, events per second of event time (Flink V2: 100,000, V1: 10,000,000)")
	fs.IntVar(&o.repeat, "repeat", 3, "nexmark: measured runs per query")
	fs.Uint64Var(&o.seed, "seed", 0, "nexmark: generator seed")
	if withProfile {
		fs.StringVar(&o.cpuprofile, "cpuprofile", "", "nexmark: after the measured runs, profile one more run of each query into FILE.qN and print its top")
	}
}

func (o *nexmarkOptions) validate() error {
	var errs []error
	if _, err := o.selected(); err != nil {
		errs = append(errs, err)
	}
	if o.events < 0 || o.parallelism < 1 || o.rate < 1 || o.repeat < 1 {
		errs = append(errs, fmt.Errorf("nexmark: --events %d must not be negative, --parallelism %d, --event-rate %d and --repeat %d must be at least 1",
			o.events, o.parallelism, o.rate, o.repeat))
	}
	return errors.Join(errs...)
}

func (o *nexmarkOptions) selected() ([]string, error) {
	var qs []string
	for q := range strings.SplitSeq(o.queries, ",") {
		q = strings.TrimSpace(q)
		if !slices.Contains(nexmarkQueryNames, q) {
			return nil, fmt.Errorf("nexmark: unknown query %q (have %s)", q, strings.Join(nexmarkQueryNames, ","))
		}
		qs = append(qs, q)
	}
	return qs, nil
}

// nexmarkQueryNames are the queries Tide runs, in Flink's table order.
var nexmarkQueryNames = []string{"q0", "q1", "q2", "q3", "q5", "q7", "q8", "q11", "q12"}

// defaultEvents is each query's events per run: a few seconds of CPU time
// at Tide's speed. (The stateless queries would run longer on more events,
// but their references keep and sort every result row: 20 M events take
// about 3 GB and 15 s to check.)
var defaultEvents = map[string]int64{
	"q0": 20_000_000, "q1": 20_000_000, "q2": 20_000_000, "q3": 20_000_000,
	"q5": 3_000_000, "q7": 5_000_000, "q8": 20_000_000, "q11": 5_000_000, "q12": 10_000_000,
}

// checker compares a run's result with the reference over the run's
// events; ran is the run's wall-clock span (q12's windows lie in it). It
// returns the number of result rows.
type checker func(events iter.Seq[*nexmark.Event], ran timeSpan) (int64, error)

type timeSpan struct{ start, end time.Time }

// nexmarkQuery declares one query on a job and gives its checker. A
// query's reference is computed at its first check and kept (as a
// fingerprint) for later runs on the same stream: one nexmarkQuery per
// stream configuration.
type nexmarkQuery struct {
	name  string
	build func(src stream.DataStream[nexmark.Event], collect bool) checker
}

// newNexmarkQueries returns the queries with empty reference caches.
func newNexmarkQueries() map[string]*nexmarkQuery {
	qs := []*nexmarkQuery{
		standardQuery("q0", q0, nexmark.Q0, func(s maphash.Seed, r nexmark.Q0Row) uint64 {
			return mix(mix(mix(mix(maphash.String(s, r.Extra), r.Auction), r.Bidder), r.Price), r.DateTime)
		}),
		standardQuery("q1", q1, nexmark.Q1, func(s maphash.Seed, r nexmark.Q1Row) uint64 {
			return mix(mix(mix(mix(maphash.String(s, r.Extra), r.Auction), r.Bidder), r.PriceThousandths), r.DateTime)
		}),
		standardQuery("q2", q2, nexmark.Q2, func(_ maphash.Seed, r nexmark.Q2Row) uint64 {
			return mix(mix(1, r.Auction), r.Price)
		}),
		standardQuery("q3", q3, nexmark.Q3, func(s maphash.Seed, r nexmark.Q3Row) uint64 {
			return mix(maphash.String(s, r.Name)^mix(maphash.String(s, r.City), 1)^mix(maphash.String(s, r.State), 2), r.ID)
		}),
		standardQuery("q5", q5, nexmark.Q5, func(_ maphash.Seed, r nexmark.Q5Row) uint64 {
			return mix(mix(mix(mix(1, r.WindowStart), r.WindowEnd), r.Auction), r.Num)
		}),
		standardQuery("q7", q7, nexmark.Q7, func(s maphash.Seed, r nexmark.Q7Row) uint64 {
			return mix(mix(mix(mix(mix(maphash.String(s, r.Extra), r.WindowEnd), r.Auction), r.Bidder), r.Price), r.DateTime)
		}),
		standardQuery("q8", q8, nexmark.Q8, func(s maphash.Seed, r nexmark.Q8Row) uint64 {
			return mix(mix(maphash.String(s, r.Name), r.ID), r.WindowStart)
		}),
		standardQuery("q11", q11, nexmark.Q11, func(_ maphash.Seed, r nexmark.Q11Row) uint64 {
			return mix(mix(mix(mix(1, r.Bidder), r.BidCount), r.Start), r.End)
		}),
		{name: "q12", build: q12Checked()},
	}
	m := make(map[string]*nexmarkQuery, len(qs))
	for _, q := range qs {
		m[q.name] = q
	}
	return m
}

// standardQuery is a query whose result must equal its reference as a
// multiset of rows: by fingerprint, and with collect row by row.
func standardQuery[R comparable](name string, query func(stream.DataStream[nexmark.Event]) stream.DataStream[R],
	ref func(iter.Seq[*nexmark.Event]) []R, hash func(maphash.Seed, R) uint64) *nexmarkQuery {
	seed := maphash.MakeSeed()
	var (
		computed bool
		wantFP   fingerprint
		want     []R // kept only for runs that collect
	)
	return &nexmarkQuery{name: name, build: func(src stream.DataStream[nexmark.Event], collect bool) checker {
		res := &results[R]{hash: hash, seed: seed, collect: collect}
		stream.SinkTo(query(src), "results", res.writer)
		return func(events iter.Seq[*nexmark.Event], _ timeSpan) (int64, error) {
			if !computed || (collect && want == nil) {
				rows := ref(events)
				wantFP, computed = res.fingerprint(rows), true
				if collect {
					want = rows
				}
			}
			gotFP, got := res.got()
			if collect {
				missing, unexpected := nexmark.Diff(want, got)
				if len(missing)+len(unexpected) > 0 {
					return gotFP.Rows, fmt.Errorf("%s: %d rows, want %d: %d missing (first %v), %d unexpected (first %v)",
						name, len(got), len(want), len(missing), missing[:min(3, len(missing))], len(unexpected), unexpected[:min(3, len(unexpected))])
				}
			}
			if gotFP != wantFP {
				return gotFP.Rows, fmt.Errorf("%s: %d rows, want %d, and their fingerprints differ (%x, want %x): run `go test ./bench -run TestNexmarkQueries` or fewer --events to see the rows",
					name, gotFP.Rows, wantFP.Rows, gotFP.Sum, wantFP.Sum)
			}
			return gotFP.Rows, nil
		}
	}}
}

// q12Checked checks q12 by invariants. Its windows are of processing time,
// which the reference cannot know unless the engine's clock were driven
// from it, and Tide's task runtime reads the wall clock. So the check is:
// every bid is counted exactly once (each bidder's counts over all windows
// add up to the bidder's bids: the reference with every bid at one
// processing time), every row's window is a 10 s window aligned to the
// epoch that overlaps the run's wall-clock span, and no (bidder, window)
// appears twice.
func q12Checked() func(stream.DataStream[nexmark.Event], bool) checker {
	var totals map[int64]int64 // bidder -> bids
	return func(src stream.DataStream[nexmark.Event], _ bool) checker {
		res := &results[nexmark.Q12Row]{hash: func(maphash.Seed, nexmark.Q12Row) uint64 { return 0 }, collect: true}
		stream.SinkTo(q12(src), "results", res.writer)
		return func(events iter.Seq[*nexmark.Event], ran timeSpan) (int64, error) {
			if totals == nil {
				totals = map[int64]int64{}
				for _, r := range nexmark.Q12(events, func(int64, *nexmark.Event) int64 { return 0 }) {
					totals[r.Bidder] += r.BidCount
				}
			}
			_, rows := res.got()
			got := map[int64]int64{}
			seen := map[[2]int64]bool{}
			lo := windowStartOf(ran.start.UnixMilli(), nexmark.WindowSize)
			hi := ran.end.UnixMilli()
			var errs []error
			for _, r := range rows {
				k := [2]int64{r.Bidder, r.Start}
				switch {
				case seen[k]:
					errs = append(errs, fmt.Errorf("bidder %d's window %d twice", r.Bidder, r.Start))
				case r.Start%nexmark.WindowSize != 0 || r.End != r.Start+nexmark.WindowSize || r.BidCount < 1:
					errs = append(errs, fmt.Errorf("bad row %+v", r))
				case r.Start < lo || r.Start > hi:
					errs = append(errs, fmt.Errorf("row %+v: its window is outside the run [%d, %d]", r, lo, hi))
				}
				seen[k] = true
				got[r.Bidder] += r.BidCount
			}
			if !maps.Equal(got, totals) {
				var bad []string
				for b := range maps.Keys(totals) {
					if got[b] != totals[b] {
						bad = append(bad, fmt.Sprintf("bidder %d: %d bids counted, want %d", b, got[b], totals[b]))
					}
				}
				for b := range maps.Keys(got) {
					if _, ok := totals[b]; !ok {
						bad = append(bad, fmt.Sprintf("bidder %d: %d bids counted, want none", b, got[b]))
					}
				}
				slices.Sort(bad)
				errs = append(errs, fmt.Errorf("%d bidders' totals differ: %s", len(bad), strings.Join(bad[:min(3, len(bad))], "; ")))
			}
			if len(errs) > 0 {
				return int64(len(rows)), fmt.Errorf("q12: %w", errors.Join(errs[:min(5, len(errs))]...))
			}
			return int64(len(rows)), nil
		}
	}
}

// nexmarkStream is the generator configuration of a run of n events.
func (o *nexmarkOptions) stream(n int64) nexmark.Config {
	return nexmark.Config{Seed: o.seed, NumEvents: n, FirstEventRate: o.rate}
}

// nexmarkRun is one measured run.
type nexmarkRun struct {
	events   int64
	cpu      time.Duration // user + system CPU time of the process during the run
	wall     time.Duration
	rows     int64
	perCore  float64 // events / cpu seconds
	checkErr error
}

// runNexmarkOnce runs query q once on n events and checks its result. The
// CPU time covers building the job's tasks through the final checkpoint;
// the reference runs afterwards, untimed.
func runNexmarkOnce(ctx context.Context, q *nexmarkQuery, o nexmarkOptions, n int64, collect bool, profile string) (nexmarkRun, error) {
	cfg := o.stream(n)
	env := stream.NewEnv(128)
	src := stream.FromSource(env, nexmarkSource(cfg, o.parallelism), nexmarkWatermarks())
	check := q.build(src, collect)
	g, err := env.Plan()
	if err != nil {
		return nexmarkRun{}, fmt.Errorf("%s: declare: %w", q.name, err)
	}
	jg, err := plan.Compile(g)
	if err != nil {
		return nexmarkRun{}, fmt.Errorf("%s: compile: %w", q.name, err)
	}
	runtime.GC()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return nexmarkRun{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nexmarkRun{}, err
		}
	}
	cpu0, start := cpuTime(), time.Now()
	pos, err := tasktest.Run(ctx, jg, o.parallelism, o.parallelism)
	cpu1, end := cpuTime(), time.Now()
	if profile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return nexmarkRun{}, fmt.Errorf("%s: run: %w", q.name, err)
	}
	if pos != n {
		return nexmarkRun{}, fmt.Errorf("%s: the sources emitted %d events, want %d", q.name, pos, n)
	}
	r := nexmarkRun{events: n, cpu: cpu1 - cpu0, wall: end.Sub(start)}
	r.perCore = float64(n) / r.cpu.Seconds()
	events, err := nexmarkEvents(cfg, o.parallelism)
	if err != nil {
		return r, err
	}
	r.rows, r.checkErr = check(events, timeSpan{start, end})
	return r, nil
}

// cpuTime is the user plus system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// NexmarkRow is one query's line of the Nexmark table.
type NexmarkRow struct {
	Query       string  `json:"query"`
	Events      int64   `json:"events"`
	Parallelism int     `json:"parallelism"`
	EventRate   int64   `json:"event_rate"`
	Rows        int64   `json:"result_rows"`
	PerCore     float64 `json:"events_per_second_per_core"` // median over the runs
	CPUSeconds  float64 `json:"cpu_seconds"`                // median
	WallSeconds float64 `json:"wall_seconds"`               // median
	FlinkV1     float64 `json:"flink_v1_per_core"`
	FlinkV2     float64 `json:"flink_v2_per_core"`
	RatioV1     float64 `json:"ratio_v1"`
	RatioV2     float64 `json:"ratio_v2"`
	// Met is whether PerCore is at least 3× both Flink figures.
	Met bool `json:"met_3x"`
}

func runNexmark(ctx context.Context, o nexmarkOptions, rep *Report, stderr io.Writer) error {
	names, _ := o.selected()
	queries := newNexmarkQueries()
	var errs []error
	for _, name := range names {
		q := queries[name]
		n := o.events
		if n == 0 {
			n = defaultEvents[name]
		}
		var perCore, cpu, wall []float64
		var rows int64
		var failed bool
		for i := range o.repeat {
			r, err := runNexmarkOnce(ctx, q, o, n, false, "")
			if err == nil {
				err = r.checkErr
			}
			if err != nil {
				fmt.Fprintf(stderr, "nexmark %s run %d/%d: FAILED: %v\n", name, i+1, o.repeat, err)
				errs = append(errs, err)
				failed = true
				break
			}
			fmt.Fprintf(stderr, "nexmark %s run %d/%d: %s events in %.2fs CPU, %.2fs wall: %s events/s per core; %d rows, equal to the reference\n",
				name, i+1, o.repeat, num(float64(n)), r.cpu.Seconds(), r.wall.Seconds(), num(r.perCore), r.rows)
			perCore, cpu, wall = append(perCore, r.perCore), append(cpu, r.cpu.Seconds()), append(wall, r.wall.Seconds())
			rows = r.rows
		}
		v1, _ := nexmark.FlinkV1.Figure(name)
		v2, _ := nexmark.FlinkV2.Figure(name)
		f1, f2 := v1.EventsPerSecondPerCore(), v2.EventsPerSecondPerCore()
		note := fmt.Sprintf("%d events per run, parallelism %d, event rate %d/s, watermark dateTime - 4s; Flink per core: V1 %s, V2 %s",
			n, o.parallelism, o.rate, num(f1), num(f2))
		if failed {
			note = "FAILED: " + note
			perCore = nil
		}
		rep.add("nexmark "+name+", events/s per core", "events/s/core", perCore, &target{atLeast: true, bound: 3 * max(f1, f2)}, note)
		if len(perCore) == 0 {
			continue
		}
		m := median(perCore)
		rep.Nexmark = append(rep.Nexmark, NexmarkRow{
			Query: name, Events: n, Parallelism: o.parallelism, EventRate: o.rate, Rows: rows,
			PerCore: m, CPUSeconds: median(cpu), WallSeconds: median(wall),
			FlinkV1: f1, FlinkV2: f2, RatioV1: m / f1, RatioV2: m / f2, Met: m >= 3*f1 && m >= 3*f2,
		})
		if o.cpuprofile != "" {
			file := o.cpuprofile + "." + name
			r, err := runNexmarkOnce(ctx, q, o, n, false, file)
			if err == nil {
				err = r.checkErr
			}
			if err != nil {
				fmt.Fprintf(stderr, "nexmark %s, profiled run: FAILED: %v\n", name, err)
				errs = append(errs, err)
				continue
			}
			fmt.Fprintf(stderr, "nexmark %s: CPU profile in %s\n", name, file)
			top := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount", "30", file)
			top.Stdout, top.Stderr = stderr, io.Discard
			if err := top.Run(); err != nil {
				errs = append(errs, fmt.Errorf("nexmark: pprof -top %s: %w", file, err))
			}
		}
	}
	return errors.Join(errs...)
}
