package topspeed

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readEvents reads a testdata file of events, one a line.
func readEvents(t *testing.T, name string) []Event {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewReader(f)
	var events []Event
	for {
		e, err := r.Next()
		if err != nil {
			if err.Error() == "EOF" {
				return events
			}
			t.Fatal(err)
		}
		events = append(events, e)
	}
}

func linesByCar(events []Event) map[int32][]string {
	out := make(map[int32][]string)
	for _, e := range events {
		out[e.CarID] = append(out[e.CarID], e.String())
	}
	return out
}

// TestReferenceMatchesFlinkExampleData runs Flink's own test input for the
// example (TopSpeedWindowingExampleData.CAR_DATA) through the reference and
// compares the results, car by car and in order, with Flink's expected
// output (TOP_SPEEDS).
func TestReferenceMatchesFlinkExampleData(t *testing.T) {
	in := readEvents(t, "testdata/flink_car_data.txt")
	want := linesByCar(readEvents(t, "testdata/flink_top_speeds.txt"))
	got := make(map[int32][]string)
	for car, tops := range TopSpeeds(in) {
		for _, e := range tops {
			got[car] = append(got[car], e.String())
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("results per car (-Flink's TOP_SPEEDS +reference):\n%s", d)
	}
	_ = strings.Join
}
