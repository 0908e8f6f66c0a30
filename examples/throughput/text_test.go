package throughput

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestTextStages(t *testing.T) {
	for _, tc := range []struct {
		r      Record
		line   string
		render string
	}{
		{Record{0, 0}, "0,0", "key=0 value=0x0"},
		{Record{17, 255}, "17,255", "key=17 value=0xff"},
		{Record{3, -1}, "3,-1", "key=3 value=0xffffffffffffffff"},
		{Record{math.MaxInt64, math.MinInt64}, "9223372036854775807,-9223372036854775808", "key=9223372036854775807 value=0x8000000000000000"},
	} {
		if got := FormatLine(tc.r); got != tc.line {
			t.Errorf("FormatLine(%+v) = %q, want %q", tc.r, got, tc.line)
		}
		if got, err := DecodeLine(tc.line); err != nil || got != tc.r {
			t.Errorf("DecodeLine(%q) = %+v, %v; want %+v", tc.line, got, err, tc.r)
		}
		if got := ParseLine(tc.line); got != tc.r {
			t.Errorf("ParseLine(%q) = %+v, want %+v", tc.line, got, tc.r)
		}
		if got := Render(tc.r); got != tc.render {
			t.Errorf("Render(%+v) = %q, want %q", tc.r, got, tc.render)
		}
	}
	for _, tc := range []struct{ line, wantErr string }{
		{"", "no comma"}, {"12", "no comma"}, {"x,1", "key"}, {"1,", "value"}, {"1,2,3", "value"},
		{"99999999999999999999,1", "key"},
	} {
		if _, err := DecodeLine(tc.line); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("DecodeLine(%q) error %v, want one containing %q", tc.line, err, tc.wantErr)
		}
		if r := ParseLine(tc.line); r.Key != -1 || Valid(r) {
			t.Errorf("ParseLine(%q) = %+v, valid %v; want a dropped record", tc.line, r, Valid(r))
		}
	}
	if Valid(Record{Key: -5}) {
		t.Error("a negative key is valid")
	}
	kept := 0
	for i := range int64(1 << 12) {
		if Valid(ParseLine(FormatLine(Generate(i, 10)))) {
			kept++
		}
	}
	if kept < 3600 || kept > 4000 {
		t.Errorf("Valid kept %d of 4096, want about 15/16", kept)
	}
}

func TestPayload(t *testing.T) {
	a, b := Payload(1, 1024), Payload(2, 1024)
	if len(a) != 1024 || bytes.Equal(a, b) || !bytes.Equal(a, Payload(1, 1024)) {
		t.Errorf("Payload is not a deterministic per-key value of the asked size: %x… %x…", a[:8], b[:8])
	}
	if n := bytes.Count(a, []byte{0}); n > 32 {
		t.Errorf("Payload(1, 1024) has %d zero bytes", n)
	}
	if len(Payload(5, 0)) != 0 {
		t.Error("Payload of size 0 is not empty")
	}
}

func FuzzDecodeLine(f *testing.F) {
	f.Add("1,2")
	f.Add("-3,99999")
	f.Add(",")
	f.Fuzz(func(t *testing.T, line string) {
		r, err := DecodeLine(line)
		if err != nil {
			return
		}
		if back, err := DecodeLine(FormatLine(r)); err != nil || back != r {
			t.Fatalf("DecodeLine(FormatLine(%+v)) = %+v, %v", r, back, err)
		}
	})
}
