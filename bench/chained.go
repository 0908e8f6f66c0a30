package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// chainedOptions configures the one-slot chained pipeline benchmark.
type chainedOptions struct {
	rounds     int
	benchtime  string
	cpuprofile string
}

func (o *chainedOptions) bind(fs *flag.FlagSet) {
	fs.IntVar(&o.rounds, "rounds", 5, "chained: rounds; each runs the pipeline and the hand loops once")
	fs.StringVar(&o.benchtime, "benchtime", "2s", "chained: -test.benchtime of each benchmark")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "chained: also profile the pipelines into FILE (trivial work) and FILE.1 (text work) and print their tops")
}

// Names of BenchmarkChained's sub-benchmarks.
const (
	subPipeline  = "pipeline"
	subHandLoop  = "handloop"
	subHandCalls = "handloop-calls"
)

func (o *chainedOptions) validate() error {
	if o.rounds < 1 {
		return fmt.Errorf("chained: --rounds %d must be at least 1", o.rounds)
	}
	return nil
}

// chainVariant is one chained-pipeline benchmark: a BenchmarkChained*
// with the pipeline and hand-loop sub-benchmarks, in a package's tests.
type chainVariant struct {
	label string // prefix of the figures' names; "" for the trivial work
	pkg   string // package of the benchmark, relative to the module root
	bench string // benchmark function
	note  string // what the work is
	bin   string // the built test binary
}

// chainVariants are the trivial work (runtime cost per record) and the
// text work (strconv parsing and formatting, ~120 ns per record).
func chainVariants() []*chainVariant {
	return []*chainVariant{
		{label: "", pkg: "./internal/task/", bench: "BenchmarkChained",
			note: "trivial work: Scramble, Keep, Project on 16-byte records"},
		{label: "text work: ", pkg: "./examples/throughput/", bench: "BenchmarkChainedText",
			note: "text work: FormatLine, ParseLine (strconv), Valid, Render (strconv, string)"},
	}
}

func runChained(ctx context.Context, o chainedOptions, rep *Report, stderr io.Writer) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "tide-bench-chained-")
	if err != nil {
		return fmt.Errorf("chained: %w", err)
	}
	defer os.RemoveAll(dir)
	vs := chainVariants()
	for i, v := range vs {
		v.bin = filepath.Join(dir, fmt.Sprintf("chain%d.test", i))
		build := exec.CommandContext(ctx, "go", "test", "-c", "-o", v.bin, v.pkg)
		build.Dir, build.Stderr = root, stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("chained: build the %s test binary: %w", v.pkg, err)
		}
	}
	type samples struct {
		rates             map[string][]float64
		ratio, ratioCalls []float64
	}
	got := make([]samples, len(vs))
	for i := range got {
		got[i].rates = map[string][]float64{}
	}
	// Every round runs every variant once, so that they alternate under the
	// same load; the ratios are taken within a variant's run.
	for round := range o.rounds {
		for i, v := range vs {
			rates, err := runChainRound(ctx, v, o.benchtime)
			if err != nil {
				return fmt.Errorf("chained: round %d: %w", round+1, err)
			}
			for sub, r := range rates {
				got[i].rates[sub] = append(got[i].rates[sub], r)
			}
			p := rates[subPipeline]
			got[i].ratio = append(got[i].ratio, p/rates[subHandLoop])
			got[i].ratioCalls = append(got[i].ratioCalls, p/rates[subHandCalls])
			fmt.Fprintf(stderr, "chained round %d/%d %s: pipeline %s records/s, hand loop %s, hand loop (calls) %s\n",
				round+1, o.rounds, v.bench, num(p), num(rates[subHandLoop]), num(rates[subHandCalls]))
		}
	}
	for i, v := range vs {
		how := fmt.Sprintf("go test -bench %s %s, one test-binary run per round; %s", v.bench, v.pkg, v.note)
		s := got[i]
		rep.add(v.label+"chained pipeline, 1 slot", "records/s", s.rates[subPipeline], nil, how)
		rep.add(v.label+"hand loop (inlined)", "records/s", s.rates[subHandLoop], nil, how)
		rep.add(v.label+"hand loop (func-value calls)", "records/s", s.rates[subHandCalls], nil, how)
		rep.add(v.label+"hand loop, work per record", "ns", nsPerRecord(s.rates[subHandLoop]), nil, how)
		var t *target
		if v.label == "" {
			t = &target{atLeast: true, bound: 0.5}
		}
		rep.add(v.label+"pipeline / hand loop", "ratio", s.ratio, t, "per round, same load")
		rep.add(v.label+"pipeline / hand loop (calls)", "ratio", s.ratioCalls, nil, "per round, same load")
	}
	if o.cpuprofile != "" {
		for i, v := range vs {
			file := o.cpuprofile
			if i > 0 {
				file = fmt.Sprintf("%s.%d", o.cpuprofile, i)
			}
			if err := profileChained(ctx, v, o.benchtime, file, stderr); err != nil {
				return err
			}
		}
	}
	return nil
}

