package demo

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// synthetic is a 10-minute run: input 1,000/s, a lag that rises to 3,000
// records at minute 4 and drains, one TaskManager then two from minute 4.
func synthetic(policy string) *Run {
	start := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	r := &Run{Policy: policy, Start: start, End: start.Add(10 * time.Minute), CPU: map[string][]Point{}}
	for s := 0; s <= 600; s += 5 {
		at := start.Add(time.Duration(s) * time.Second)
		lag := math.Max(0, 3000-math.Abs(float64(s-240))*20)
		tms := 1.0
		if s >= 240 {
			tms = 2
		}
		r.Lag = append(r.Lag, Point{at, lag})
		r.Input = append(r.Input, Point{at, 1000})
		r.Throughput = append(r.Throughput, Point{at, 1000})
		r.TaskManagers = append(r.TaskManagers, Point{at, tms})
		r.CPU["tm-1"] = append(r.CPU["tm-1"], Point{at, 0.4})
	}
	r.Rescales = []Rescale{{At: start, Trigger: "initial", To: 1}, {At: start.Add(4 * time.Minute), Trigger: "taskmanager-joined", From: 1, To: 2, Pause: 12 * time.Millisecond}}
	return r
}

func TestSummarize(t *testing.T) {
	s := synthetic("tide").Summarize()
	if s.PeakLagRecords != 3000 || s.PeakLagSeconds != 3 {
		t.Errorf("peak lag %v records, %v s; want 3000 and 3", s.PeakLagRecords, s.PeakLagSeconds)
	}
	// 240 s at 1, 360 s at 2.
	if s.TaskManagerSeconds != 960 {
		t.Errorf("TaskManager-seconds %v, want 960", s.TaskManagerSeconds)
	}
	if s.Rescales != 1 || s.PauseMsTotal != 12 {
		t.Errorf("rescales %d, pause %d ms; want 1 and 12 (the initial deployment is not a rescale)", s.Rescales, s.PauseMsTotal)
	}
}

// TestWrite writes the report of two runs: summary.json in DESIGN.md's
// shape, an SVG chart per panel and run, report.html naming them.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, []*Run{synthetic("hpa"), synthetic("tide")}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Runs []map[string]any `json:"runs"`
	}
	if err := json.Unmarshal(b, &sum); err != nil || len(sum.Runs) != 2 {
		t.Fatalf("summary.json: %v %s", err, b)
	}
	for _, k := range []string{"policy", "peak_lag_records", "peak_lag_seconds", "taskmanager_seconds", "rescales", "pause_ms_total"} {
		if _, ok := sum.Runs[0][k]; !ok {
			t.Errorf("summary.json lacks %s", k)
		}
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"hpa-1.svg", "hpa-4.svg", "tide-3.svg"} {
		if !strings.Contains(string(html), `src="`+f+`"`) {
			t.Errorf("report.html does not show %s", f)
		}
		svg, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !strings.Contains(string(svg), "<svg") {
			t.Errorf("%s: %v", f, err)
		}
	}
	if !strings.Contains(string(html), "<td>tide</td><td>3000</td><td>3.00</td><td>960</td><td>1</td><td>12</td>") {
		t.Errorf("report.html's summary row:\n%s", html)
	}
}
