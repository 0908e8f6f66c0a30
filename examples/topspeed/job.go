package topspeed

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/stream"
)

// The job: Flink 1.13's TopSpeedWindowing on Tide.

// Options are the job's arguments.
type Options struct {
	Cars   int    // generated cars, without --input
	Rounds int64  // generated rounds (0: without end)
	Seed   int64  // of the generated cars
	Input  string // a file of events; empty: generated
	Skip   bool   // count and skip malformed lines of --input
	Rate   float64
	Output string // empty: print
}

// ParseArgs parses the job's arguments. For -h or --help it returns an
// error that wraps flag.ErrHelp.
func ParseArgs(args []string) (Options, error) {
	fs := flag.NewFlagSet("TopSpeedWindowing", flag.ContinueOnError)
	var o Options
	fs.IntVar(&o.Cars, "cars", 2, "cars to generate, one event each every 100ms (without --input)")
	fs.Int64Var(&o.Rounds, "rounds", 0, "rounds of generated events, then the job finishes (0: without end)")
	fs.Int64Var(&o.Seed, "seed", 1, "seed of the generated cars' speeds")
	fs.StringVar(&o.Input, "input", "", "file of events, \"(carId,speed,distance,timestamp)\" a line, in timestamp order per car")
	fs.BoolVar(&o.Skip, "skip-malformed", false, "count and skip malformed lines of --input instead of failing")
	fs.Float64Var(&o.Rate, "rate", 0, "events per second read from --input (0: as fast as possible)")
	fs.StringVar(&o.Output, "output", "", "directory for the exactly-once file sink (default: print)")
	if err := stream.ParseFlags(fs, about, args); err != nil {
		return o, err
	}
	switch {
	case o.Input == "" && (o.Cars < 1 || o.Cars > MaxCars):
		return o, fmt.Errorf("--cars %d: want 1 to %d", o.Cars, MaxCars)
	case o.Rounds < 0:
		return o, fmt.Errorf("--rounds %d must not be negative", o.Rounds)
	case o.Rate < 0:
		return o, fmt.Errorf("--rate %v must not be negative", o.Rate)
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected %q", fs.Args())
	}
	if o.Input != "" {
		if _, err := os.Stat(o.Input); err != nil {
			return o, fmt.Errorf("--input: %w", err)
		}
	}
	return o, nil
}

// Build declares the job: per car, global windows with a 10 s time evictor
// and a delta trigger on distance (50 m), emitting the fastest event left
// in the window each time the trigger fires.
func Build(env *stream.Env, args []string) error {
	o, err := ParseArgs(args)
	if err != nil {
		return err
	}
	cars := stream.FromSource(env, Source(o), stream.UID("car-source"),
		stream.WithWatermarks(stream.MonotonousTimestamps(func(e Event) int64 { return e.Timestamp }))).WithCodec(Codec{})
	windows := stream.KeyBy(cars, func(e Event) int64 { return int64(e.CarID) }).
		Window(stream.GlobalWindows()).
		Evictor(stream.TimeEvictor[Event](EvictionWindow)).
		Trigger(stream.DeltaTrigger(TriggerMeters, func(last, v Event) float64 { return v.Distance - last.Distance }))
	top := stream.WindowMaxBy(windows, "top speed", func(a, b Event) bool { return a.Speed < b.Speed }, stream.UID("top-speed")).WithCodec(Codec{})
	if o.Output != "" {
		stream.FileSink(top, "FileSink", o.Output, func(dst []byte, e Event) []byte { return e.AppendText(dst) }, stream.UID("file-sink"))
		return nil
	}
	stream.Print(top, stream.UID("print"))
	return nil
}

// EvictionWindow is the time evictor's size, EvictionMillis as a duration.
const EvictionWindow = EvictionMillis * time.Millisecond

// Codec encodes an Event in 24 bytes.
type Codec struct{}

func (Codec) Append(dst []byte, e Event) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(e.CarID))
	dst = binary.BigEndian.AppendUint32(dst, uint32(e.Speed))
	dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(e.Distance))
	return binary.BigEndian.AppendUint64(dst, uint64(e.Timestamp))
}

func (Codec) Decode(src []byte) (Event, int, error) {
	if len(src) < 24 {
		return Event{}, 0, codec.ErrShort
	}
	return Event{CarID: int32(binary.BigEndian.Uint32(src)), Speed: int32(binary.BigEndian.Uint32(src[4:])),
		Distance: math.Float64frombits(binary.BigEndian.Uint64(src[8:])), Timestamp: int64(binary.BigEndian.Uint64(src[16:]))}, 24, nil
}

// Source is the job's source: non-parallel, as Flink's. Generated cars
// emit a round every Interval, stamped with the wall clock; their state is
// the generator's. A file is read line by line; its state is the lines
// read.
func Source(o Options) stream.Source[Event] {
	return stream.Source[Event]{
		Name:        "Cars",
		NonParallel: true,
		Open: func(ctx stream.SourceContext, restored [][]byte) (stream.SourceReader[Event], error) {
			if len(restored) > 1 {
				return nil, fmt.Errorf("TopSpeedWindowing source: %d state entries, want at most 1", len(restored))
			}
			if o.Input != "" {
				return openFile(o, ctx, restored)
			}
			return openGenerator(o, ctx, restored)
		},
	}
}

type generated struct {
	o      Options
	g      *Generator
	now    func() time.Time
	rounds int64
	next   time.Time
	buf    []Event
}

