package cpuload

import (
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"time"

	"github.com/tide-stream/tide/kafka"
	"github.com/tide-stream/tide/stream"
)

// Options are the job's arguments.
type Options struct {
	Topic       string
	Brokers     []string // --bootstrap-servers, split at commas
	Group       string
	Iterations  int
	Partitions  int
	Start       kafka.StartOffset
	LogInterval time.Duration
	Bounded     bool
}

// DefaultIterations is the seed's default of --iterations.
const DefaultIterations = 500

// ParseArgs parses the job's arguments. For -h or --help it returns an
// error that wraps flag.ErrHelp. Without --bootstrap-servers it returns a
// *stream.KafkaRequired, which `tide run` answers with a broker of its own.
func ParseArgs(args []string) (Options, error) {
	fs := flag.NewFlagSet("CPULoad", flag.ContinueOnError)
	var o Options
	var brokers, start string
	fs.StringVar(&o.Topic, "topic", "topic", "the Kafka topic to read (the seed's is named topic)")
	fs.StringVar(&brokers, "bootstrap-servers", "", "Kafka bootstrap servers, host:port[,host:port…] (required; tide run starts an in-memory broker without it)")
	fs.StringVar(&o.Group, "group-id", "cpuload", "consumer group that completed checkpoints' offsets are committed to, for lag tools")
	fs.IntVar(&o.Iterations, "iterations", DefaultIterations, "iterations of res += sin(cos(res))*2 per record")
	fs.IntVar(&o.Partitions, "partitions", 1, "partitions of the topic: the source runs at most this many subtasks (and tide run's broker creates the topic with them)")
	fs.StringVar(&start, "start", "earliest", "where a fresh start reads each partition from: earliest or latest")
	fs.DurationVar(&o.LogInterval, "log-interval", 10*time.Second, "period of the throughput log lines of each source subtask")
	fs.BoolVar(&o.Bounded, "bounded", false, "read what the topic holds when the job first starts, then finish")
	if err := stream.ParseFlags(fs, about, args); err != nil {
		return o, err
	}
	for _, b := range strings.Split(brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			o.Brokers = append(o.Brokers, b)
		}
	}
	switch start {
	case "earliest":
		o.Start = kafka.Earliest
	case "latest":
		o.Start = kafka.Latest
	default:
		return o, fmt.Errorf("--start %q: want earliest or latest", start)
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected %q", fs.Args())
	case o.Topic == "":
		return o, fmt.Errorf("--topic must not be empty")
	case o.Iterations < 0:
		return o, fmt.Errorf("--iterations %d must not be negative", o.Iterations)
	case o.Partitions < 1:
		return o, fmt.Errorf("--partitions %d must be at least 1", o.Partitions)
	case o.LogInterval <= 0:
		return o, fmt.Errorf("--log-interval %v must be positive", o.LogInterval)
	case len(o.Brokers) == 0:
		return o, &stream.KafkaRequired{Flag: "--bootstrap-servers",
			Topics: []stream.KafkaTopic{{Name: o.Topic, Partitions: o.Partitions}}}
	}
	return o, nil
}

// Build declares the job, logging throughput to standard error.
func Build(env *stream.Env, args []string) error {
	return Job(slog.New(slog.NewTextHandler(os.Stderr, nil)))(env, args)
}

// Job returns the job's build function with its throughput lines logged
// to log.
func Job(log *slog.Logger) stream.JobFunc {
	return func(env *stream.Env, args []string) error {
		o, err := ParseArgs(args)
		if err != nil {
			return err
		}
		stream.Discard(Declare(env, o, log), stream.UID("discard"))
		return nil
	}
}

// Result is what the computation emits for a record: its value and the
// computation's result.
type Result struct {
	Value string
	Res   float64
}

// Declare declares the source, the throughput logger, the rebalance and the
// computation, and returns the computation's output.
func Declare(env *stream.Env, o Options, log *slog.Logger) stream.DataStream[Result] {
	src := stream.FromSource(env, kafka.Source(kafka.Config[string]{
		Name:        "Kafka",
		Brokers:     o.Brokers,
		Topics:      []string{o.Topic},
		Group:       o.Group,
		Start:       o.Start,
		Bounded:     o.Bounded,
		Deserialize: func(_, v []byte) (string, error) { return string(v), nil },
	}), stream.UID("kafka-source"), stream.MaxParallelism(o.Partitions))
	stream.SinkTo(src, "Throughput Logger", func() stream.SinkWriter[string] {
		return &throughputLogger{log: log, every: o.LogInterval}
	}, stream.UID("throughput-logger"), stream.MaxParallelism(o.Partitions))
	iterations := o.Iterations
	return stream.Map(src.Rebalance(), "Expensive Computation", func(v string) Result {
		return Result{Value: v, Res: Compute(iterations)}
	})
}

// Compute is the seed's expensive computation: iterations times
// res += sin(cos(res))·2, from 0.
func Compute(iterations int) float64 {
	res := 0.0
	for range iterations {
		res += math.Sin(math.Cos(res)) * 2
	}
	return res
}

// about is what `-- --help` prints before the arguments.
const about = "CPULoad: the seed's Reactive Mode demo job. Reads a Kafka topic (the source runs at most\n" +
	"--partitions subtasks), logs each source subtask's throughput every --log-interval, rebalances\n" +
	"the records over every slot and burns CPU on each (--iterations of res += sin(cos(res))*2,\n" +
	"about 20-25 µs at the default 500), then discards them. Produce its input with tide datagen;\n" +
	"tide run starts an in-memory Kafka broker when --bootstrap-servers is not given."
