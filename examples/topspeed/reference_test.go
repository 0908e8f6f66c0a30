package topspeed

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"

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
			if errors.Is(err, io.EOF) {
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
}

// ev builds an event of car 0.
func ev(speed int32, distance float64, ts int64) Event {
	return Event{CarID: 0, Speed: speed, Distance: distance, Timestamp: ts}
}

// TestCarWindow pins each rule of Flink 1.13's evicting window operator
// that the reference imitates.
func TestCarWindow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []Event
		want    []Event // the results, in order
		wantLen int     // events in the window at the end
	}{
		{
			name:    "first event is kept by the trigger, never fires",
			in:      []Event{ev(50, 100, 0)},
			wantLen: 1,
		},
		{
			name:    "fires only when the delta is strictly greater than 50",
			in:      []Event{ev(50, 0, 0), ev(60, 50, 100), ev(40, 50.000000000000001, 200), ev(45, 50.00000000000001, 300)},
			want:    []Event{ev(60, 50, 100)},
			wantLen: 4,
		},
		{
			name: "the delta is measured from the event that fired last, not the last event",
			in: []Event{
				ev(10, 0, 0), ev(10, 30, 100), ev(10, 51, 200), // fires at 51
				ev(20, 80, 300),  // 29 from 51: no
				ev(30, 101, 400), // 50 from 51: no
				ev(40, 102, 500), // 51 from 51: fires
			},
			want:    []Event{ev(10, 0, 0), ev(40, 102, 500)},
			wantLen: 6,
		},
		{
			name: "ties go to the earliest event in the window",
			in:   []Event{ev(70, 0, 0), ev(70, 20, 100), ev(60, 60, 200)},
			want: []Event{ev(70, 0, 0)}, wantLen: 3,
		},
		{
			name: "the firing event is in the window",
			in:   []Event{ev(10, 0, 0), ev(90, 60, 100)},
			want: []Event{ev(90, 60, 100)}, wantLen: 2,
		},
		{
			name: "eviction removes events at or before newest - 10 s, only when firing",
			in: []Event{
				ev(99, 0, 1000), ev(98, 10, 2000), ev(50, 20, 3000),
				ev(40, 30, 12000), // no fire: nothing evicted yet
				ev(30, 51, 12001), // fires: cutoff 2001 evicts 1000 and 2000
			},
			want:    []Event{ev(50, 20, 3000)},
			wantLen: 3,
		},
		{
			name: "the cutoff is from the newest timestamp, wherever it is; out-of-order events are kept",
			in: []Event{
				ev(10, 0, 20000), ev(99, 10, 5000), ev(98, 20, 10000), // late events are not dropped
				ev(20, 60, 11000), // fires: newest 20000, cutoff 10000 evicts 5000 and 10000
			},
			want:    []Event{ev(20, 60, 11000)},
			wantLen: 2,
		},
		{
			name: "evicted events stay evicted",
			in: []Event{
				ev(99, 0, 0), ev(10, 60, 20000), // fires: 0 evicted
				ev(10, 121, 20100), // fires: the 99 is gone
			},
			want:    []Event{ev(10, 60, 20000), ev(10, 60, 20000)},
			wantLen: 2,
		},
		{
			name: "a car that stands still accumulates events and never fires",
			in:   []Event{ev(0, 5, 0), ev(0, 5, 100), ev(0, 5, 200), ev(0, 5, 300000)},
			want: nil, wantLen: 4,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w CarWindow
			var got []Event
			for _, e := range tc.in {
				if top, ok := w.Add(e); ok {
					got = append(got, top)
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("results (-want +got):\n%s", d)
			}
			if w.Len() != tc.wantLen {
				t.Errorf("Len() = %d, want %d", w.Len(), tc.wantLen)
			}
		})
	}
}

// TestReferenceKeysAreIndependent: interleaving the cars' events differently
// changes nothing per car.
func TestReferenceKeysAreIndependent(t *testing.T) {
	events, err := Generate(4, 3, time.UnixMilli(0), 2000)
	if err != nil {
		t.Fatal(err)
	}
	want := TopSpeeds(events)
	if len(want) != 4 {
		t.Fatalf("results for %d cars, want 4", len(want))
	}
	// Car by car instead of round by round.
	var byCar []Event
	for car := range int32(4) {
		for _, e := range events {
			if e.CarID == car {
				byCar = append(byCar, e)
			}
		}
	}
	if d := cmp.Diff(want, TopSpeeds(byCar)); d != "" {
		t.Errorf("results depend on the interleaving of cars (-round by round +car by car):\n%s", d)
	}
}
