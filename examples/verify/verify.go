// Package verify is the Verify job: a deterministic keyed counting job whose
// committed output `tide verify` checks line by line, so that a deployment
// (or a test) can prove that rescales, crashes and restores lost nothing
// and counted nothing twice.
//
// The source emits (key = i mod K, value = i) for i < N. It is made of
// splits: split s owns the keys k with k mod S == s and emits their records
// in increasing i, so the records of one key always come from one split, in
// order. A keyed function keeps count and sum per key in ValueState and
// writes "key,count,sum" per record through the exactly-once file sink.
// For key k the line with count c therefore has sum c*k + K*c*(c-1)/2.
//
// Its stateful operators (the source, the keyed function and the sink) have
// UIDs ("verify-source", "count-sum", "file-sink"), as every job whose
// checkpoints and savepoints must outlive changes of its code should: their
// state is found by those ids, whatever is added to the job around them.
//
// Over Kafka (--bootstrap-servers B --topic T --output-topic T2) the input
// is read from T instead (decimal values i, keyed i mod K by the producer,
// as `tide datagen --payload verify` writes them) and the lines go to T2
// through the exactly-once Kafka sink; the Kafka source and sink have
// their own UIDs, "verify-kafka-source" and "kafka-sink", since their state
// is not the generator's or the file sink's.
package verify

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/kafka"
	"github.com/tide-stream/tide/stream"
)

// Options are the job's arguments.
type Options struct {
	Keys   int64
	Count  int64 // 0: unbounded
	Rate   float64
	Output string
	Splits int
	// Brokers are the Kafka bootstrap servers, comma-separated, of Topic
	// and OutputTopic.
	Brokers string
	// Topic, when set, is read instead of generating the input.
	Topic string
	// OutputTopic, when set, receives the lines instead of Output.
	OutputTopic string
	// TransactionalIDPrefix names the output's transactions.
	TransactionalIDPrefix string
}

// ParseArgs parses --keys K --count N --rate R --output DIR [--splits S],
// or over Kafka --bootstrap-servers B --topic T (instead of generating)
// and --output-topic T2 (instead of --output). For -h or --help it returns
// an error that wraps flag.ErrHelp and whose Usage method returns the
// job's usage.
func ParseArgs(args []string) (Options, error) {
	fs := flag.NewFlagSet("Verify", flag.ContinueOnError)
	var o Options
	fs.Int64Var(&o.Keys, "keys", 16, "number of keys K")
	fs.Int64Var(&o.Count, "count", 100000, "records N (0: unbounded); reading --topic, N > 0 reads each partition up to its end offset "+
		"when the job first started and ignores values i >= N")
	fs.Float64Var(&o.Rate, "rate", 0, "records per second over all splits (0: as fast as possible); generated input only")
	fs.StringVar(&o.Output, "output", "verify-output", "directory of the exactly-once file sink")
	fs.IntVar(&o.Splits, "splits", 0, "source splits (default min(K, 32)); generated input only")
	fs.StringVar(&o.Brokers, "bootstrap-servers", "", "Kafka brokers host:port[,host:port…] of --topic and --output-topic")
	fs.StringVar(&o.Topic, "topic", "", "read the input from this Kafka topic (values i in decimal, keyed i mod K, as "+
		"`tide datagen --payload verify --keys K` writes them) instead of generating it")
	fs.StringVar(&o.OutputTopic, "output-topic", "", "write the lines to this Kafka topic through the exactly-once Kafka sink "+
		"(transactions; read with isolation.level=read_committed) instead of --output")
	fs.StringVar(&o.TransactionalIDPrefix, "transactional-id-prefix", "", "prefix of the output's Kafka transactional ids, unique to "+
		"this job (default tide-verify-<output-topic>)")
	if err := stream.ParseFlags(fs, about, args); err != nil {
		return o, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	kafkaIn, kafkaOut := o.Topic != "", o.OutputTopic != ""
	switch {
	case (kafkaIn || kafkaOut) && o.Brokers == "":
		return o, errors.New("--topic and --output-topic need --bootstrap-servers")
	case o.Brokers != "" && !kafkaIn && !kafkaOut:
		return o, errors.New("--bootstrap-servers needs --topic or --output-topic")
	case kafkaOut && set["output"]:
		return o, errors.New("--output DIR and --output-topic exclude each other")
	case kafkaIn && (set["rate"] || set["splits"]):
		return o, errors.New("--rate and --splits apply to generated input, not to --topic")
	}
	if kafkaOut && o.TransactionalIDPrefix == "" {
		o.TransactionalIDPrefix = "tide-verify-" + o.OutputTopic
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.Keys < 1:
		return o, fmt.Errorf("--keys %d must be at least 1", o.Keys)
	case o.Count < 0:
		return o, fmt.Errorf("--count %d must not be negative", o.Count)
	case o.Rate < 0:
		return o, fmt.Errorf("--rate %v must not be negative", o.Rate)
	case o.Output == "":
		return o, errors.New("--output DIR is required")
	}
	if o.Splits <= 0 {
		o.Splits = int(min(o.Keys, 32))
	}
	if int64(o.Splits) > o.Keys {
		return o, fmt.Errorf("--splits %d exceeds --keys %d", o.Splits, o.Keys)
	}
	return o, nil
}

// Record is one source record.
type Record struct{ Key, Value int64 }

// RecordCodec encodes a Record in 16 bytes.
type RecordCodec struct{}

func (RecordCodec) Append(dst []byte, r Record) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Key))
	return binary.BigEndian.AppendUint64(dst, uint64(r.Value))
}

