package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestEverySystemCountsEverything runs each system once on a small topic:
// each must count every record (and the keyed ones every key's count), or
// the run fails; the report then compares them.
func TestEverySystemCountsEverything(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"--records", "20000", "--keys", "64", "--repeat", "1"}, &out, &errb)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	for _, want := range []string{"| franz-go |", "| tide-source |", "| tide-keyed |", "| goka |", "tide-source / franz-go:", "tide-keyed / goka:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestBadFlags: the flags are checked before anything starts.
func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--records", "0"}, {"--only", "nothing"}, {"extra"}} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, &out, &errb); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
