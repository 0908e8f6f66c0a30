package throughput

import (
	"flag"
	"fmt"
	"time"

	"github.com/tide-stream/tide/stream"
)

// Work selects the stateless pipeline's per-record work.
type Work string

// The stateless pipelines.
const (
	// WorkTrivial is Map(Scramble) → Filter(Keep) → Map(Project) on 16-byte
	// records: a few nanoseconds of work per record, which measures the
	// runtime's per-record cost.
	WorkTrivial Work = "trivial"
	// WorkText is Map(FormatLine) → Map(ParseLine) → Filter(Valid) →
	// Map(Render): each record becomes a text line, is parsed back with
	// strconv and rendered as a result string, about a hundred nanoseconds
	// of work, the kind a real stateless job does.
	WorkText Work = "text"
)

// MaxStateBytesPerKey bounds --state-bytes-per-key.
const MaxStateBytesPerKey = 1 << 20

// Options are the job's arguments.
type Options struct {
	// Records is N, the number of records; 0 is unbounded.
	Records int64
	// Keys is K, the number of distinct keys.
	Keys int64
	// Stateful selects the keyed pipeline.
	Stateful bool
	// Work selects the stateless pipeline (ignored with Stateful).
	Work Work
	// StateBytesPerKey is the size of an extra []byte value the keyed
	// pipeline stores once per key (0: none), so that the keyed state is
	// about Keys × StateBytesPerKey bytes once every key has been seen.
	StateBytesPerKey int
	// Rate paces the source, records/s over all splits; 0 is as fast as it can.
	Rate float64
	// Splits is S, the number of source splits (default 32).
	Splits int
	// Progress is the period of progress lines on standard error; 0 is silent.
	Progress time.Duration
}

// ParseArgs parses --records N --keys K [--stateful
// [--state-bytes-per-key B]] [--work trivial|text] [--rate R] [--splits S]
// [--progress D]. For -h or --help it returns an error that wraps
// flag.ErrHelp and whose Usage method returns the job's usage.
func ParseArgs(args []string) (Options, error) {
	fs := flag.NewFlagSet("Throughput", flag.ContinueOnError)
	var o Options
	var work string
	fs.Int64Var(&o.Records, "records", 10_000_000, "records N (0: unbounded)")
	fs.Int64Var(&o.Keys, "keys", 1024, "number of keys K")
	fs.BoolVar(&o.Stateful, "stateful", false, "run the keyed pipeline (KeyBy -> Process with ValueState)")
	fs.StringVar(&work, "work", string(WorkTrivial), "stateless pipeline's work: trivial or text")
	fs.IntVar(&o.StateBytesPerKey, "state-bytes-per-key", 0, "keyed pipeline: bytes of an extra value stored once per key (0: none)")
	fs.Float64Var(&o.Rate, "rate", 0, "records per second over all splits (0: as fast as possible)")
	fs.IntVar(&o.Splits, "splits", 32, "source splits")
	fs.DurationVar(&o.Progress, "progress", 0, "period of JSON progress lines on stderr (0: none)")
	if err := stream.ParseFlags(fs, about, args); err != nil {
		return o, err
	}
	o.Work = Work(work)
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected %q", fs.Arg(0))
	case o.Records < 0:
		return o, fmt.Errorf("--records %d must not be negative", o.Records)
	case o.Keys < 1:
		return o, fmt.Errorf("--keys %d must be at least 1", o.Keys)
	case o.Work != WorkTrivial && o.Work != WorkText:
		return o, fmt.Errorf("--work %q must be %q or %q", work, WorkTrivial, WorkText)
	case o.StateBytesPerKey < 0 || o.StateBytesPerKey > MaxStateBytesPerKey:
		return o, fmt.Errorf("--state-bytes-per-key %d must be in [0, %d]", o.StateBytesPerKey, MaxStateBytesPerKey)
	case o.StateBytesPerKey > 0 && !o.Stateful:
		return o, fmt.Errorf("--state-bytes-per-key %d needs --stateful", o.StateBytesPerKey)
	case o.Rate < 0:
		return o, fmt.Errorf("--rate %v must not be negative", o.Rate)
	case o.Splits < 1:
		return o, fmt.Errorf("--splits %d must be at least 1", o.Splits)
	case o.Progress < 0:
		return o, fmt.Errorf("--progress %v must not be negative", o.Progress)
	}
	return o, nil
}

// about is what `-- --help` prints before the arguments.
const about = "Throughput: Tide's benchmark job. It generates 16-byte records (key = i mod K,\n" +
	"value = i) for i < N and runs them through a chained stateless pipeline (--work)\n" +
	"or, with --stateful, through KeyBy and a keyed count and sum, into a discarding\n" +
	"sink. Bounded input (N > 0) finishes the job."
