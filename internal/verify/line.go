package verify

import (
	"bytes"
	"errors"
	"math"
)

// line is one parsed output line.
type line struct {
	key   int64
	count uint64
	sum   int64
}

var (
	errFields = errors.New(`want "key,count,sum"`)
	errNumber = errors.New("not a decimal integer")
)

// parseLine parses "key,count,sum" without allocating. The key and the sum
// may be negative; a sum beyond int64 but within uint64 is taken modulo
// 2^64, as a job with a uint64 sum would print it.
func parseLine(b []byte) (line, error) {
	k, rest, ok := bytes.Cut(b, []byte{','})
	if !ok {
		return line{}, errFields
	}
	c, s, ok := bytes.Cut(rest, []byte{','})
	if !ok || bytes.IndexByte(s, ',') >= 0 {
		return line{}, errFields
	}
	var l line
	var err error
	if l.key, err = parseInt(k); err != nil {
		return line{}, errors.New("key " + errNumber.Error())
	}
	if l.count, ok = parseUint(c); !ok {
		return line{}, errors.New("count " + errNumber.Error())
	}
	if l.sum, err = parseInt(s); err != nil {
		u, ok := parseUint(s)
		if !ok {
			return line{}, errors.New("sum " + errNumber.Error())
		}
		l.sum = int64(u)
	}
	return l, nil
}

// parseUint parses a non-empty run of decimal digits that fits in uint64.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// parseInt parses an optionally negative decimal that fits in int64.
func parseInt(b []byte) (int64, error) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	u, ok := parseUint(b)
	switch {
	case !ok:
		return 0, errNumber
	case neg && u <= 1<<63:
		// -u in uint64 is the two's complement, exact down to MinInt64.
		return int64(-u), nil
	case !neg && u <= math.MaxInt64:
		return int64(u), nil
	default:
		return 0, errNumber
	}
}

// expectedSum is the sum of the first c values of key k with K keys,
// c*k + K*c*(c-1)/2, modulo 2^64.
func expectedSum(k, keys, c uint64) int64 {
	// c*(c-1)/2 exactly, modulo 2^64: halve the even factor first.
	var tri uint64
	if c%2 == 0 {
		tri = (c / 2) * (c - 1)
	} else {
		tri = c * ((c - 1) / 2)
	}
	return int64(c*k + keys*tri)
}
