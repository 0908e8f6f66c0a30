// Command kafkapeers measures Tide's Kafka reading against its peers, side
// by side in one run, on one in-process kfake cluster and one pre-filled
// topic (BENCHMARKS.md, "Kafka peers"):
//
//   - source: Tide's Kafka source into a sink that only counts (a Tide job
//     on an in-process cluster) against a bare franz-go consumer loop that
//     polls the same records and counts them;
//   - keyed: a count per key (the record key) in Tide (KeyBy and keyed
//     ValueState, checkpointed) against the same count in goka (a
//     processor with a group table, its default sarama settings).
//
// It is a module of its own, so that Tide's module never depends on goka:
//
//	cd bench/kafkapeers && go run . [--records 4000000] [--partitions 4] [--keys 1024]
//	    [--parallelism 2] [--repeat 5] [--only source,keyed] [--checkpoint-interval 1s]
//	    [--max-poll-records N] [--idle-wait D] [--cpuprofile FILE]
//
// Each repetition runs every system once, in turn, on the same topic; the
// table gives each system's median, minimum and maximum over the
// repetitions, and the ratios of the medians. A run's rate "reading" is
// the records divided by the time from its reader being ready (the
// franz-go client created; the Tide job RUNNING, its sources about to
// open their clients; goka's first record, after it joined its group)
// to its last record; "from start" divides by the time from the start of
// the run (clients, cluster, scheduling, consumer group) to its last
// record.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

