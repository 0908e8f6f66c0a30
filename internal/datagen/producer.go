package datagen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Config is one run of the generator.
type Config struct {
	// Brokers are the bootstrap servers, host:port. Required.
	Brokers []string
	// Topic is the topic to produce to. Required.
	Topic string
	// Partitions is the partition count the topic is created with when it
	// does not exist. Default 1 (the seed's topic).
	Partitions int
	// Shape is the load shape. Required.
	Shape ShapeConfig
	// Payload makes the records. Default Counter.
	Payload Payload
	// Count stops the run after this many records; 0: no limit.
	Count int64
	// Duration stops the run after this long; 0: no limit.
	Duration time.Duration
	// Window bounds the records produced but not yet acknowledged (kgo's
	// MaxBufferedRecords). Default 10,000.
	Window int
	// Progress is where the progress lines and the final count go; nil: nowhere.
	Progress io.Writer
	// ProgressEvery is the interval of the progress lines. Default 1 s.
	ProgressEvery time.Duration
	// Opts are extra franz-go options, passed through unchanged.
	Opts []kgo.Opt
}

// EnsureDefaults fills the zero fields that have defaults.
func (c *Config) EnsureDefaults() {
	if c.Partitions == 0 {
		c.Partitions = 1
	}
	if c.Payload == nil {
		c.Payload = Counter{}
	}
	if c.Window == 0 {
		c.Window = 10_000
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = time.Second
	}
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("datagen: --bootstrap-servers is required"))
	}
	if c.Topic == "" {
		errs = append(errs, errors.New("datagen: --topic is required"))
	}
	if c.Partitions < 1 {
		errs = append(errs, fmt.Errorf("datagen: --partitions %d must be at least 1", c.Partitions))
	}
	if c.Count < 0 {
		errs = append(errs, fmt.Errorf("datagen: --count %d must not be negative", c.Count))
	}
	if c.Duration < 0 {
		errs = append(errs, fmt.Errorf("datagen: --duration %v must not be negative", c.Duration))
	}
	if c.Window < 1 {
		errs = append(errs, fmt.Errorf("datagen: window %d must be at least 1", c.Window))
	}
	if err := c.Shape.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Result is what a run did.
type Result struct {
	// Acked is the number of records the broker acknowledged.
	Acked int64
	// Elapsed is the time from the first record to the last acknowledgement.
	Elapsed time.Duration
	// Dropped is the number of records dropped from the schedule because the
	// broker was slower than the shape (more than a second behind).
	Dropped int64
}

// Run produces records at the shape's rate until the count or the duration
// is reached or ctx is cancelled, then flushes and waits for every
// acknowledgement. Records that fail because ctx was cancelled do not count
// and are not an error; any other produce error ends the run with it.
func Run(ctx context.Context, c Config) (Result, error) {
	c.EnsureDefaults()
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.DefaultProduceTopic(c.Topic),
		kgo.MaxBufferedRecords(c.Window),
		kgo.ProducerLinger(time.Millisecond), // the seed's linger.ms
	}, c.Opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return Result{}, fmt.Errorf("datagen: creating the Kafka client: %w", err)
	}
	defer cl.Close()
	if err := ensureTopic(ctx, kadm.NewClient(cl), c.Topic, c.Partitions, c.Progress); err != nil {
		return Result{}, err
	}
	return (&loop{c: c, cl: cl, pacer: newPacer(c.Shape)}).run(ctx)
}

// ensureTopic creates topic with partitions partitions unless it exists.
func ensureTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int, out io.Writer) error {
	tds, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("datagen: looking up topic %q: %w", topic, err)
	}
	if td, ok := tds[topic]; ok && td.Err == nil {
		if len(td.Partitions) != partitions {
			fmt.Fprintf(out, "datagen: topic %s exists with %d partitions; producing to those\n", topic, len(td.Partitions))
		}
		return nil
	}
	resp, err := adm.CreateTopic(ctx, int32(partitions), -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("datagen: creating topic %q with %d partitions: %w", topic, partitions, err)
	}
	if err == nil {
		fmt.Fprintf(out, "datagen: created topic %s with %d partitions\n", topic, partitions)
	}
	return nil
}

