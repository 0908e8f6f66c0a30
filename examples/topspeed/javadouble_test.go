package topspeed

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestFormatJavaDouble(t *testing.T) {
	// Variables, not constants: Go folds constant expressions exactly.
	tenth, fifty5, kmh := 0.1, 55.0, 3.6
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
		{1, "1.0"},
		{50, "50.0"},
		{125, "125.0"},
		{-2.5, "-2.5"},
		{tenth + 2*tenth, "0.30000000000000004"},
		{fifty5 / kmh, "15.277777777777777"},
		{387.50000000000006, "387.50000000000006"},
		{0.001, "0.001"},
		{math.Nextafter(0.001, 0), "9.999999999999998E-4"},
		{0.00123, "0.00123"},
		{1e7, "1.0E7"},
		{math.Nextafter(1e7, 0), "9999999.999999998"},
		{9999999, "9999999.0"},
		{12345678.9, "1.23456789E7"},
		{1e-4, "1.0E-4"},
		{-1.5e-10, "-1.5E-10"},
		{1e21, "1.0E21"},
		{math.MaxFloat64, "1.7976931348623157E308"},
		{math.SmallestNonzeroFloat64, "4.9E-324"},
		{-math.SmallestNonzeroFloat64, "-4.9E-324"},
		{2.2250738585072014e-308, "2.2250738585072014E-308"},
	} {
		if got := FormatJavaDouble(tc.in); got != tc.want {
			t.Errorf("FormatJavaDouble(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFormatJavaDoubleMatchesJDK compares with Double.toString as printed
// by a JDK of the same algorithm as Flink 1.13's (testdata/README.md).
func TestFormatJavaDoubleMatchesJDK(t *testing.T) {
	f, err := os.Open("testdata/jdk17_double_tostring.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		hex, want, ok := strings.Cut(sc.Text(), " ")
		bits, err := strconv.ParseUint(hex, 16, 64)
		if !ok || err != nil {
			t.Fatalf("malformed golden line %q", sc.Text())
		}
		d := math.Float64frombits(bits)
		if got := FormatJavaDouble(d); got != want {
			t.Errorf("FormatJavaDouble(%#x) = %q, Java prints %q", bits, got, want)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 4000 {
		t.Fatalf("read %d golden values, want the whole file", n)
	}
}

// FuzzFormatJavaDouble: the string reads back as the same double, and has
// Java's shape (a point with digits on both sides; E only outside
// [10⁻³, 10⁷)).
func FuzzFormatJavaDouble(f *testing.F) {
	for _, seed := range []float64{0, 1, 0.001, 1e7, 15.277777777777777, 1e-300, math.MaxFloat64} {
		f.Add(math.Float64bits(seed))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		d := math.Float64frombits(bits)
		s := FormatJavaDouble(d)
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return
		}
		back, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(back) != bits {
			t.Fatalf("FormatJavaDouble(%#x) = %q reads back as %#x (%v)", bits, s, math.Float64bits(back), err)
		}
		mant, _, sci := strings.Cut(strings.TrimPrefix(s, "-"), "E")
		if a := math.Abs(d); sci != (a != 0 && (a < 1e-3 || a >= 1e7)) {
			t.Fatalf("FormatJavaDouble(%v) = %q: scientific notation is for |d| outside [1e-3, 1e7)", d, s)
		}
		ip, fp, ok := strings.Cut(mant, ".")
		if !ok || ip == "" || fp == "" || (sci && len(ip) != 1) {
			t.Fatalf("FormatJavaDouble(%v) = %q: not Java's shape", d, s)
		}
	})
}
