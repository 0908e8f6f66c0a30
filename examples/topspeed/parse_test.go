package topspeed

import (
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func TestParseEvent(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Event
		wantErr string // a substring of the error; "" for success
	}{
		{in: "(0,55,15.277777777777777,1424951918630)", want: Event{0, 55, 15.277777777777777, 1424951918630}},
		{in: "1,45,12.5,1424951918632", want: Event{1, 45, 12.5, 1424951918632}},
		{in: "  ( 1 , 45 ,\t12.5 , 1424951918632 )  ", want: Event{1, 45, 12.5, 1424951918632}},
		{in: "(-3,+7,-0.5,-1)", want: Event{-3, 7, -0.5, -1}},
		{in: "(1,2,3,4)", want: Event{1, 2, 3, 4}},
		{in: "(1,2,1e3,4)", want: Event{1, 2, 1000, 4}},
		{in: "(1,2,.5,4)", want: Event{1, 2, 0.5, 4}},
		{in: "(1,2,5.,4)", want: Event{1, 2, 5, 4}},
		{in: "(1,2,1.5E-3,4)", want: Event{1, 2, 0.0015, 4}},
		{in: "(2147483647,-2147483648,0,9223372036854775807)", want: Event{math.MaxInt32, math.MinInt32, 0, math.MaxInt64}},
		{in: "", wantErr: "empty line"},
		{in: "()", wantErr: "4 comma-separated fields"},
		{in: "(1,2,3,4", wantErr: "unbalanced parentheses"},
		{in: "1,2,3,4)", wantErr: "unbalanced parentheses"},
		{in: "(", wantErr: "unbalanced parentheses"},
		{in: "(1,2,3)", wantErr: "4 comma-separated fields"},
		{in: "(1,2,3,4,5)", wantErr: "4 comma-separated fields"},
		{in: "(1,2,3,4,)", wantErr: "4 comma-separated fields"},
		{in: "(x,2,3,4)", wantErr: `carId "x": invalid syntax`},
		{in: "(1,,3,4)", wantErr: `speed "": invalid syntax`},
		{in: "(2147483648,2,3,4)", wantErr: `carId "2147483648": value out of range`},
		{in: "(1,2,3,9223372036854775808)", wantErr: "timestamp"},
		{in: "(1,2,3,4.0)", wantErr: "timestamp"},
		{in: "(1,2,NaN,4)", wantErr: "distance"},
		{in: "(1,2,Infinity,4)", wantErr: "distance"},
		{in: "(1,2,0x1p3,4)", wantErr: "distance"},
		{in: "(1,2,1.5d,4)", wantErr: "distance"},
		{in: "(1,2,1e,4)", wantErr: "distance"},
		{in: "(1,2,.,4)", wantErr: "distance"},
		{in: "(1,2,1_0,4)", wantErr: "distance"},
		{in: "(1,2,1e400,4)", wantErr: "distance \"1e400\": topspeed: distance out of range"},
		{in: "(1,2,3,4)(5,6,7,8)", wantErr: "4 comma-separated fields"},
	} {
		got, err := ParseEvent(tc.in)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("ParseEvent(%q): %v", tc.in, err)
		case tc.wantErr == "" && got != tc.want:
			t.Errorf("ParseEvent(%q) = %+v, want %+v", tc.in, got, tc.want)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ParseEvent(%q) = %+v, %v; want an error containing %q", tc.in, got, err, tc.wantErr)
		}
	}
}

// readAll reads r to its end and returns the events and the final error.
func readAll(r *Reader) ([]Event, error) {
	var events []Event
	for {
		e, err := r.Next()
		if err != nil {
			return events, err
		}
		events = append(events, e)
	}
}

