package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestParseBenchRates(t *testing.T) {
	out := `goos: linux
BenchmarkChained/pipeline-2         	46945036	        21.92 ns/op	  45610484 records/s
BenchmarkChained/handloop-calls-2   	100000000	        10.27 ns/op	  97405491 records/s
BenchmarkKeyed   	100	        10 ns/op	  1.5e+07 records/s
PASS`
	got, err := parseBenchRates(out)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"BenchmarkChained/pipeline": 45610484, "BenchmarkChained/handloop-calls": 97405491, "BenchmarkKeyed": 1.5e7}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if _, err := parseBenchRates("PASS\n"); err == nil {
		t.Error("no benchmark lines: no error")
	}
	if _, err := parseBenchRates("BenchmarkX-2 1 2 ns/op x records/s"); err == nil {
		t.Error("bad number: no error")
	}
}

func TestMedianAndNum(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.xs); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
	for x, want := range map[float64]string{0: "0", 12: "12", 0.5: "0.500", 1234567: "1,234,567", -1500: "-1,500", 999.5: "999.500"} {
		if got := num(x); got != want {
			t.Errorf("num(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestReportTargets(t *testing.T) {
	r := newReport()
	r.add("fast", "records/s", []float64{2e6, 1e6, 3e6}, &target{atLeast: true, bound: 1e6}, "")
	r.add("pause", "ms", []float64{1500, 10, 2000}, &target{bound: 1000}, "")
	r.add("none", "ms", nil, &target{bound: 1}, "")
	r.finish()
	if f := r.Figures[0]; f.Met == nil || !*f.Met || f.Median != 2e6 || f.Max != 3e6 {
		t.Errorf("fast: %+v", f)
	}
	if f := r.Figures[1]; f.Met == nil || *f.Met || f.Target != "< 1,000" {
		t.Errorf("pause: %+v", f)
	}
	if f := r.Figures[2]; f.Met != nil {
		t.Errorf("a figure without samples is judged: %+v", f)
	}
	var b bytes.Buffer
	r.writeTable(&b)
	if !strings.Contains(b.String(), "fast") || !strings.Contains(b.String(), "NO") {
		t.Errorf("table:\n%s", b.String())
	}
}

func TestProgressRates(t *testing.T) {
	s := int64(time.Second)
	lines := []progressLine{
		{Msg: msgSourceFirst, At: 5 * s, Process: "a"},
		{Msg: msgSourceFirst, At: 4 * s, Process: "b"},
		{Msg: msgKeyedProgress, Processed: 1, At: 4 * s, Process: "a"},
		{Msg: msgKeyedProgress, Processed: 100, At: 6 * s, Process: "a"},
		{Msg: msgKeyedProgress, Processed: 300, At: 8 * s, Process: "a"},
		{Msg: msgKeyedProgress, Processed: 50, At: 6 * s, Process: "b"},
		{Msg: msgKeyedProgress, Processed: 450, At: 10 * s, Process: "b"},
	}
	if got := firstRecord(lines); got != 4*s {
		t.Errorf("firstRecord = %d, want %d", got, 4*s)
	}
	// Skipping the first second leaves a: 100..300 over 2s, b: 50..450 over 4s.
	if got := steadyRate(lines, time.Second); got != 200 {
		t.Errorf("steadyRate = %v, want 200", got)
	}
	if got := steadyRate(nil, 0); got != 0 {
		t.Errorf("steadyRate(nil) = %v", got)
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"chained", "--rounds", "0"}, {"keyed", "--tide", "/nonexistent/tide", "--runs", "1"},
		{"all", "--rounds", "0"}, {"all", "--cycles", "0"}, {"rescale", "--rate", "0"},
		{"rescale", "--state-mb", "-5"}, {"rescale", "--local-recovery", "yes please"},
		{"nexmark", "--queries", "q0,q4"}, {"all", "--repeat", "0"}, {"nexmark", "--repeat", "0"}, {"nexmark", "--parallelism", "0"}, {"nexmark", "--events", "-1"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("run(%q): no error", args)
		}
	}
}