type options struct {
	records     int64
	partitions  int
	keys        int
	parallelism int
	repeat      int
	only        string
	cpuprofile  string
	checkpoint  time.Duration
	timeout     time.Duration
	verbose     bool
	maxPoll     int
	idleWait    time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "kafkapeers: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kafkapeers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.Int64Var(&o.records, "records", 4_000_000, "records in the topic")
	fs.IntVar(&o.partitions, "partitions", 4, "partitions of the topic")
	fs.IntVar(&o.keys, "keys", 1024, "distinct record keys (key = i mod keys)")
	fs.IntVar(&o.parallelism, "parallelism", 2, "Tide's parallelism: one TaskManager with this many slots")
	fs.IntVar(&o.repeat, "repeat", 5, "repetitions of every system")
	fs.StringVar(&o.only, "only", "source,keyed", "which comparisons: source, keyed or both")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of each system's first run to FILE.<system>")
	fs.DurationVar(&o.checkpoint, "checkpoint-interval", time.Second, "Tide's checkpoint interval in the keyed job (0: none)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "bound of one run")
	fs.BoolVar(&o.verbose, "v", false, "Tide's and goka's warnings to stderr")
	fs.IntVar(&o.maxPoll, "max-poll-records", 0, "the Tide source's MaxPollRecords (0: its default, 500)")
	fs.DurationVar(&o.idleWait, "idle-wait", 0, "the Tide source's IdleWait (0: its default, 50ms)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.records < 1 || o.partitions < 1 || o.keys < 1 || o.parallelism < 1 || o.repeat < 1 {
		return errors.New("--records, --partitions, --keys, --parallelism and --repeat must be positive")
	}
	var systems []system
	for _, c := range strings.Split(o.only, ",") {
		switch strings.TrimSpace(c) {
		case "source":
			systems = append(systems, bareSystem(), tideSourceSystem())
		case "keyed":
			systems = append(systems, tideKeyedSystem(), gokaSystem())
		default:
			return fmt.Errorf("--only %q: want source, keyed or both", o.only)
		}
	}
	logs := io.Discard
	if o.verbose {
		logs = stderr
	}
	k, err := startKafka(o.partitions)
	if err != nil {
		return err
	}
	defer k.close()
	fmt.Fprintf(stderr, "kafkapeers: filling %s (%d partitions) with %d records of %d keys\n", topic, o.partitions, o.records, o.keys)
	fill, err := k.fill(ctx, o.records, o.keys)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "kafkapeers: filled in %v; %d CPUs, GOMAXPROCS %d\n", fill.Round(time.Millisecond), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	results := map[string][]result{}
	for rep := range o.repeat {
		for _, s := range systems {
			if err := ctx.Err(); err != nil {
				return err
			}
			runtime.GC()
			stopProfile, err := maybeProfile(o.cpuprofile, s.name, rep)
			if err != nil {
				return err
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r, err := s.run(ctx, k, o, rep, logs)
			runtime.ReadMemStats(&after)
			stopProfile()
			if err != nil {
				return fmt.Errorf("%s, run %d: %w", s.name, rep+1, err)
			}
			fmt.Fprintf(stderr, "kafkapeers: run %d %-12s %s; %d GCs, %d MB allocated\n", rep+1, s.name, r,
				after.NumGC-before.NumGC, (after.TotalAlloc-before.TotalAlloc)>>20)
			results[s.name] = append(results[s.name], r)
		}
	}
	report(stdout, o, systems, results)
	return nil
}

// maybeProfile starts a CPU profile of system's first run when asked.
func maybeProfile(prefix, system string, rep int) (func(), error) {
	if prefix == "" || rep != 0 {
		return func() {}, nil
	}
	f, err := os.Create(prefix + "." + system)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// system is one side of a comparison.
type system struct {
	name string
	run  func(ctx context.Context, k *kafka, o options, rep int, logs io.Writer) (result, error)
}

// result is one run: its records, when it started, when its reader was
// ready to read (the franz-go client: at once; Tide: the job RUNNING;
// goka: its first record), and
// when its last record arrived.
type result struct {
	records            int64
	start, ready, last time.Time
}

func (r result) reading() float64 { return float64(r.records) / r.last.Sub(r.ready).Seconds() }
func (r result) total() float64   { return float64(r.records) / r.last.Sub(r.start).Seconds() }

func (r result) String() string {
	return fmt.Sprintf("%d records: %s records/s reading (%v ready→last), %s records/s from start (%v, ready after %v)",
		r.records, num(r.reading()), r.last.Sub(r.ready).Round(time.Millisecond), num(r.total()),
		r.last.Sub(r.start).Round(time.Millisecond), r.ready.Sub(r.start).Round(time.Millisecond))
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func num(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f M", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f k", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// report prints every system's medians and the comparisons' ratios.
func report(w io.Writer, o options, systems []system, results map[string][]result) {
	poll := "default"
	if o.maxPoll > 0 {
		poll = fmt.Sprint(o.maxPoll)
	}
	fmt.Fprintf(w, "\n%d records, %d partitions, %d keys, Tide parallelism %d, Tide source MaxPollRecords %s, %d repetitions; medians [min–max]\n\n",
		o.records, o.partitions, o.keys, o.parallelism, poll, o.repeat)
	fmt.Fprintf(w, "| system | records/s reading (ready→last) | records/s from start |\n|---|---|---|\n")
	med := map[string][2]float64{}
	for _, s := range systems {
		var st, tot []float64
		for _, r := range results[s.name] {
			st, tot = append(st, r.reading()), append(tot, r.total())
		}
		med[s.name] = [2]float64{median(st), median(tot)}
		fmt.Fprintf(w, "| %s | %s [%s–%s] | %s [%s–%s] |\n", s.name,
			num(median(st)), num(slices.Min(st)), num(slices.Max(st)), num(median(tot)), num(slices.Min(tot)), num(slices.Max(tot)))
	}
	fmt.Fprintln(w)
	for _, c := range []struct{ a, b, goal string }{
		{"tide-source", "franz-go", "≥ 0.8"},
		{"tide-keyed", "goka", "≥ 5"},
	} {
		a, okA := med[c.a]
		b, okB := med[c.b]
		if okA && okB {
			fmt.Fprintf(w, "%s / %s: %.2f reading, %.2f from start (goal %s)\n", c.a, c.b, a[0]/b[0], a[1]/b[1], c.goal)
		}
	}
}
