package config

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"10s", 10 * time.Second},
		{"500ms", 500 * time.Millisecond},
		{"5min", 5 * time.Minute},
		{"2 min", 2 * time.Minute},
		{"  2 MIN ", 2 * time.Minute},
		{"1h", time.Hour},
		{"1d", 24 * time.Hour},
		{"3 days", 72 * time.Hour},
		{"100", 100 * time.Millisecond},
		{"0", 0},
		{"1m", time.Minute},
		{"7 seconds", 7 * time.Second},
		{"5us", 5 * time.Microsecond},
		{"5µs", 5 * time.Microsecond},
		{"9 nanos", 9},
		{"-1", -time.Millisecond},
		{"-1s", -time.Second},
		{"+3s", 3 * time.Second},
		{"1h30m", 90 * time.Minute}, // Go syntax
		{"1.5s", 1500 * time.Millisecond},
		{"9223372036854775807ns", math.MaxInt64},
		{"-9223372036854775808ns", math.MinInt64},
	} {
		got, err := ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseDurationErrors(t *testing.T) {
	for _, in := range []string{"", " ", "abc", "10 fortnights", "s", "1.5", "10s5", "9223372036854775808ns",
		"106752d", "99999999999999999999999", "--1s", "1 h 2"} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, d)
		} else if !strings.Contains(err.Error(), in) {
			t.Errorf("ParseDuration(%q): error %q does not name the input", in, err)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"}, {50 * time.Second, "50s"}, {10 * time.Minute, "10min"}, {100 * time.Millisecond, "100ms"},
		{90 * time.Second, "90s"}, {48 * time.Hour, "2d"}, {-time.Second, "-1s"}, {1500 * time.Microsecond, "1500us"}, {7, "7ns"},
	} {
		if got := FormatDuration(tc.in); got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzParseDuration checks that ParseDuration never panics and that whatever
// it accepts formats to text that parses to the same duration.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"10s", "500ms", "5min", "2 min", "1h", "100", "1d", "-1", "1h30m", "1.5s", "µs", "9223372036854775807ns", " 3 Days "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		text := FormatDuration(d)
		back, err := ParseDuration(text)
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v, formatted %q, parsed back %v, %v", s, d, text, back, err)
		}
	})
}

func TestParseMemorySize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"32kb", 32 << 10}, {"1mb", 1 << 20}, {"64 m", 64 << 20}, {"1gb", 1 << 30}, {"2 TB", 2 << 40},
		{"100", 100}, {"100b", 100}, {"7 bytes", 7}, {"0", 0}, {"3k", 3 << 10}, {"1 mebibytes", 1 << 20},
		{"8388607tb", 8388607 << 40},
	} {
		got, err := ParseMemorySize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseMemorySize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
		if back, err := ParseMemorySize(FormatMemorySize(got)); err != nil || back != got {
			t.Errorf("ParseMemorySize(FormatMemorySize(%d)=%q) = %d, %v", got, FormatMemorySize(got), back, err)
		}
	}
	for _, in := range []string{"", "kb", "-1kb", "1.5mb", "32 kilos", "8388608tb", "1 k b"} {
		if n, err := ParseMemorySize(in); err == nil {
			t.Errorf("ParseMemorySize(%q) = %d, want an error", in, n)
		} else if !strings.Contains(err.Error(), in) {
			t.Errorf("ParseMemorySize(%q): error %q does not name the input", in, err)
		}
	}
}

func FuzzParseMemorySize(f *testing.F) {
	for _, s := range []string{"32kb", "1 mb", "100", "8388607tb", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseMemorySize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("ParseMemorySize(%q) = %d < 0", s, n)
		}
		if back, err := ParseMemorySize(FormatMemorySize(n)); err != nil || back != n {
			t.Fatalf("round trip of %q: %d -> %q -> %d, %v", s, n, FormatMemorySize(n), back, err)
		}
	})
}

func TestParseDynamic(t *testing.T) {
	for _, tc := range []struct {
		in, key, value string
	}{
		{"heartbeat.timeout=5s", "heartbeat.timeout", "5s"},
		{"a=b=c", "a", "b=c"},
		{"execution.savepoint.path=", "execution.savepoint.path", ""},
		{" rest.port =8082", "rest.port", "8082"},
	} {
		k, v, err := ParseDynamic(tc.in)
		if err != nil || k != tc.key || v != tc.value {
			t.Errorf("ParseDynamic(%q) = %q, %q, %v; want %q, %q", tc.in, k, v, err, tc.key, tc.value)
		}
	}
	for _, in := range []string{"", "novalue", "=5s", "  =x"} {
		if _, _, err := ParseDynamic(in); err == nil || !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Errorf("ParseDynamic(%q) error = %v, want one naming the argument", in, err)
		}
	}
}

func TestParsePortRange(t *testing.T) {
	for _, tc := range []struct {
		in     string
		lo, hi int
	}{{"9249", 9249, 9249}, {"9250-9260", 9250, 9260}, {" 0 - 65535 ", 0, 65535}, {"5-5", 5, 5}} {
		lo, hi, err := ParsePortRange(tc.in)
		if err != nil || lo != tc.lo || hi != tc.hi {
			t.Errorf("ParsePortRange(%q) = %d, %d, %v; want %d, %d", tc.in, lo, hi, err, tc.lo, tc.hi)
		}
	}
	for _, in := range []string{"", "x", "-1", "65536", "9260-9250", "1-2-3", "1-", "80-70000"} {
		if _, _, err := ParsePortRange(in); err == nil {
			t.Errorf("ParsePortRange(%q): want an error", in)
		}
	}
}

func TestNormalizeStorageURL(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	abs := func(p string) string { return "file://" + filepath.ToSlash(filepath.Join(wd, p)) }
	for _, tc := range []struct{ in, want string }{
		{"file:///tmp/ckpt", "file:///tmp/ckpt"},
		{"file:///tmp/ckpt?create_dir=true", "file:///tmp/ckpt?create_dir=true"},
		{"s3://bucket/prefix?region=eu-west-1", "s3://bucket/prefix?region=eu-west-1"},
		{"gs://b/p", "gs://b/p"},
		{"mem://", "mem://"},
		{"azblob://c", "azblob://c"},
		{"/tmp/ckpt", "file:///tmp/ckpt"},
		{"/tmp/a b", "file:///tmp/a%20b"},
		{"ckpt", abs("ckpt")},
		{"./x/../ckpt", abs("ckpt")},
		{"file://ckpt", abs("ckpt")},
		{"file://rel/dir?create_dir=true", abs("rel/dir") + "?create_dir=true"},
		{"file:/tmp/ckpt", "file:///tmp/ckpt"},
		{"file:ckpt", abs("ckpt")},
	} {
		got, err := NormalizeStorageURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeStorageURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "  ", "file://", "file:", "s3://bad host%zz/x"} {
		if got, err := NormalizeStorageURL(in); err == nil {
			t.Errorf("NormalizeStorageURL(%q) = %q, want an error", in, got)
		}
	}
}
