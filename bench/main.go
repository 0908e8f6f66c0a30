// Command bench measures Tide's benchmark figures (BENCHMARKS.md) and
// prints them as a table, optionally also as JSON:
//
//	go run ./bench chained [--rounds 5] [--benchtime 2s] [--cpuprofile FILE]
//	go run ./bench keyed   --tide BIN [--records 30000000] [--keys 1024] [--runs 3] [--scrape 1s] [--compare-tls]
//	go run ./bench rescale --tide BIN [--cycles 3] [--rate 100000] [--state-keys 1024]
//	                       [--state-mb 0,100] [--local-recovery true,false] [--tls false,true]
//	                       [--state-bytes-per-key 1024] [--checkpoint-interval 1s] [--keep]
//	go run ./bench nexmark [--queries q0,q1,...] [--events N] [--parallelism 2] [--event-rate 100000]
//	                       [--repeat 3] [--seed 0] [--cpuprofile FILE]
//	go run ./bench datagen [--datagen-rates 1000,10000,...] [--datagen-duration 5s] [--datagen-window 10000]
//	go run ./bench kafkasink [--sink-records 2000000] [--sink-parallelism 2] [--sink-checkpoint-interval 1s] [--sink-runs 3]
//	go run ./bench all     --tide BIN
//
// Every subcommand takes --json FILE. chained runs internal/task's
// BenchmarkChained in rounds (the test binary once per round, so the
// pipeline and the hand loops alternate under the same load) and reports
// medians and the ratio; it does the same for examples/throughput's
// BenchmarkChainedText (realistic per-record work). keyed and rescale start a real JobManager and
// TaskManagers (the tide binary given by --tide) on loopback with free
// ports and a fresh TIDE_HOME, and read the REST API and the Throughput
// job's progress lines; --compare-tls alternates runs with mutual TLS and the
// shared secret on the internal plane. rescale runs every combination of
// --state-mb, --local-recovery and --tls on its own cluster and measures pause, bytes restored
// from the blob store and kill -9 detection of every rescale. nexmark runs
// the Nexmark queries in this process on real tasks and loopback network
// managers (nexmark.go), checks each run's result against bench/nexmark's
// reference and reports events/s per core of CPU time beside Flink's
// published figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

const usage = "usage: bench chained|keyed|rescale|nexmark|datagen|kafkasink|all [flags]; bench SUBCOMMAND -h for its flags"

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	cmd := args[0]
	fs := flag.NewFlagSet("bench "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonOut := fs.String("json", "", "also write the figures as JSON to this file")
	var ch chainedOptions
	var ko keyedOptions
	var ro rescaleOptions
	var no nexmarkOptions
	var dgo datagenOptions
	var kso kafkaSinkOptions
	tide := fs.String("tide", "/tmp/tide-bench/tide", "the tide binary (go build -o /tmp/tide-bench/tide ./cmd/tide)")
	verbose := fs.Bool("v", false, "copy the processes' logs to stderr")
	switch cmd {
	case "chained":
		ch.bind(fs)
	case "keyed":
		ko.bind(fs)
	case "rescale":
		ro.bind(fs)
	case "nexmark":
		no.bind(fs, true)
	case "datagen":
		dgo.bind(fs)
	case "kafkasink":
		kso.bind(fs)
	case "all":
		ch.bind(fs)
		ko.bind(fs)
		ro.bind(fs)
		no.bind(fs, false) // --cpuprofile is chained's
		dgo.bind(fs)
		kso.bind(fs)
	default:
		return fmt.Errorf("unknown subcommand %q; %s", cmd, usage)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	do := func(c string) bool { return cmd == c || cmd == "all" }
	var verr error
	if do("chained") {
		verr = errors.Join(verr, ch.validate())
	}
	if do("keyed") {
		verr = errors.Join(verr, ko.validate())
	}
	if do("rescale") {
		verr = errors.Join(verr, ro.validate())
	}
	if do("nexmark") {
		verr = errors.Join(verr, no.validate())
	}
	if do("datagen") {
		verr = errors.Join(verr, dgo.validate())
	}
	if do("kafkasink") {
		verr = errors.Join(verr, kso.validate())
	}
	if verr != nil {
		return verr
	}
	rep := newReport()
	var logs io.Writer = io.Discard
	if *verbose {
		logs = stderr
	}
	var err error
	if do("chained") {
		err = errors.Join(err, runChained(ctx, ch, rep, stderr))
	}
	if do("keyed") {
		ko.tide, ko.logs = *tide, logs
		err = errors.Join(err, runKeyed(ctx, ko, rep, stderr))
	}
	if do("rescale") {
		ro.tide, ro.logs = *tide, logs
		err = errors.Join(err, runRescale(ctx, ro, rep, stderr))
	}
	if do("nexmark") {
		err = errors.Join(err, runNexmark(ctx, no, rep, stderr))
	}
	if do("datagen") {
		err = errors.Join(err, runDatagen(ctx, dgo, rep, stderr))
	}
	if do("kafkasink") {
		err = errors.Join(err, runKafkaSink(ctx, kso, rep, stderr))
	}
	rep.finish()
	rep.writeTable(stdout)
	if *jsonOut != "" {
		if werr := rep.writeJSON(*jsonOut); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	return err
}
