package topspeed

import (
	"math"
	"strconv"
)

// FormatJavaDouble formats f as Java's Double.toString(double) does, which is
// what Flink's Tuple4.toString uses for the distance:
//
//   - NaN, Infinity and -Infinity by name; zero as "0.0" or "-0.0";
//   - 10⁻³ ≤ |f| < 10⁷: plain decimal, with at least one digit after the
//     point ("50.0", "15.277777777777777", "0.001");
//   - otherwise Java's computerized scientific notation, a mantissa in
//     [1, 10) with at least one digit after the point and an exponent with no
//     plus sign or leading zeros ("1.0E7", "1.0E-4", "4.9E-324").
//
// The digits are the shortest decimal that reads back as f, the nearest to f
// when several are as short. That is Java's specification, and it is what
// JDK 17 printed for every normal double of magnitude below 2⁵³ (about
// 9·10¹⁵) in the test's sample (testdata/jdk17_double_tostring.txt, and
// 400,000 more values checked once), a range that covers every distance a
// car can drive in this example. Two known
// departures of the JDKs that Flink 1.13 runs on (8, 11; JDK 17 too) are
// deliberately not imitated: integral doubles in [2⁵³, 2⁶³) are printed by
// those JDKs with up to 18 digits ("6.9791752354905254E17" where the
// shortest is "6.979175235490525E17"; JDK 19 and later print the shortest),
// and some subnormals differ in the last digit. Double.MIN_VALUE prints as
// Java's "4.9E-324" in every version and so does it here.
func FormatJavaDouble(f float64) string {
	return string(AppendJavaDouble(make([]byte, 0, 24), f))
}

// AppendJavaDouble appends FormatJavaDouble(f) to b and returns the extended
// slice.
func AppendJavaDouble(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	if math.Signbit(f) {
		b = append(b, '-')
		f = -f
	}
	if f == math.SmallestNonzeroFloat64 {
		// Java prints the smallest subnormal with two digits, the nearer
		// of the decimals that read back as it; the shortest is "5.0E-324".
		return append(b, "4.9E-324"...)
	}
	// digits are the shortest round-tripping significant digits, without a
	// point; the value is 0.d₁d₂…dₙ × 10^exp10 with d₁ ≠ 0.
	var buf [32]byte
	sci := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // d.ddde±XX
	var digits []byte
	i := 0
	for ; sci[i] != 'e'; i++ {
		if sci[i] != '.' {
			digits = append(digits, sci[i])
		}
	}
	exp, err := strconv.Atoi(string(sci[i+1:]))
	if err != nil {
		panic("topspeed: strconv's 'e' format has a decimal exponent: " + string(sci))
	}
	if f >= 1e-3 && f < 1e7 {
		return appendPlain(b, digits, exp)
	}
	b = append(b, digits[0], '.')
	if len(digits) > 1 {
		b = append(b, digits[1:]...)
	} else {
		b = append(b, '0')
	}
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(exp), 10)
}

// appendPlain appends d₁.d₂…dₙ × 10^exp in plain decimal with at least one
// digit on each side of the point.
func appendPlain(b, digits []byte, exp int) []byte {
	if exp < 0 {
		b = append(b, '0', '.')
		for range -exp - 1 {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	intLen := exp + 1
	if len(digits) <= intLen {
		b = append(b, digits...)
		for range intLen - len(digits) {
			b = append(b, '0')
		}
		return append(b, '.', '0')
	}
	b = append(b, digits[:intLen]...)
	b = append(b, '.')
	return append(b, digits[intLen:]...)
}