// loop is one run's producer loop. It is owned by the goroutine that calls
// run; the produce callbacks (kgo's goroutines) touch only acked and failed.
type loop struct {
	c     Config
	cl    *kgo.Client
	pacer pacer

	sent   int64        // records handed to Produce
	acked  atomic.Int64 // records the broker acknowledged
	failed struct {
		sync.Mutex
		err error // the first produce error other than the run's cancellation
	}
}

func (l *loop) fail(err error) {
	l.failed.Lock()
	defer l.failed.Unlock()
	if l.failed.err == nil {
		l.failed.err = err
	}
}

func (l *loop) err() error {
	l.failed.Lock()
	defer l.failed.Unlock()
	return l.failed.err
}

// checkEvery is how many records the loop sends between looks at the clock
// and the context while it is behind.
const checkEvery = 1024

func (l *loop) run(ctx context.Context) (Result, error) {
	// Records are produced with their own context, cancelled when the run
	// ends early, so that a blocked Produce returns.
	pctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	cb := func(_ *kgo.Record, err error) {
		if err == nil {
			l.acked.Add(1)
		} else if !errors.Is(err, context.Canceled) {
			l.fail(fmt.Errorf("datagen: producing to %s: %w", l.c.Topic, err))
			cancel()
		}
	}
	start := time.Now() // time.Since(start) reads the monotonic clock
	p := progress{out: l.c.Progress, every: l.c.ProgressEvery}
	var key, value []byte
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
run:
	for pctx.Err() == nil {
		now := time.Since(start)
		if l.c.Duration > 0 && now >= l.c.Duration {
			break
		}
		p.maybePrint(now, l.pacer.target(now), l.sent, l.acked.Load())
		due, wait := l.pacer.due(now, l.sent)
		if l.c.Count > 0 && due >= l.c.Count {
			due = l.c.Count
		}
		for n := 0; l.sent < due && n < checkEvery; n++ {
			key, value = l.c.Payload.Record(l.sent, key[:0], value[:0])
			// The record owns its key and value until its callback: copy.
			r := &kgo.Record{Key: append([]byte(nil), key...), Value: append([]byte(nil), value...)}
			l.cl.Produce(pctx, r, cb)
			l.sent++
		}
		if l.c.Count > 0 && l.sent >= l.c.Count {
			break run
		}
		if l.sent < due {
			continue // behind: look at the clock again, but do not wait
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-pctx.Done():
		}
	}
	// Flush what was produced: bounded, so that a dead broker cannot hold
	// the end forever; a cancelled run's records fail fast with pctx.
	fctx, fcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer fcancel()
	if err := l.cl.Flush(fctx); err != nil && l.err() == nil && ctx.Err() == nil {
		l.fail(fmt.Errorf("datagen: flushing to %s: %w", l.c.Topic, err))
	}
	res := Result{Acked: l.acked.Load(), Elapsed: time.Since(start)}
	if rp, ok := l.pacer.(*ratePacer); ok {
		res.Dropped = int64(rp.dropped)
	}
	avg := float64(res.Acked) / res.Elapsed.Seconds()
	fmt.Fprintf(l.c.Progress, "datagen: done: %d records acknowledged to %s in %v (%.0f records/s)",
		res.Acked, l.c.Topic, res.Elapsed.Round(time.Millisecond), avg)
	if res.Dropped > 0 {
		fmt.Fprintf(l.c.Progress, "; %d records dropped from the schedule (the broker was the limit)", res.Dropped)
	}
	fmt.Fprintln(l.c.Progress)
	return res, l.err()
}

// progress prints a line every interval: the target rate, the rate of the
// last interval, and the totals.
type progress struct {
	out       io.Writer
	every     time.Duration
	next      time.Duration
	last      time.Duration
	lastSent  int64
	hasPrintd bool
}

func (p *progress) maybePrint(now time.Duration, target float64, sent, acked int64) {
	if !p.hasPrintd {
		p.hasPrintd, p.next = true, p.every
		return
	}
	if now < p.next {
		return
	}
	actual := float64(sent-p.lastSent) / (now - p.last).Seconds()
	t := "bursts" // a burst goes flat out, then a pause
	if !math.IsNaN(target) {
		t = fmt.Sprintf("%.0f/s", target)
	}
	fmt.Fprintf(p.out, "datagen: t=%v target=%s actual=%.0f/s sent=%d acked=%d\n",
		now.Round(100*time.Millisecond), t, actual, sent, acked)
	p.last, p.lastSent = now, sent
	for p.next <= now {
		p.next += p.every
	}
}
