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
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "chained: also profile the pipeline into this file and print its top")
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
	bin := filepath.Join(dir, "task.test")
	build := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, "./internal/task/")
	build.Dir, build.Stderr = root, stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("chained: build the internal/task test binary: %w", err)
	}
	rates := map[string][]float64{}
	var ratio, ratioCalls []float64
	for round := range o.rounds {
		out, err := runTestBinary(ctx, bin, "-test.run", "^$", "-test.bench", "^BenchmarkChained$",
			"-test.benchtime", o.benchtime, "-test.count", "1")
		if err != nil {
			return fmt.Errorf("chained: round %d: %w", round+1, err)
		}
		got, err := parseBenchRates(out)
		if err != nil {
			return fmt.Errorf("chained: round %d: %w", round+1, err)
		}
		for _, sub := range []string{subPipeline, subHandLoop, subHandCalls} {
			r, ok := got["BenchmarkChained/"+sub]
			if !ok {
				return fmt.Errorf("chained: round %d: no records/s for %s in:\n%s", round+1, sub, out)
			}
			rates[sub] = append(rates[sub], r)
		}
		p := got["BenchmarkChained/"+subPipeline]
		ratio = append(ratio, p/got["BenchmarkChained/"+subHandLoop])
		ratioCalls = append(ratioCalls, p/got["BenchmarkChained/"+subHandCalls])
		fmt.Fprintf(stderr, "chained round %d/%d: pipeline %s records/s, hand loop %s, hand loop (calls) %s\n",
			round+1, o.rounds, num(p), num(got["BenchmarkChained/"+subHandLoop]), num(got["BenchmarkChained/"+subHandCalls]))
	}
	const how = "go test -bench BenchmarkChained ./internal/task, one test-binary run per round"
	rep.add("chained pipeline, 1 slot", "records/s", rates[subPipeline], nil, how)
	rep.add("hand loop (inlined)", "records/s", rates[subHandLoop], nil, how)
	rep.add("hand loop (func-value calls)", "records/s", rates[subHandCalls], nil, how)
	rep.add("pipeline / hand loop", "ratio", ratio, &target{atLeast: true, bound: 0.5}, "per round, same load")
	rep.add("pipeline / hand loop (calls)", "ratio", ratioCalls, nil, "per round, same load")
	if o.cpuprofile != "" {
		return profileChained(ctx, bin, o, stderr)
	}
	return nil
}

// profileChained profiles the pipeline alone and prints the profile's top.
func profileChained(ctx context.Context, bin string, o chainedOptions, stderr io.Writer) error {
	if _, err := runTestBinary(ctx, bin, "-test.run", "^$", "-test.bench", "^BenchmarkChained$/^pipeline$",
		"-test.benchtime", o.benchtime, "-test.count", "1", "-test.cpuprofile", o.cpuprofile); err != nil {
		return fmt.Errorf("chained: profile: %w", err)
	}
	top := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount", "20", bin, o.cpuprofile)
	top.Stdout, top.Stderr = stderr, io.Discard
	if err := top.Run(); err != nil {
		return fmt.Errorf("chained: pprof -top: %w", err)
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
