package verify

import (
	"fmt"
	"math"
	"strconv"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		in      string
		want    line
		wantErr string
	}{
		{in: "0,1,0", want: line{0, 1, 0}},
		{in: "12,345,6789", want: line{12, 345, 6789}},
		{in: "-3,1,-7", want: line{-3, 1, -7}},
		{in: "1,1,9223372036854775807", want: line{1, 1, math.MaxInt64}},
		{in: "1,1,-9223372036854775808", want: line{1, 1, math.MinInt64}},
		{in: "1,1,18446744073709551615", want: line{1, 1, -1}}, // a uint64 sum, modulo 2^64
		{in: "", wantErr: `want "key,count,sum"`},
		{in: "1,2", wantErr: `want "key,count,sum"`},
		{in: "1,2,3,4", wantErr: `want "key,count,sum"`},
		{in: ",1,1", wantErr: "key not a decimal integer"},
		{in: "1,-1,1", wantErr: "count not a decimal integer"},
		{in: "1,1,18446744073709551616", wantErr: "sum not a decimal integer"},
		{in: "1,1, 1", wantErr: "sum not a decimal integer"},
		{in: "1,1,1\r", wantErr: "sum not a decimal integer"},
		{in: "9223372036854775808,1,1", wantErr: "key not a decimal integer"},
		{in: "-,1,1", wantErr: "key not a decimal integer"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseLine([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("parseLine(%q) = %+v, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseLine(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestExpectedSum(t *testing.T) {
	// Against the definition, for small values.
	for keys := uint64(1); keys <= 5; keys++ {
		for k := range keys {
			var sum int64
			for c := uint64(1); c <= 20; c++ {
				sum += int64(k + (c-1)*keys)
				if got := expectedSum(k, keys, c); got != sum {
					t.Fatalf("expectedSum(%d, %d, %d) = %d, want %d", k, keys, c, got, sum)
				}
			}
		}
	}
	// Past int64, the sum wraps as an int64 accumulator does: with K=1,
	// k=0, c=2^32+1 the true sum is 2^32*(2^32+1)/2 = 2^63+2^31.
	c := uint64(1)<<32 + 1
	want := int64(math.MinInt64) + 1<<31
	if got := expectedSum(0, 1, c); got != want {
		t.Errorf("expectedSum(0, 1, 2^32+1) = %d, want %d", got, want)
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"0,1,0", "-1,2,-3", "1,1,18446744073709551615", "a,b,c", ",,"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := parseLine(b)
		if err != nil {
			return
		}
		// An accepted line formats back to an equivalent line.
		again, err := parseLine(fmt.Appendf(nil, "%d,%d,%s", l.key, l.count, strconv.FormatInt(l.sum, 10)))
		if err != nil || again != l {
			t.Fatalf("parseLine(%q) = %+v; re-parsed as %+v, %v", b, l, again, err)
		}
	})
}
