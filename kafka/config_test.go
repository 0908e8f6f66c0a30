package kafka

import (
	"strings"
	"testing"
)

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	c := Config[int]{Topics: []string{"a", "a", ""}, Start: StartOffset(7), MaxPollRecords: -1}
	c.ensureDefaults()
	err := c.validate()
	if err == nil {
		t.Fatal("an empty config validated")
	}
	for _, want := range []string{"no bootstrap servers", `topic "a" given twice`, "empty topic name", "unknown start offset StartOffset(7)", "no Deserialize", "MaxPollRecords -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	good := Config[int]{Brokers: []string{"x:1"}, Topics: []string{"a"}, Deserialize: func(_, _ []byte) (int, error) { return 0, nil }}
	good.ensureDefaults()
	if err := good.validate(); err != nil {
		t.Errorf("a valid config: %v", err)
	}
}

func TestSplitRoundTrip(t *testing.T) {
	for _, s := range []*split{
		newSplit("numbers", 0, 0, noStop, 0),
		newSplit("a.b_c-d", 17, 1<<40, 1<<41, 12345),
	} {
		got, err := decodeSplit(s.encode())
		if err != nil {
			t.Fatal(err)
		}
		if *got != *s {
			t.Errorf("decode(encode(%+v)) = %+v", *s, *got)
		}
	}
	enc := newSplit("t", 1, 2, 3, 4).encode()
	for _, bad := range [][]byte{nil, {2}, enc[:len(enc)-1], append(enc, 0)} {
		if _, err := decodeSplit(bad); err == nil {
			t.Errorf("decodeSplit(%x) accepted", bad)
		}
	}
}
