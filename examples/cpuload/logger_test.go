package cpuload

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestThroughputLoggerLines: the first records start the interval; a line
// comes once an interval has passed, with the records since the last line
// and their rate; Close logs the total.
func TestThroughputLoggerLines(t *testing.T) {
	var buf bytes.Buffer
	l := &throughputLogger{log: slog.New(slog.NewJSONHandler(&buf, nil)), every: time.Second, subtask: 1, parallelism: 3}
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	l.add(100, t0)                                  // starts the interval
	l.add(400, t0.Add(500*time.Millisecond))        // too early
	l.add(500, t0.Add(2*time.Second))               // 1000 records in 2 s
	l.add(300, t0.Add(2500*time.Millisecond))       // too early
	l.add(700, t0.Add(2*time.Second+4*time.Second)) // 1000 records in 4 s
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	type line struct {
		Msg     string
		Records int64
		MS      int64 `json:"ms"`
		Rate    int64 `json:"records_per_second"`
		Total   int64
		Subtask int
	}
	var got []line
	for _, s := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var l line
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		got = append(got, l)
	}
	want := []line{
		{Msg: "Throughput Logger 2/3: during the last 2000 ms, we received 900 records. That's 450 records/second/core.",
			Records: 900, MS: 2000, Rate: 450, Total: 1000, Subtask: 1},
		{Msg: "Throughput Logger 2/3: during the last 4000 ms, we received 1000 records. That's 250 records/second/core.",
			Records: 1000, MS: 4000, Rate: 250, Total: 2000, Subtask: 1},
		{Msg: "Throughput Logger 2/3: 2000 records in total.", Total: 2000, Subtask: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), buf.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i+1, got[i], want[i])
		}
	}
}