func openGenerator(o Options, ctx stream.SourceContext, restored [][]byte) (*generated, error) {
	g, err := NewGenerator(o.Cars, o.Seed)
	if err != nil {
		return nil, err
	}
	r := &generated{o: o, g: g, now: ctx.Now}
	if len(restored) == 1 {
		e := restored[0]
		if len(e) < 8 {
			return nil, fmt.Errorf("TopSpeedWindowing source: state of %d bytes", len(e))
		}
		r.rounds = int64(binary.BigEndian.Uint64(e))
		if err := g.UnmarshalBinary(e[8:]); err != nil {
			return nil, fmt.Errorf("TopSpeedWindowing source: %w", err)
		}
		if g.Cars() != o.Cars {
			return nil, fmt.Errorf("TopSpeedWindowing source: the state has %d cars, --cars %d", g.Cars(), o.Cars)
		}
	}
	r.next = r.now().Add(Interval)
	return r, nil
}

func (r *generated) Poll(_ context.Context, out stream.SourceOutput[Event]) (stream.PollStatus, time.Duration, error) {
	if r.o.Rounds > 0 && r.rounds >= r.o.Rounds {
		return stream.Done, 0, nil
	}
	now := r.now()
	if wait := r.next.Sub(now); wait > 0 {
		return stream.Idle, wait, nil
	}
	r.buf = r.g.Round(r.buf[:0], now)
	for _, e := range r.buf {
		out.Emit(e)
	}
	r.rounds++
	r.next = r.next.Add(Interval)
	if r.next.Before(now) {
		r.next = now.Add(Interval) // behind (a pause): no burst of rounds
	}
	return stream.More, 0, nil
}

func (r *generated) Snapshot(uint64) ([][]byte, error) {
	g, err := r.g.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return [][]byte{append(binary.BigEndian.AppendUint64(nil, uint64(r.rounds)), g...)}, nil
}

func (r *generated) Position() int64 { return r.rounds * int64(r.g.Cars()) }
func (r *generated) Close() error    { return nil }

type fromFile struct {
	o       Options
	file    *os.File
	in      *Reader
	now     func() time.Time
	start   time.Time
	read    int64 // events read since the job's first start
	emitted int64 // since this reader opened, for pacing
}

func openFile(o Options, ctx stream.SourceContext, restored [][]byte) (*fromFile, error) {
	f, err := os.Open(o.Input)
	if err != nil {
		return nil, fmt.Errorf("TopSpeedWindowing source: %w", err)
	}
	var opts []ReaderOption
	if o.Skip {
		opts = append(opts, SkipMalformed())
	}
	r := &fromFile{o: o, file: f, in: NewReader(f, opts...), now: ctx.Now}
	if len(restored) == 1 {
		if len(restored[0]) != 8 {
			f.Close()
			return nil, fmt.Errorf("TopSpeedWindowing source: state of %d bytes, want 8", len(restored[0]))
		}
		skip := int64(binary.BigEndian.Uint64(restored[0]))
		for r.read < skip {
			if _, err := r.in.Next(); err != nil {
				f.Close()
				return nil, fmt.Errorf("TopSpeedWindowing source: skip to event %d of %s: %w", skip, o.Input, err)
			}
			r.read++
		}
	}
	r.start = r.now()
	return r, nil
}

func (r *fromFile) Poll(_ context.Context, out stream.SourceOutput[Event]) (stream.PollStatus, time.Duration, error) {
	budget := int64(256)
	if r.o.Rate > 0 {
		due := int64(r.now().Sub(r.start).Seconds()*r.o.Rate) - r.emitted
		if due <= 0 {
			return stream.Idle, time.Duration(float64(time.Second) / r.o.Rate), nil
		}
		budget = min(budget, due)
	}
	for range budget {
		e, err := r.in.Next()
		if errors.Is(err, io.EOF) {
			return stream.Done, 0, nil
		}
		if err != nil {
			// A malformed line fails the job for good: a restart would read
			// it again. --skip-malformed counts and skips such lines.
			return stream.Done, 0, stream.Permanent(fmt.Errorf("%s: %w (or run with --skip-malformed)", r.o.Input, err))
		}
		out.Emit(e)
		r.read++
		r.emitted++
	}
	return stream.More, 0, nil
}

func (r *fromFile) Snapshot(uint64) ([][]byte, error) {
	return [][]byte{binary.BigEndian.AppendUint64(nil, uint64(r.read))}, nil
}

func (r *fromFile) Position() int64 { return r.read }

func (r *fromFile) Close() error {
	if n, first := r.in.Skipped(); n > 0 {
		fmt.Fprintf(os.Stderr, "TopSpeedWindowing: skipped %d malformed lines of %s, the first: %v\n", n, r.o.Input, first)
	}
	return r.file.Close()
}

// about is what `-- --help` prints before the arguments.
const about = "TopSpeedWindowing: Flink's example. Per car, global windows with a 10 s time evictor\n" +
	"and a trigger that fires when the car has driven more than 50 m since the last firing;\n" +
	"each firing emits the fastest event left in the window, \"(carId,speed,distance,timestamp)\".\n" +
	"Cars are generated (--cars N, one event each every 100 ms) or read from a file (--input);\n" +
	"the results are printed to the TaskManagers' .out files or, with --output DIR, written\n" +
	"through the exactly-once file sink."