func TestReader(t *testing.T) {
	long := "(1,2,3," + strings.Repeat("4", MaxLineBytes) + ")"
	for _, tc := range []struct {
		name        string
		in          string
		skip        bool
		want        []Event
		wantErrLine int64 // line of the *ParseError that ends the input; 0: io.EOF
		wantSkipped int64
		wantLines   int64
	}{
		{name: "empty", in: ""},
		{name: "one line without newline", in: "(0,55,15.5,10)", want: []Event{{0, 55, 15.5, 10}}, wantLines: 1},
		{name: "CRLF and blank lines", in: "\r\n(0,55,15.5,10)\r\n  \n\t\r\n1,50,2,20\n\n", want: []Event{{0, 55, 15.5, 10}, {1, 50, 2, 20}}, wantLines: 6},
		{name: "malformed stops", in: "(0,55,15.5,10)\n(0,x,1,2)\n(1,50,2,20)\n", want: []Event{{0, 55, 15.5, 10}}, wantErrLine: 2, wantLines: 2},
		{name: "malformed skipped", in: "(0,55,15.5,10)\n(0,x,1,2)\n(1,50,2,20)\nnope\n", skip: true, want: []Event{{0, 55, 15.5, 10}, {1, 50, 2, 20}}, wantSkipped: 2, wantLines: 4},
		{name: "too long stops", in: "(0,55,15.5,10)\n" + long + "\n(1,50,2,20)\n", want: []Event{{0, 55, 15.5, 10}}, wantErrLine: 2, wantLines: 2},
		{name: "too long skipped", in: long + "\n(1,50,2,20)\n" + long, skip: true, want: []Event{{1, 50, 2, 20}}, wantSkipped: 2, wantLines: 3},
		{name: "longest valid line", in: "(1,2,3," + strings.Repeat("0", MaxLineBytes-9) + "4)\n", want: []Event{{1, 2, 3, 4}}, wantLines: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []ReaderOption
			if tc.skip {
				opts = append(opts, SkipMalformed())
			}
			// One byte at a time, to cross every buffer boundary.
			r := NewReader(iotest.OneByteReader(strings.NewReader(tc.in)), opts...)
			got, err := readAll(r)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
			var pe *ParseError
			switch {
			case tc.wantErrLine == 0 && !errors.Is(err, io.EOF):
				t.Errorf("final error %v, want io.EOF", err)
			case tc.wantErrLine != 0 && (!errors.As(err, &pe) || pe.Line != tc.wantErrLine):
				t.Errorf("final error %v, want a ParseError on line %d", err, tc.wantErrLine)
			}
			if _, again := r.Next(); again != err {
				t.Errorf("Next after the end returned %v, want the same %v", again, err)
			}
			n, first := r.Skipped()
			if n != tc.wantSkipped || (n > 0) != (first != nil) {
				t.Errorf("Skipped() = %d, %v; want %d", n, first, tc.wantSkipped)
			}
			if r.Line() != tc.wantLines {
				t.Errorf("Line() = %d, want %d", r.Line(), tc.wantLines)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader("(0,55,15.5,10)\n(1,5"), iotest.ErrReader(boom)))
	got, err := readAll(r)
	if len(got) != 1 || !errors.Is(err, boom) || !strings.Contains(err.Error(), "reading line 2") {
		t.Errorf("read error: %d events, %v; want 1 event, then boom reading line 2", len(got), err)
	}

	r = NewReader(strings.NewReader("(0,55,15.5,10)\n(1,speed,2,20)\n"))
	_, err = readAll(r)
	const want = `line 2: "(1,speed,2,20)": speed "speed": invalid syntax`
	if err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// FuzzParseEvent: ParseEvent never panics, and what it accepts prints in
// Flink's format and parses back to the same event.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		"(0,55,15.277777777777777,1424951918630)", "1,45,12.5,1424951918632", " ( 1 , 2 , 3 , 4 ) ",
		"(1,2,1e-3,4)", "(1,2,NaN,4)", "(1,2,3)", "((1,2,3,4))", "(-0,-0,-0.0,-0)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEvent(s)
		if err != nil {
			return
		}
		if math.IsNaN(e.Distance) || math.IsInf(e.Distance, 0) {
			t.Fatalf("ParseEvent(%q) accepted distance %v", s, e.Distance)
		}
		out := e.String()
		back, err := ParseEvent(out)
		if err != nil {
			t.Fatalf("ParseEvent(%q) = %+v, whose String %q does not parse: %v", s, e, out, err)
		}
		if back != e || math.Signbit(back.Distance) != math.Signbit(e.Distance) || back.String() != out {
			t.Fatalf("ParseEvent(%q) = %+v prints as %q, which parses as %+v", s, e, out, back)
		}
	})
}
