package throughput

import (
	"flag"
	"fmt"
	"io"
	"time"
)

// Options are the job's arguments.
type Options struct {
	// Records is N, the number of records; 0 is unbounded.
	Records int64
	// Keys is K, the number of distinct keys.
	Keys int64
	// Stateful selects the keyed pipeline.
	Stateful bool
	// Rate paces the source, records/s over all splits; 0 is as fast as it can.
	Rate float64
	// Splits is S, the number of source splits (default 32).
	Splits int
	// Progress is the period of progress lines on standard error; 0 is silent.
	Progress time.Duration
}

// ParseArgs parses --records N --keys K [--stateful] [--rate R]
// [--splits S] [--progress D].
func ParseArgs(args []string) (Options, error) {
	fs := flag.NewFlagSet("Throughput", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o Options
	fs.Int64Var(&o.Records, "records", 10_000_000, "records N (0: unbounded)")
	fs.Int64Var(&o.Keys, "keys", 1024, "number of keys K")
	fs.BoolVar(&o.Stateful, "stateful", false, "run the keyed pipeline (KeyBy -> Process with ValueState)")
	fs.Float64Var(&o.Rate, "rate", 0, "records per second over all splits (0: as fast as possible)")
	fs.IntVar(&o.Splits, "splits", 32, "source splits")
	fs.DurationVar(&o.Progress, "progress", 0, "period of JSON progress lines on stderr (0: none)")
	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("Throughput job arguments: %w", err)
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("Throughput job arguments: unexpected %q", fs.Arg(0))
	case o.Records < 0:
		return o, fmt.Errorf("Throughput job arguments: --records %d must not be negative", o.Records)
	case o.Keys < 1:
		return o, fmt.Errorf("Throughput job arguments: --keys %d must be at least 1", o.Keys)
	case o.Rate < 0:
		return o, fmt.Errorf("Throughput job arguments: --rate %v must not be negative", o.Rate)
	case o.Splits < 1:
		return o, fmt.Errorf("Throughput job arguments: --splits %d must be at least 1", o.Splits)
	case o.Progress < 0:
		return o, fmt.Errorf("Throughput job arguments: --progress %v must not be negative", o.Progress)
	}
	return o, nil
}
