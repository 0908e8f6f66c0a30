package stream_test

import (
	"bufio"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/examples/topspeed"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// readCars reads Flink's TopSpeedWindowing input and its expected output.
func readCars(t *testing.T) (in []topspeed.Event, want []string) {
	t.Helper()
	f, err := os.Open("../examples/topspeed/testdata/flink_car_data.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := topspeed.NewReader(f)
	for {
		e, err := r.Next()
		if err != nil {
			break
		}
		in = append(in, e)
	}
	b, err := os.ReadFile("../examples/topspeed/testdata/flink_top_speeds.txt")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			want = append(want, l)
		}
	}
	return in, want
}

// perCar splits output lines by car, keeping their order: across cars the
// order is not defined, within a car it is.
func perCar(lines []string) map[string][]string {
	out := map[string][]string{}
	for _, l := range lines {
		car, _, _ := strings.Cut(strings.TrimPrefix(l, "("), ",")
		out[car] = append(out[car], l)
	}
	return out
}

// TestTopSpeedWindowingMatchesFlink runs Flink 1.13's TopSpeedWindowing
// pipeline — global windows per car, a 10s time evictor, a delta trigger
// on distance (50), the fastest record of what is left — on Flink's own
// example input, and requires Flink's expected output, car by car and in
// order: on one TaskManager, on two, and with a TaskManager crashing in the
// middle. The window contents, the trigger's last record and the evictor's
// view all live in keyed state, so the crash changes nothing.
func TestTopSpeedWindowingMatchesFlink(t *testing.T) {
	in, want := readCars(t)
	for _, tc := range []struct {
		name  string
		tms   int
		crash bool
	}{{"one taskmanager", 1, false}, {"two taskmanagers", 2, false}, {"a crash", 2, true}} {
		t.Run(tc.name, func(t *testing.T) {
			simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
				sink := tidetest.NewSink[string]()
				c := tidetest.Start(t, tidetest.Config{
					Job: func(env *stream.Env, _ []string) error {
						// One split keeps each car's events in order.
						cars := stream.FromSource(env, tidetest.SliceSource("cars", in, tidetest.Splits(1), tidetest.Rate(50)),
							stream.WithWatermarks(stream.MonotonousTimestamps(func(e topspeed.Event) int64 { return e.Timestamp })))
						windows := stream.KeyBy(cars, func(e topspeed.Event) int32 { return e.CarID }).
							Window(stream.GlobalWindows()).
							Evictor(stream.TimeEvictor[topspeed.Event](10 * time.Second)).
							Trigger(stream.DeltaTrigger(50, func(last, v topspeed.Event) float64 { return v.Distance - last.Distance }))
						top := stream.WindowMaxBy(windows, "top speed", func(a, b topspeed.Event) bool { return a.Speed < b.Speed })
						sink.To(stream.Map(top, "format", topspeed.Event.String), "collect")
						return nil
					},
					TaskManagers:       tc.tms,
					CheckpointInterval: 200 * time.Millisecond,
					Simulated:          true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
				})
				if tc.crash {
					c.WaitCheckpoints(2, timeout)
					pause(r)
					c.TaskManagers()[r.IntN(tc.tms)].Crash()
					c.AddTaskManager()
				}
				c.WaitState(tidetest.Finished, 2*timeout)
				got, exp := perCar(sink.Values()), perCar(want)
				for car, lines := range exp {
					if !slices.Equal(got[car], lines) {
						t.Errorf("car %s: %d lines, want Flink's %d\n%s", car, len(got[car]), len(lines), diff(got[car], lines))
					}
				}
				if len(got) != len(exp) {
					t.Errorf("output for %d cars, want %d", len(got), len(exp))
				}
			})
		})
	}
}
