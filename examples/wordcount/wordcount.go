// Package wordcount is Flink's WordCount example on Tide: lines of text are
// split into words, and a running count per word is emitted after every
// occurrence, as "(word,count)". The text comes from a file (--input) or is
// generated deterministically (--lines N); the counts go to standard output
// (the TaskManagers' .out files) or, with --output DIR, through the
// exactly-once file sink.
//
// Its stateful operators (the source, the keyed count and the sink) have
// UIDs ("text-source", "count", "file-sink" or "print"), as every job whose
// checkpoints and savepoints must outlive changes of its code should: their
// state is found by those ids, whatever is added to the job around them.
package wordcount

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/stream"
)

// Options are the job's arguments.
type Options struct {
	Input  string // a text file; empty: generated text
	Lines  int64  // generated lines (without --input)
	Rate   float64
	Output string // empty: print
}

// ParseArgs parses [--input FILE | --lines N] [--rate R] [--output DIR].
// For -h or --help it returns an error that wraps flag.ErrHelp and whose
// Usage method returns the job's usage.
func ParseArgs(args []string) (Options, error) {
	fs := flag.NewFlagSet("WordCount", flag.ContinueOnError)
	var o Options
	fs.StringVar(&o.Input, "input", "", "text file to count the words of (default: generated text)")
	fs.Int64Var(&o.Lines, "lines", 1000, "lines of generated text, without --input")
	fs.Float64Var(&o.Rate, "rate", 0, "lines per second (0: as fast as possible)")
	fs.StringVar(&o.Output, "output", "", "directory for the exactly-once file sink (default: print)")
	if err := stream.ParseFlags(fs, about, args); err != nil {
		return o, err
	}
	switch {
	case o.Lines < 0:
		return o, fmt.Errorf("--lines %d must not be negative", o.Lines)
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

// Count is a word's running count.
type Count struct {
	Word  string
	Count int64
}

// CountCodec encodes a Count.
type CountCodec struct{}

func (CountCodec) Append(dst []byte, c Count) []byte {
	return binary.BigEndian.AppendUint64(codec.String{}.Append(dst, c.Word), uint64(c.Count))
}

func (CountCodec) Decode(src []byte) (Count, int, error) {
	w, n, err := codec.String{}.Decode(src)
	if err != nil {
		return Count{}, 0, err
	}
	if len(src) < n+8 {
		return Count{}, 0, codec.ErrShort
	}
	return Count{w, int64(binary.BigEndian.Uint64(src[n:]))}, n + 8, nil
}

func (c Count) String() string { return "(" + c.Word + "," + strconv.FormatInt(c.Count, 10) + ")" }

// Build declares the WordCount job.
func Build(env *stream.Env, args []string) error {
	o, err := ParseArgs(args)
	if err != nil {
		return err
	}
	lines := stream.FromSource(env, Source(o), stream.UID("text-source"))
	words := stream.FlatMap(lines, "Tokenize", Tokenize)
	counts := stream.Reduce(stream.KeyBy(stream.Map(words, "One", func(w string) Count { return Count{w, 1} }).WithCodec(CountCodec{}),
		func(c Count) string { return c.Word }), "Count", func(acc, c Count) Count {
		return Count{acc.Word, acc.Count + c.Count}
	}, stream.UID("count")).WithCodec(CountCodec{})
	if o.Output != "" {
		stream.FileSink(counts, "FileSink", o.Output, func(dst []byte, c Count) []byte { return append(dst, c.String()...) }, stream.UID("file-sink"))
		return nil
	}
	stream.Print(counts, stream.UID("print"))
	return nil
}

// Tokenize splits a line into lower-case words of letters and digits.
func Tokenize(line string, out stream.Collector[string]) {
	for _, w := range strings.FieldsFunc(line, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }) {
		out.Emit(strings.ToLower(w))
	}
}

// Line returns generated line i: a few words drawn deterministically from a
// small vocabulary, so that counts add up across lines.
func Line(i int64) string {
	var b strings.Builder
	x := uint64(i)*0x9E3779B97F4A7C15 + 1
	for j := range 3 + int(uint64(i)%5) {
		x ^= x >> 31
		x *= 0xBF58476D1CE4E5B9
		if j > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(vocabulary[x%uint64(len(vocabulary))])
	}
	return b.String()
}

var vocabulary = []string{"to", "be", "or", "not", "that", "is", "the", "question", "whether", "tis",
	"nobler", "in", "mind", "suffer", "slings", "and", "arrows", "of", "outrageous", "fortune"}

// Source is the job's text source: non-parallel, its state the number of
// lines read, so a restore goes on from the next line.
func Source(o Options) stream.Source[string] {
	return stream.Source[string]{
		Name:        "Text",
		NonParallel: true,
		Open: func(ctx stream.SourceContext, restored [][]byte) (stream.SourceReader[string], error) {
			r := &reader{o: o, now: ctx.Now}
			if len(restored) > 1 {
				return nil, fmt.Errorf("WordCount source: %d state entries, want at most 1", len(restored))
			}
			if len(restored) == 1 {
				if len(restored[0]) != 8 {
					return nil, fmt.Errorf("WordCount source: state of %d bytes, want 8", len(restored[0]))
				}
				r.next = int64(binary.BigEndian.Uint64(restored[0]))
			}
			if o.Input != "" {
				f, err := os.Open(o.Input)
				if err != nil {
					return nil, fmt.Errorf("WordCount source: %w", err)
				}
				r.file, r.scan = f, bufio.NewScanner(f)
				r.scan.Buffer(make([]byte, 64<<10), 16<<20)
				for i := int64(0); i < r.next && r.scan.Scan(); i++ {
				}
				if err := r.scan.Err(); err != nil {
					f.Close()
					return nil, fmt.Errorf("WordCount source: skip to line %d of %s: %w", r.next, o.Input, err)
				}
			}
			r.start = r.now()
			return r, nil
		},
	}
}

type reader struct {
	o       Options
	now     func() time.Time
	start   time.Time
	next    int64 // lines read since the job's first start
	emitted int64 // since this reader opened, for pacing
	file    *os.File
	scan    *bufio.Scanner
}

func (r *reader) Poll(_ context.Context, out stream.SourceOutput[string]) (stream.PollStatus, time.Duration, error) {
	budget := int64(256)
	if r.o.Rate > 0 {
		due := int64(r.now().Sub(r.start).Seconds()*r.o.Rate) - r.emitted
		if due <= 0 {
			return stream.Idle, time.Duration(float64(time.Second) / r.o.Rate), nil
		}
		budget = min(budget, due)
	}
	for range budget {
		var line string
		switch {
		case r.scan != nil:
			if !r.scan.Scan() {
				if err := r.scan.Err(); err != nil {
					return stream.Done, 0, fmt.Errorf("read %s: %w", r.o.Input, err)
				}
				return stream.Done, 0, nil
			}
			line = r.scan.Text()
		case r.next >= r.o.Lines:
			return stream.Done, 0, nil
		default:
			line = Line(r.next)
		}
		out.Emit(line)
		r.next++
		r.emitted++
	}
	return stream.More, 0, nil
}

func (r *reader) Snapshot(uint64) ([][]byte, error) {
	return [][]byte{binary.BigEndian.AppendUint64(nil, uint64(r.next))}, nil
}

func (r *reader) Position() int64 { return r.next }

func (r *reader) Close() error {
	if r.file == nil {
		return nil
	}
	return errors.Join(r.file.Close())
}

// about is what `-- --help` prints before the arguments.
const about = "WordCount: Flink's WordCount example. It splits lines of text into lower-case\n" +
	"words and emits a running count per word, \"(word,count)\", after every occurrence.\n" +
	"The text is a file (--input) or generated (--lines N); the counts are printed to\n" +
	"the TaskManagers' .out files or, with --output DIR, written through the\n" +
	"exactly-once file sink. The job finishes when its input is done."
