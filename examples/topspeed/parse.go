package topspeed

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// MaxLineBytes is the longest input line Reader accepts, without its line
// ending. A valid line is at most about 80 bytes; a longer one is malformed.
const MaxLineBytes = 4096

var (
	errFieldCount   = errors.New("topspeed: want 4 comma-separated fields (carId,speed,distance,timestamp)")
	errParentheses  = errors.New("topspeed: unbalanced parentheses")
	errNotDecimal   = errors.New("topspeed: not a decimal number")
	errNotFinite    = errors.New("topspeed: distance out of range")
	errLineTooLong  = fmt.Errorf("topspeed: line longer than %d bytes", MaxLineBytes)
	errEmptyEvent   = errors.New("topspeed: empty line")
	fieldNames      = [4]string{"carId", "speed", "distance", "timestamp"}
	fieldBitsForInt = [4]int{32, 32, 0, 64}
)

// ParseEvent parses one event in the format of Flink's example input (and
// output), "(carId,speed,distance,timestamp)", for example
// "(0,55,15.277777777777777,1424951918630)". The parentheses are optional,
// but must be balanced. Spaces and tabs around the line and around each
// field are ignored. carId and speed are decimal 32-bit integers, timestamp
// a decimal 64-bit integer (Java's Integer.valueOf and Long.valueOf accept
// the same), and distance a finite decimal floating-point number with an
// optional exponent ("15.2", "1e3", ".5"). Flink's ParseCarData accepts a
// few more forms, which are rejected here as malformed: Java's NaN,
// Infinity, hexadecimal and "d"/"f"-suffixed doubles, and trailing empty
// fields.
func ParseEvent(s string) (Event, error) {
	s = strings.Trim(s, " \t")
	if s == "" {
		return Event{}, errEmptyEvent
	}
	open, close := strings.HasPrefix(s, "("), strings.HasSuffix(s, ")")
	if open != close || (open && len(s) < 2) {
		return Event{}, errParentheses
	}
	if open {
		s = s[1 : len(s)-1]
	}
	var fields [4]string
	for i := range fields {
		f, rest, found := strings.Cut(s, ",")
		if found != (i < 3) {
			return Event{}, errFieldCount
		}
		fields[i], s = strings.Trim(f, " \t"), rest
	}
	var e Event
	var ints [4]int64
	for i, f := range fields {
		if i == 2 {
			d, err := parseDistance(f)
			if err != nil {
				return Event{}, fmt.Errorf("%s %q: %w", fieldNames[i], f, err)
			}
			e.Distance = d
			continue
		}
		n, err := strconv.ParseInt(f, 10, fieldBitsForInt[i])
		if err != nil {
			return Event{}, fmt.Errorf("%s %q: %w", fieldNames[i], f, unwrapNumError(err))
		}
		ints[i] = n
	}
	e.CarID, e.Speed, e.Timestamp = int32(ints[0]), int32(ints[1]), ints[3]
	return e, nil
}

// parseDistance parses [+-]?(digits[.digits?]|.digits)([eE][+-]?digits)?
// into a finite float64.
func parseDistance(s string) (float64, error) {
	if !isDecimal(s) {
		return 0, errNotDecimal
	}
	d, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(d, 0) {
		return 0, errNotFinite
	}
	return d, nil
}

func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	intDigits := digitRun(s[i:])
	i += intDigits
	fracDigits := 0
	if i < len(s) && s[i] == '.' {
		i++
		fracDigits = digitRun(s[i:])
		i += fracDigits
	}
	if intDigits+fracDigits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		expDigits := digitRun(s[i:])
		if expDigits == 0 {
			return false
		}
		i += expDigits
	}
	return i == len(s)
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// unwrapNumError drops strconv.NumError's repetition of the function and
// the input, which ParseEvent's message already names.
func unwrapNumError(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}

// ParseError is a malformed input line.
type ParseError struct {
	Line int64  // 1-based line number in the input
	Text string // the line, without its line ending; cut short if very long
	Err  error  // what is wrong with it
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d: %q: %v", e.Line, e.Text, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ReaderOption configures a Reader.
type ReaderOption interface{ apply(*Reader) }

type readerOptionFunc func(*Reader)

func (f readerOptionFunc) apply(r *Reader) { f(r) }

// SkipMalformed makes the Reader count malformed lines and go on with the
// next one, rather than return their *ParseError. Default: off, the first
// malformed line ends the input with its error.
func SkipMalformed() ReaderOption {
	return readerOptionFunc(func(r *Reader) { r.skipMalformed = true })
}

// Reader reads events from text, one a line, in the format that ParseEvent
// accepts. Lines end in "\n" or "\r\n"; blank lines are ignored, neither
// events nor malformed. A Reader is not safe for concurrent use.
type Reader struct {
	in            *bufio.Reader
	skipMalformed bool
	line          int64
	skipped       int64
	firstSkipped  *ParseError
	err           error // sticky: io.EOF, a read error or a ParseError
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader, opts ...ReaderOption) *Reader {
	rd := &Reader{in: bufio.NewReaderSize(r, MaxLineBytes+2)}
	for _, o := range opts {
		o.apply(rd)
	}
	return rd
}

// Next returns the next event. At the end of the input it returns io.EOF. A
// malformed line, unless the Reader skips them, is returned as a
// *ParseError that carries its line number; a read error is wrapped with
// the line number it happened on. After any error Next returns the same
// error again.
func (r *Reader) Next() (Event, error) {
	for r.err == nil {
		line, tooLong, err := r.readLine()
		if err != nil {
			if err != io.EOF {
				err = fmt.Errorf("topspeed: reading line %d: %w", r.line+1, err)
			}
			r.err = err
			break
		}
		r.line++
		var e Event
		perr := errLineTooLong
		if !tooLong {
			if len(bytes.Trim(line, " \t")) == 0 {
				continue
			}
			e, perr = ParseEvent(string(line))
			if perr == nil {
				return e, nil
			}
		}
		pe := &ParseError{Line: r.line, Text: string(line), Err: perr}
		if !r.skipMalformed {
			r.err = pe
			break
		}
		r.skipped++
		if r.firstSkipped == nil {
			r.firstSkipped = pe
		}
	}
	return Event{}, r.err
}

// readLine returns the next line without its line ending. A line longer
// than MaxLineBytes is consumed to its end and returned cut short, with
// tooLong set. It returns io.EOF only when no bytes are left.
func (r *Reader) readLine() (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.in.ReadSlice('\n')
		if !tooLong && len(line)+len(chunk) <= MaxLineBytes+2 {
			line = append(line, chunk...)
		} else if !tooLong {
			tooLong = true
			line = append(line, chunk[:min(len(chunk), MaxLineBytes+2-len(line))]...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && (len(line) > 0 || tooLong):
			err = nil
		case err != nil:
			return nil, false, err
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > MaxLineBytes {
			tooLong = true
			line = line[:MaxLineBytes]
		}
		return line, tooLong, nil
	}
}

// Line returns the number of lines read so far, blank and malformed ones
// included.
func (r *Reader) Line() int64 { return r.line }

// Skipped returns how many malformed lines a Reader with SkipMalformed has
// skipped so far, and the first of them (nil if none), for a log line.
func (r *Reader) Skipped() (n int64, first *ParseError) { return r.skipped, r.firstSkipped }
