package throughput

import (
	"log/slog"
	"os"
	"time"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/stream"
)

// Build declares the Throughput job.
func Build(env *stream.Env, args []string) error {
	o, err := ParseArgs(args)
	if err != nil {
		return err
	}
	var log *slog.Logger
	if o.Progress > 0 {
		// Progress lines go to the process's standard error as JSON, next to
		// the TaskManager's own log, for the bench tool to read.
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	src := stream.FromSource(env, Source(o, log)).WithCodec(RecordCodec{})
	switch {
	case !o.Stateful && o.Work == WorkText:
		lines := stream.Map(src, "FormatLine", FormatLine).WithCodec(codec.String{})
		parsed := stream.Map(lines, "ParseLine", ParseLine).WithCodec(RecordCodec{})
		valid := stream.Filter(parsed, "Valid", Valid).WithCodec(RecordCodec{})
		stream.Discard(stream.Map(valid, "Render", Render).WithCodec(codec.String{}))
		return nil
	case !o.Stateful:
		m := stream.Map(src, "Scramble", Scramble).WithCodec(RecordCodec{})
		f := stream.Filter(m, "Keep", Keep).WithCodec(RecordCodec{})
		p := stream.Map(f, "Project", Project).WithCodec(RecordCodec{})
		stream.Discard(p)
		return nil
	}
	keyed := stream.KeyBy(src, func(r Record) int64 { return r.Key })
	counts := stream.Process(keyed, "CountSum", func() stream.ProcessFunction[int64, Record, Record] {
		return &countSum{log: log, every: o.Progress, payloadSize: o.StateBytesPerKey}
	}).WithCodec(RecordCodec{})
	stream.Discard(counts)
	return nil
}

// countSum keeps a count and a sum per key in ValueState and emits
// (key, count) per record; with payloadSize > 0 it also stores a
// payloadSize-byte value once per key (Payload), to give the job a chosen
// amount of keyed state. With a logger it reports how many records it
// processed every period.
type countSum struct {
	count, sum  *stream.ValueState[int64, int64]
	payload     *stream.ValueState[int64, []byte]
	payloadSize int
	rt          *stream.KeyedRuntime[int64]
	log         *slog.Logger
	every       time.Duration
	processed   int64
	reported    time.Time
}

// Open declares the two value states.
func (c *countSum) Open(rt *stream.KeyedRuntime[int64]) error {
	var err error
	c.rt = rt
	if c.count, err = stream.Value[int64](rt, "count"); err != nil {
		return err
	}
	if c.sum, err = stream.Value[int64](rt, "sum"); err != nil {
		return err
	}
	if c.payloadSize > 0 {
		c.payload, err = stream.Value[[]byte](rt, "payload", codec.Bytes{})
	}
	return err
}

// checkEvery is how many records pass between two looks at the clock.
const checkEvery = 1 << 14

// Process counts r under its key.
func (c *countSum) Process(key int64, r Record, out stream.Collector[Record]) error {
	n := c.count.Value() + 1
	c.count.Update(n)
	c.sum.Update(c.sum.Value() + r.Value)
	if c.payload != nil {
		if _, ok := c.payload.Get(); !ok {
			c.payload.Update(Payload(key, c.payloadSize))
		}
	}
	out.Emit(Record{Key: key, Value: n})
	c.processed++
	if c.log != nil && c.processed%checkEvery == 1 {
		c.maybeReport()
	}
	return nil
}

func (c *countSum) maybeReport() {
	now := time.Now()
	if c.processed > 1 && now.Sub(c.reported) < c.every {
		return
	}
	c.reported = now
	c.log.Info("throughput keyed progress", "subtask", c.rt.Subtask(), "processed", c.processed, "at", now.UnixNano())
}