// nsPerRecord converts records/s into ns per record.
func nsPerRecord(rates []float64) []float64 {
	out := make([]float64, 0, len(rates))
	for _, r := range rates {
		if r > 0 {
			out = append(out, 1e9/r)
		}
	}
	return out
}

// runChainRound runs v's benchmark once and returns the records/s of its
// sub-benchmarks by sub-benchmark name.
func runChainRound(ctx context.Context, v *chainVariant, benchtime string) (map[string]float64, error) {
	out, err := runTestBinary(ctx, v.bin, "-test.run", "^$", "-test.bench", "^"+v.bench+"$",
		"-test.benchtime", benchtime, "-test.count", "1")
	if err != nil {
		return nil, err
	}
	all, err := parseBenchRates(out)
	if err != nil {
		return nil, err
	}
	rates := map[string]float64{}
	for _, sub := range []string{subPipeline, subHandLoop, subHandCalls} {
		r, ok := all[v.bench+"/"+sub]
		if !ok || r <= 0 {
			return nil, fmt.Errorf("no records/s for %s/%s in:\n%s", v.bench, sub, out)
		}
		rates[sub] = r
	}
	return rates, nil
}

// profileChained profiles v's pipeline alone into file and prints the
// profile's top.
func profileChained(ctx context.Context, v *chainVariant, benchtime, file string, stderr io.Writer) error {
	file, err := filepath.Abs(file) // the test binary runs in its own directory
	if err != nil {
		return fmt.Errorf("chained: profile file: %w", err)
	}
	if _, err := runTestBinary(ctx, v.bin, "-test.run", "^$", "-test.bench", "^"+v.bench+"$/^pipeline$",
		"-test.benchtime", benchtime, "-test.count", "1", "-test.cpuprofile", file); err != nil {
		return fmt.Errorf("chained: profile %s: %w", v.bench, err)
	}
	fmt.Fprintf(stderr, "profile of %s/pipeline (%s):\n", v.bench, file)
	top := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount", "25", v.bin, file)
	top.Stdout, top.Stderr = stderr, io.Discard
	if err := top.Run(); err != nil {
		return fmt.Errorf("chained: pprof -top %s: %w", file, err)
	}
	return nil
}

func runTestBinary(ctx context.Context, bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = filepath.Dir(bin)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// parseBenchRates reads go test -bench output and returns the records/s
// metric of each benchmark, by name without the -GOMAXPROCS suffix.
func parseBenchRates(out string) (map[string]float64, error) {
	rates := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		for i := 2; i < len(f); i++ {
			if f[i] != "records/s" {
				continue
			}
			v, err := strconv.ParseFloat(f[i-1], 64)
			if err != nil {
				return nil, fmt.Errorf("parse %q: %w", sc.Text(), err)
			}
			rates[trimProcs(f[0])] = v
		}
	}
	if len(rates) == 0 {
		return nil, fmt.Errorf("no records/s metric in the benchmark output:\n%s", out)
	}
	return rates, nil
}

// trimProcs drops the "-N" GOMAXPROCS suffix go test appends to names.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run bench from inside the tide module (go run ./bench)")
	}
	return filepath.Dir(mod), nil
}