func (RecordCodec) Decode(src []byte) (Record, int, error) {
	if len(src) < 16 {
		return Record{}, 0, codec.ErrShort
	}
	return Record{int64(binary.BigEndian.Uint64(src)), int64(binary.BigEndian.Uint64(src[8:]))}, 16, nil
}

// Result is one output line: a key's count and sum after a record.
type Result struct{ Key, Count, Sum int64 }

// ResultCodec encodes a Result in 24 bytes.
type ResultCodec struct{}

func (ResultCodec) Append(dst []byte, r Result) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Key))
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Count))
	return binary.BigEndian.AppendUint64(dst, uint64(r.Sum))
}

func (ResultCodec) Decode(src []byte) (Result, int, error) {
	if len(src) < 24 {
		return Result{}, 0, codec.ErrShort
	}
	return Result{int64(binary.BigEndian.Uint64(src)), int64(binary.BigEndian.Uint64(src[8:])), int64(binary.BigEndian.Uint64(src[16:]))}, 24, nil
}

// Build declares the Verify job.
func Build(env *stream.Env, args []string) error {
	o, err := ParseArgs(args)
	if err != nil {
		return err
	}
	var src stream.DataStream[Record]
	if o.Topic != "" {
		src = stream.FromSource(env, KafkaSource(o), stream.UID("verify-kafka-source"))
		if o.Count > 0 {
			src = stream.Filter(src, "BelowCount", func(r Record) bool { return r.Value < o.Count })
		}
	} else {
		src = stream.FromSource(env, Source(o), stream.UID("verify-source"))
	}
	keyed := stream.KeyBy(src.WithCodec(RecordCodec{}), func(r Record) int64 { return r.Key })
	counts := stream.Process(keyed, "CountSum", func() stream.ProcessFunction[int64, Record, Result] {
		return &countSum{}
	}, stream.UID("count-sum")).WithCodec(ResultCodec{})
	if o.OutputTopic != "" {
		stream.SinkTo(counts, "KafkaSink", KafkaSink(o), stream.UID("kafka-sink"))
	} else {
		stream.FileSink(counts, "FileSink", o.Output, FormatResult, stream.UID("file-sink"))
	}
	return nil
}

// KafkaSource reads the input from o.Topic: record values are decimal
// integers i, keyed i mod K by the producer so that each key's records are
// in one partition, in order. With o.Count > 0 it is bounded: each
// partition is read up to its end offset when the job first started.
func KafkaSource(o Options) stream.Source[Record] {
	keys := o.Keys
	return kafka.Source(kafka.Config[Record]{
		Name:    "VerifyKafkaSource",
		Brokers: strings.Split(o.Brokers, ","),
		Topics:  []string{o.Topic},
		Group:   "tide-verify-" + o.Topic,
		Start:   kafka.Earliest,
		Bounded: o.Count > 0,
		Deserialize: func(_, v []byte) (Record, error) {
			i, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return Record{}, err
			}
			if i < 0 {
				return Record{}, fmt.Errorf("value %d is negative", i)
			}
			return Record{Key: i % keys, Value: i}, nil
		},
	})
}

// KafkaSink writes "key,count,sum" lines as record values, keyed by the
// key, to o.OutputTopic through the exactly-once Kafka sink.
func KafkaSink(o Options) func() stream.SinkWriter[Result] {
	return kafka.Sink(kafka.SinkConfig[Result]{
		Brokers: strings.Split(o.Brokers, ","),
		Topic:   o.OutputTopic,
		Serialize: func(r Result) ([]byte, []byte, error) {
			return strconv.AppendInt(nil, r.Key, 10), FormatResult(nil, r), nil
		},
		Guarantee:             kafka.ExactlyOnce,
		TransactionalIDPrefix: o.TransactionalIDPrefix,
	})
}

// FormatResult appends "key,count,sum".
func FormatResult(dst []byte, r Result) []byte {
	dst = strconv.AppendInt(dst, r.Key, 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, r.Count, 10)
	dst = append(dst, ',')
	return strconv.AppendInt(dst, r.Sum, 10)
}

type countSum struct {
	count, sum *stream.ValueState[int64, int64]
}

func (c *countSum) Open(rt *stream.KeyedRuntime[int64]) error {
	var err error
	if c.count, err = stream.Value[int64](rt, "count"); err != nil {
		return err
	}
	c.sum, err = stream.Value[int64](rt, "sum")
	return err
}

