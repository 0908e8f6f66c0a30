package config

import (
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// durationUnits maps Flink's duration unit names (TimeUtils) to their length.
var durationUnits = map[string]time.Duration{
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"h": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"min": time.Minute, "m": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"ms": time.Millisecond, "milli": time.Millisecond, "millis": time.Millisecond,
	"millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"us": time.Microsecond, "µs": time.Microsecond, "micro": time.Microsecond, "micros": time.Microsecond,
	"microsecond": time.Microsecond, "microseconds": time.Microsecond,
	"ns": time.Nanosecond, "nano": time.Nanosecond, "nanos": time.Nanosecond,
	"nanosecond": time.Nanosecond, "nanoseconds": time.Nanosecond,
}

// memoryUnits maps Flink's memory size unit names (MemorySize) to their
// multiplier. Like Flink, every unit is a power of 1024.
var memoryUnits = map[string]int64{
	"": 1, "b": 1, "bytes": 1,
	"k": 1 << 10, "kb": 1 << 10, "kibibytes": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mebibytes": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gibibytes": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tebibytes": 1 << 40,
}

// splitNumber splits s, already trimmed, into an optional sign, a run of
// decimal digits and the rest with leading blanks removed. ok is false when s
// does not start with a digit after the sign.
func splitNumber(s string) (neg bool, digits, rest string, ok bool) {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return false, "", "", false
	}
	return neg, s[:i], strings.TrimLeft(s[i:], " \t"), true
}

// scaled returns digits*unit, negated when neg, or an error on overflow.
func scaled(neg bool, digits string, unit uint64) (int64, error) {
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("number %s out of range", digits)
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++ // -2^63 is representable.
	}
	if unit != 0 && n > limit/unit {
		return 0, fmt.Errorf("%s overflows 64 bits", digits)
	}
	v := n * unit
	if v > limit {
		return 0, fmt.Errorf("%s overflows 64 bits", digits)
	}
	if neg {
		return int64(-v), nil // two's complement: -(2^63) wraps to MinInt64.
	}
	return int64(v), nil
}

// ParseDuration parses a duration in Flink's syntax: an integer, optional
// blanks and a unit ("10s", "500ms", "5min", "2 min", "1h", "1d"; see Flink's
// TimeUtils for the unit names), where no unit means milliseconds ("100").
// Go's syntax ("1h30m", "1.5s") is accepted too. A leading '-' gives a
// negative duration, which only some keys allow.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if neg, digits, rest, ok := splitNumber(t); ok {
		unit := time.Millisecond
		known := rest == ""
		if !known {
			unit, known = durationUnits[strings.ToLower(rest)]
		}
		if known {
			v, err := scaled(neg, digits, uint64(unit))
			if err != nil {
				return 0, fmt.Errorf("parse duration %q: %w", s, err)
			}
			return time.Duration(v), nil
		}
	}
	if d, err := time.ParseDuration(t); err == nil {
		return d, nil
	}
	return 0, fmt.Errorf("parse duration %q: want an integer and a unit such as 10s, 500ms, 5min, 1h, 1d (no unit: milliseconds)", s)
}

// FormatDuration formats d in Flink's syntax with the largest unit that
// divides it exactly ("50s", "5min", "100ms"), so that ParseDuration returns
// d again.
func FormatDuration(d time.Duration) string {
	for _, u := range []struct {
		len  time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "min"}, {time.Second, "s"},
		{time.Millisecond, "ms"}, {time.Microsecond, "us"}} {
		if d != 0 && d%u.len == 0 {
			return strconv.FormatInt(int64(d/u.len), 10) + u.name
		}
	}
	if d == 0 {
		return "0s"
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}

// ParseMemorySize parses a memory size in Flink's syntax: a non-negative
// integer, optional blanks and a unit of b, k/kb, m/mb, g/gb or t/tb (powers
// of 1024, any case), where no unit means bytes: "32kb", "1mb", "64 m".
func ParseMemorySize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	neg, digits, rest, ok := splitNumber(t)
	if !ok || neg {
		return 0, fmt.Errorf("parse memory size %q: want a non-negative integer and a unit such as 32kb, 1mb, 1gb (no unit: bytes)", s)
	}
	unit, known := memoryUnits[strings.ToLower(rest)]
	if !known {
		return 0, fmt.Errorf("parse memory size %q: unknown unit %q, want b, kb, mb, gb or tb", s, rest)
	}
	v, err := scaled(false, digits, uint64(unit))
	if err != nil {
		return 0, fmt.Errorf("parse memory size %q: %w", s, err)
	}
	return v, nil
}

