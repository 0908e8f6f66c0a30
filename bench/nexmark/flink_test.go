package nexmark

import (
	"math"
	"slices"
	"testing"
)

// TestFlinkFiguresAreConsistent guards the transcription of the published
// tables: each row's published throughput agrees with its own events, cores
// and time, and both tables cover the queries Tide runs.
func TestFlinkFiguresAreConsistent(t *testing.T) {
	queries := []string{"q0", "q1", "q2", "q3", "q5", "q7", "q8", "q11", "q12"}
	near := func(got, want float64) bool { return math.Abs(got-want) <= 0.01*want }
	for _, run := range []FlinkRun{FlinkV1, FlinkV2} {
		var names []string
		for _, f := range run.Figures {
			names = append(names, f.Query)
			derived := float64(f.Events) / (f.Cores * f.Seconds)
			if f.PublishedPerCore != 0 && !near(f.PublishedPerCore, derived) {
				t.Errorf("%s %s: published %.0f/s per core, but events/(cores*time) is %.0f", run.Name, f.Query, f.PublishedPerCore, derived)
			}
			if f.PublishedThroughput != 0 && !near(f.PublishedThroughput, float64(f.Events)/f.Seconds) {
				t.Errorf("%s %s: published %.0f/s, but events/time is %.0f", run.Name, f.Query, f.PublishedThroughput, float64(f.Events)/f.Seconds)
			}
			if !near(f.EventsPerSecondPerCore(), derived) {
				t.Errorf("%s %s: EventsPerSecondPerCore %.0f, want about %.0f", run.Name, f.Query, f.EventsPerSecondPerCore(), derived)
			}
		}
		if !slices.Equal(names, queries) {
			t.Errorf("%s covers %v, want %v", run.Name, names, queries)
		}
	}
	if f, ok := FlinkV2.Figure("q0"); !ok || math.Round(f.EventsPerSecondPerCore()) != 378_430 {
		t.Errorf("FlinkV2 q0: %+v, %v; want 378,430 events/s per core", f, ok)
	}
}