func (c *countSum) Process(key int64, r Record, out stream.Collector[Result]) error {
	n := c.count.Value() + 1
	s := c.sum.Value() + r.Value
	c.count.Update(n)
	c.sum.Update(s)
	out.Emit(Result{Key: key, Count: n, Sum: s})
	return nil
}

// Source returns the Verify source.
func Source(o Options) stream.Source[Record] {
	return stream.Source[Record]{
		Name: "VerifySource",
		Open: func(ctx stream.SourceContext, restored [][]byte) (stream.SourceReader[Record], error) {
			return newReader(o, ctx, restored)
		},
	}
}

// split is one split's position: the index of its next record in its
// sequence of records (round-major over its keys).
type split struct {
	id   int
	next int64
	keys []int64 // the split's keys, increasing
}

type reader struct {
	o       Options
	now     func() time.Time
	splits  []*split
	start   time.Time
	emitted int64
}

const batch = 1024

func newReader(o Options, ctx stream.SourceContext, restored [][]byte) (*reader, error) {
	r := &reader{o: o, now: ctx.Now}
	if restored == nil {
		for s := ctx.Subtask(); s < o.Splits; s += ctx.Parallelism() {
			r.splits = append(r.splits, r.newSplit(s, 0))
		}
	} else {
		for _, e := range restored {
			if len(e) != 16 {
				return nil, fmt.Errorf("Verify source: split state of %d bytes, want 16", len(e))
			}
			id := int(binary.BigEndian.Uint64(e))
			next := int64(binary.BigEndian.Uint64(e[8:]))
			if id < 0 || id >= o.Splits || next < 0 {
				return nil, fmt.Errorf("Verify source: split state (%d, %d) out of range for %d splits", id, next, o.Splits)
			}
			r.splits = append(r.splits, r.newSplit(id, next))
		}
	}
	r.start = r.now()
	return r, nil
}

func (r *reader) newSplit(id int, next int64) *split {
	s := &split{id: id, next: next}
	for k := int64(id); k < r.o.Keys; k += int64(r.o.Splits) {
		s.keys = append(s.keys, k)
	}
	return s
}

// value returns the i of the split's j-th record.
func (r *reader) value(s *split, j int64) int64 {
	n := int64(len(s.keys))
	return (j/n)*r.o.Keys + s.keys[j%n]
}

func (r *reader) Poll(_ context.Context, out stream.SourceOutput[Record]) (stream.PollStatus, time.Duration, error) {
	if len(r.splits) == 0 {
		return stream.Done, 0, nil
	}
	budget := int64(batch)
	if r.o.Rate > 0 {
		// Pace this reader at its splits' share of the job's rate.
		share := r.o.Rate * float64(r.keyCount()) / float64(r.o.Keys)
		due := int64(r.now().Sub(r.start).Seconds()*share) - r.emitted
		if due <= 0 {
			return stream.Idle, time.Duration(float64(time.Second) / max(share, 1e-3)), nil
		}
		budget = min(budget, due)
	}
	live := false
	for _, s := range r.splits {
		for i := int64(0); i < budget/int64(len(r.splits))+1; i++ {
			v := r.value(s, s.next)
			if r.o.Count > 0 && v >= r.o.Count {
				break
			}
			out.Emit(Record{Key: v % r.o.Keys, Value: v})
			s.next++
			r.emitted++
		}
		if r.o.Count == 0 || r.value(s, s.next) < r.o.Count {
			live = true
		}
	}
	if !live {
		return stream.Done, 0, nil
	}
	return stream.More, 0, nil
}

func (r *reader) keyCount() int {
	n := 0
	for _, s := range r.splits {
		n += len(s.keys)
	}
	return max(n, 1)
}

func (r *reader) Snapshot(uint64) ([][]byte, error) {
	out := make([][]byte, len(r.splits))
	for i, s := range r.splits {
		e := binary.BigEndian.AppendUint64(nil, uint64(s.id))
		out[i] = binary.BigEndian.AppendUint64(e, uint64(s.next))
	}
	return out, nil
}

func (r *reader) Position() int64 {
	var p int64
	for _, s := range r.splits {
		p += s.next
	}
	return p
}

func (r *reader) Close() error { return nil }

// about is what `-- --help` prints before the arguments.
const about = "Verify: a deterministic keyed counting job. It emits (key = i mod K, value = i)\n" +
	"for i < N at R records/s, keeps a count and a sum per key, and writes one line\n" +
	"\"key,count,sum\" per record through the exactly-once file sink under DIR, which\n" +
	"`tide verify --output DIR --keys K --count N` checks. With N > 0 the job finishes\n" +
	"when its input is done; N = 0 runs until it is stopped.\n\n" +
	"Over Kafka, --bootstrap-servers B --topic T reads the input (decimal values i keyed\n" +
	"i mod K, as `tide datagen --payload verify --keys K` writes them) instead of generating\n" +
	"it, and --output-topic T2 writes the lines through the exactly-once Kafka sink instead\n" +
	"of --output; `tide verify --bootstrap-servers B --topic T2 --keys K --count N` checks them."
