package kafka

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	c := Config[int]{Topics: []string{"a", "a", ""}, TopicPattern: regexp.MustCompile("a"), Start: OffsetReset(7), MaxPollRecords: -1,
		Deserialize: func(_, _ []byte) (int, error) { return 0, nil }, DeserializeRecord: func(*kgo.Record) (int, error) { return 0, nil },
		OnDeserializeError: DeadLetter("a"), OnOffsetOutOfRange: OutOfRangePolicy(3)}
	c.ensureDefaults()
	err := c.validate()
	if err == nil {
		t.Fatal("an empty config validated")
	}
	for _, want := range []string{"no bootstrap servers", `topic "a" given twice`, "empty topic name", "both Topics and TopicPattern",
		"unknown start offset OffsetReset(7)", "exactly one of Deserialize and DeserializeRecord", `dead-letter topic "a" is also read`,
		"unknown OnOffsetOutOfRange OutOfRangePolicy(3)", "MaxPollRecords -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	for _, tc := range []struct {
		name string
		cfg  Config[int]
		want string
	}{
		{"no topics", Config[int]{}, "no topics (Topics or TopicPattern)"},
		{"committed without a group", Config[int]{Start: Committed(Latest)}, "a committed start offset needs a Group"},
		{"committed with an unknown reset", Config[int]{Group: "g", Start: Committed(OffsetReset(-1))}, "unknown reset OffsetReset(-1)"},
		{"the zero time", Config[int]{Start: StartAt(time.Time{})}, "StartAt the zero time"},
		{"no deserializer", Config[int]{Topics: []string{"a"}}, "exactly one of Deserialize and DeserializeRecord"},
	} {
		tc.cfg.ensureDefaults()
		if err := tc.cfg.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	for _, good := range []Config[int]{
		{Brokers: []string{"x:1"}, Topics: []string{"a"}, Deserialize: func(_, _ []byte) (int, error) { return 0, nil }},
		{Brokers: []string{"x:1"}, TopicPattern: regexp.MustCompile("^a"), Group: "g", Start: Committed(Earliest),
			DeserializeRecord: func(*kgo.Record) (int, error) { return 0, nil }, OnDeserializeError: DeadLetter("dlq"),
			OnOffsetOutOfRange: ResetEarliest},
		{Brokers: []string{"x:1"}, Topics: []string{"a"}, Start: StartAt(time.Now()), Deserialize: func(_, _ []byte) (int, error) { return 0, nil },
			OnDeserializeError: Skip()},
	} {
		good.ensureDefaults()
		if err := good.validate(); err != nil {
			t.Errorf("a valid config: %v", err)
		}
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
