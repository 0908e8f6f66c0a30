package topspeed

import (
	"bytes"
	"os"
	"testing"
	"time"
)

func TestJavaRandom(t *testing.T) {
	// new java.util.Random(seed).nextInt(), printed by OpenJDK 17.
	for _, tc := range []struct {
		seed int64
		want int32
	}{{0, -1155484576}, {42, -1170105035}} {
		r := newJavaRandom(tc.seed)
		if got := r.next(32); got != tc.want {
			t.Errorf("new Random(%d).nextInt() = %d, want %d", tc.seed, got, tc.want)
		}
	}
}

// TestGeneratorMatchesJavaCarSource compares the generator with Flink's
// CarSource loop run on a JDK with a seeded Random (testdata/README.md):
// speeds, distances to the last bit, and their printed form.
func TestGeneratorMatchesJavaCarSource(t *testing.T) {
	for _, tc := range []struct {
		file   string
		seed   int64
		cars   int
		rounds int
		start  int64
	}{
		{"testdata/jdk17_carsource_seed42_cars3.txt", 42, 3, 1000, 1424951918630},
		{"testdata/jdk17_carsource_seedm7_cars2.txt", -7, 2, 500, 1700000000000},
	} {
		want, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		events, err := Generate(tc.cars, tc.seed, time.UnixMilli(tc.start), tc.rounds)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		for _, e := range events {
			got = append(e.AppendText(got), '\n')
		}
		if !bytes.Equal(got, want) {
			gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
			for i := range min(len(gl), len(wl)) {
				if !bytes.Equal(gl[i], wl[i]) {
					t.Fatalf("%s line %d: got %s, Java printed %s", tc.file, i+1, gl[i], wl[i])
				}
			}
			t.Fatalf("%s: %d lines, Java printed %d", tc.file, len(gl), len(wl))
		}
	}
}

func TestGeneratorRound(t *testing.T) {
	g, err := NewGenerator(DefaultCars, 1)
	if err != nil {
		t.Fatal(err)
	}
	if g.Cars() != DefaultCars {
		t.Fatalf("Cars() = %d", g.Cars())
	}
	now := time.UnixMilli(1_000_000)
	prev := make([]Event, 0, DefaultCars)
	for i := range DefaultCars {
		prev = append(prev, Event{CarID: int32(i), Speed: InitialSpeed})
	}
	for k := range 5000 {
		evs := g.Round(nil, now.Add(time.Duration(k)*Interval))
		if len(evs) != DefaultCars {
			t.Fatalf("round %d: %d events", k, len(evs))
		}
		for i, e := range evs {
			p := prev[i]
			if e.CarID != int32(i) || e.Timestamp != now.UnixMilli()+int64(k)*100 {
				t.Fatalf("round %d: event %d is %v", k, i, e)
			}
			if d := e.Speed - p.Speed; e.Speed < 0 || e.Speed > MaxSpeed || (d != SpeedStep && d != -SpeedStep && !(d == 0 && (e.Speed == 0 || e.Speed == MaxSpeed))) {
				t.Fatalf("round %d: car %d from %d km/h to %d km/h", k, i, p.Speed, e.Speed)
			}
			if e.Distance != p.Distance+float64(e.Speed)/3.6 {
				t.Fatalf("round %d: car %d drove from %v to %v at %d km/h", k, i, p.Distance, e.Distance, e.Speed)
			}
			prev[i] = e
		}
	}
}

func TestNewGeneratorErrors(t *testing.T) {
	for _, cars := range []int{-1, 0, MaxCars + 1} {
		if _, err := NewGenerator(cars, 1); err == nil {
			t.Errorf("NewGenerator(%d cars) succeeded", cars)
		}
	}
	if _, err := Generate(0, 1, time.Time{}, 3); err == nil {
		t.Error("Generate(0 cars) succeeded")
	}
}

// TestGeneratorCheckpoint: a generator restored from another's state at any
// point continues exactly as the original does.
func TestGeneratorCheckpoint(t *testing.T) {
	start := time.UnixMilli(1_700_000_000_000)
	a, _ := NewGenerator(3, 99)
	var fromA []Event
	for k := range 100 {
		fromA = a.Round(fromA, start.Add(time.Duration(k)*Interval))
	}
	state, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewGenerator(1, 0)
	if err := b.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	for k := 100; k < 200; k++ {
		at := start.Add(time.Duration(k) * Interval)
		ea, eb := a.Round(nil, at), b.Round(nil, at)
		for i := range ea {
			if ea[i] != eb[i] {
				t.Fatalf("round %d: original %v, restored %v", k, ea[i], eb[i])
			}
		}
	}

	for _, bad := range [][]byte{
		nil,
		{generatorWire},
		append([]byte{2}, state[1:]...),       // unknown version
		state[:len(state)-1],                  // truncated
		append(append([]byte{}, state...), 0), // trailing byte
		func() []byte { s := bytes.Clone(state); s[13+3] = 101; return s }(), // speed 101
		func() []byte { s := bytes.Clone(state); s[5] = 0xff; return s }(),   // seed beyond 48 bits
	} {
		c, _ := NewGenerator(2, 5)
		before, _ := c.MarshalBinary()
		if err := c.UnmarshalBinary(bad); err == nil {
			t.Errorf("UnmarshalBinary(%x) succeeded", bad)
		}
		if after, _ := c.MarshalBinary(); !bytes.Equal(before, after) {
			t.Errorf("failed UnmarshalBinary(%x) changed the generator", bad)
		}
	}
}
