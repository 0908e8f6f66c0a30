package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/internal/datagen"
)

// datagenOptions are the flags of `bench datagen`.
type datagenOptions struct {
	rates    string
	duration time.Duration
	window   int
}

func (o *datagenOptions) bind(fs *flag.FlagSet) {
	fs.StringVar(&o.rates, "datagen-rates", "1000,10000,50000,100000,200000",
		"target rates of the constant-shape runs, records/s, comma-separated")
	fs.DurationVar(&o.duration, "datagen-duration", 5*time.Second, "length of each datagen run")
	fs.IntVar(&o.window, "datagen-window", 10_000, "datagen's in-flight window")
}

func (o *datagenOptions) parseRates() ([]float64, error) {
	var out []float64
	for _, s := range strings.Split(o.rates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || r <= 0 {
			return nil, fmt.Errorf("--datagen-rates: %q is not a positive rate", s)
		}
		out = append(out, r)
	}
	return out, nil
}

func (o *datagenOptions) validate() error {
	if _, err := o.parseRates(); err != nil {
		return err
	}
	if o.duration < time.Second {
		return errors.New("--datagen-duration must be at least 1s")
	}
	return nil
}

// runDatagen measures `tide datagen`'s accuracy on an in-process kfake
// cluster (3 brokers, a 4-partition topic per run): for each target rate, a
// constant-shape run of --datagen-duration, the achieved rate from the
// records' own timestamps (read back from the broker), and its error; a
// cosine run over two whole periods (its records against the shape's
// integral); and a flat-out run for the maximum rate.
func runDatagen(ctx context.Context, o datagenOptions, rep *Report, stderr io.Writer) error {
	rates, _ := o.parseRates()
	c, err := kfake.NewCluster(kfake.NumBrokers(3))
	if err != nil {
		return fmt.Errorf("datagen: starting kfake: %w", err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	run := 0
	produce := func(shape datagen.ShapeConfig, d time.Duration) (datagen.Result, string, error) {
		run++
		topic := fmt.Sprintf("datagen-%d", run)
		res, err := datagen.Run(ctx, datagen.Config{Brokers: brokers, Topic: topic, Partitions: 4,
			Shape: shape, Duration: d, Window: o.window, Payload: datagen.Verify{Keys: 1024}})
		return res, topic, err
	}
	for _, r := range rates {
		res, topic, err := produce(datagen.ShapeConfig{Name: "constant", Rate: r}, o.duration)
		if err != nil {
			return err
		}
		span, n, err := timestampSpan(ctx, brokers, topic, res.Acked)
		if err != nil {
			return err
		}
		got := float64(n-1) / span.Seconds()
		errPct := 100 * math.Abs(got-r) / r
		fmt.Fprintf(stderr, "datagen: constant %.0f/s: %d records, %.0f/s from timestamps (%.2f%% off), %d dropped\n",
			r, n, got, errPct, res.Dropped)
		rep.add(fmt.Sprintf("datagen constant %s/s: error of the rate from record timestamps", num(r)), "%",
			[]float64{errPct}, &target{bound: 2}, fmt.Sprintf("%d records in %v, 3-broker kfake, 4 partitions", n, o.duration))
	}
	// Cosine between 10% and 100% of the middle rate, two periods in the run.
	mid := rates[len(rates)/2]
	period := o.duration / 2
	shape := datagen.ShapeConfig{Name: "cosine", Min: mid / 10, Max: mid, Period: period}
	res, _, err := produce(shape, 2*period)
	if err != nil {
		return err
	}
	want := datagen.Cosine{Min: shape.Min, Max: shape.Max, Period: period}.Due(2 * period)
	errPct := 100 * math.Abs(float64(res.Acked)-want) / want
	fmt.Fprintf(stderr, "datagen: cosine %s..%s/s over two %v periods: %d records, want %.0f (%.2f%% off)\n",
		num(shape.Min), num(shape.Max), period, res.Acked, want, errPct)
	rep.add(fmt.Sprintf("datagen cosine %s..%s/s: error of the count over two periods", num(shape.Min), num(shape.Max)), "%",
		[]float64{errPct}, &target{bound: 2}, "records produced against the shape's integral")
	// Flat out: the broker's limit.
	res, _, err = produce(datagen.ShapeConfig{Name: "constant", Rate: 1e9}, o.duration)
	if err != nil {
		return err
	}
	maxRate := float64(res.Acked) / res.Elapsed.Seconds()
	fmt.Fprintf(stderr, "datagen: flat out: %d records in %v: %.0f/s\n", res.Acked, res.Elapsed.Round(time.Millisecond), maxRate)
	rep.add("datagen maximum rate (constant 1e9/s)", "records/s", []float64{maxRate}, nil,
		"3-broker kfake in the same process, 4 partitions, Verify payload")
	return nil
}

// timestampSpan reads n records of topic and returns the time between the
// first and last record timestamps, and how many it read.
func timestampSpan(ctx context.Context, brokers []string, topic string, n int64) (time.Duration, int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return 0, 0, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var first, last time.Time
	var read int64
	for read < n {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return 0, 0, fmt.Errorf("datagen: reading %s back after %d of %d records: %w", topic, read, n, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if first.IsZero() || r.Timestamp.Before(first) {
				first = r.Timestamp
			}
			if r.Timestamp.After(last) {
				last = r.Timestamp
			}
			read++
		})
	}
	if read < 2 || !last.After(first) {
		return 0, 0, fmt.Errorf("datagen: %d records of %s span no time", read, topic)
	}
	return last.Sub(first), read, nil
}