// FormatMemorySize formats n bytes with the largest unit that divides it
// exactly ("32kb", "1gb", "100b"), so that ParseMemorySize returns n again.
func FormatMemorySize(n int64) string {
	for _, u := range []struct {
		mult int64
		name string
	}{{1 << 40, "tb"}, {1 << 30, "gb"}, {1 << 20, "mb"}, {1 << 10, "kb"}} {
		if n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "b"
}

// ParseDynamic splits the value of a -D flag, "key=value", at its first '='.
// The key is trimmed of blanks and must not be empty; the value may be empty
// or contain '='.
func ParseDynamic(arg string) (key, value string, err error) {
	k, v, found := strings.Cut(arg, "=")
	k = strings.TrimSpace(k)
	if !found || k == "" {
		return "", "", fmt.Errorf("parse -D %q: want key=value", arg)
	}
	return k, v, nil
}

// ParsePortRange parses a port ("9249") or an inclusive range of ports
// ("9250-9260"), each in 0–65535, as metrics.reporter.prom.port takes.
func ParsePortRange(s string) (lo, hi int, err error) {
	t := strings.TrimSpace(s)
	a, b, isRange := strings.Cut(t, "-")
	if lo, err = parsePort(a); err != nil {
		return 0, 0, fmt.Errorf("parse port range %q: %w", s, err)
	}
	hi = lo
	if isRange {
		if hi, err = parsePort(b); err != nil {
			return 0, 0, fmt.Errorf("parse port range %q: %w", s, err)
		}
		if hi < lo {
			return 0, 0, fmt.Errorf("parse port range %q: end %d is below start %d", s, hi, lo)
		}
	}
	return lo, hi, nil
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("port %q is not a number", s)
	}
	if p < 0 || p > 65535 {
		return 0, fmt.Errorf("port %d is outside 0-65535", p)
	}
	return p, nil
}

func parseInt(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("parse integer %q", s)
	}
	return n, nil
}

func parseFloat(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("parse number %q", s)
	}
	return f, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("parse boolean %q: want true or false", s)
}

// NormalizeStorageURL turns a bare path or a file URL with a relative path
// ("file://checkpoints", "file:checkpoints") into an absolute file URL
// ("file:///work/checkpoints"), resolving relative paths against the current
// directory. URLs of other schemes (s3://, gs://, azblob://, mem://) and
// absolute file URLs are returned unchanged. An empty s is an error.
func NormalizeStorageURL(s string) (string, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", fmt.Errorf("empty storage URL")
	}
	var path, query string
	switch {
	case strings.HasPrefix(t, "file://"):
		rest := t[len("file://"):]
		if strings.HasPrefix(rest, "/") {
			return t, nil
		}
		path, query, _ = strings.Cut(rest, "?")
		unescaped, err := url.PathUnescape(path)
		if err != nil {
			return "", fmt.Errorf("bad file URL %q: %w", s, err)
		}
		path = unescaped
	case strings.HasPrefix(t, "file:"):
		path, query, _ = strings.Cut(t[len("file:"):], "?")
	case hasScheme(t):
		if _, err := url.Parse(t); err != nil {
			return "", fmt.Errorf("bad storage URL %q: %w", s, err)
		}
		return t, nil
	default:
		path = t
	}
	if path == "" {
		return "", fmt.Errorf("file URL %q has no path", s)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("make %q absolute: %w", path, err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: query}
	return u.String(), nil // file:///abs, escaped.
}

// hasScheme reports whether s starts with "scheme://", scheme as in RFC 3986.
func hasScheme(s string) bool {
	i := strings.Index(s, "://")
	if i <= 0 {
		return false
	}
	for j, r := range s[:i] {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case j > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}
