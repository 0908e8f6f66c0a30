package stream_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// TestProcessingTimeWindowsStraightRescaledCrashed: tumbling and session processing-time
// windows count every record exactly once: straight, rescaled, crashed.
func TestProcessingTimeWindowsStraightRescaledCrashed(t *testing.T) {
	for _, tc := range disturbances {
		t.Run(tc.name, func(t *testing.T) {
			simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
				evs := disordered(6000, 8, 1, 0, seed)
				tumbling, sessions := tidetest.NewSink[string](), tidetest.NewSink[string]()
				c := tidetest.Start(t, tidetest.Config{
					Job: func(env *stream.Env, _ []string) error {
						src := stream.FromSource(env, lingering(tidetest.SliceSource("events", evs, tidetest.Splits(numSplits), tidetest.Rate(2000)), time.Second))
						byKey := stream.KeyBy(src, func(e tsEvent) int64 { return e.Key })
						tumbling.To(stream.WindowProcess(byKey.Window(stream.TumblingProcessingTimeWindows(100*time.Millisecond)), "tumbling",
							func() stream.ProcessWindowFunction[int64, tsEvent, string] { return describeWindow{} }), "collect-tumbling")
						sessions.To(stream.WindowProcess(byKey.Window(stream.ProcessingTimeSessionWindows(30*time.Millisecond)), "sessions",
							func() stream.ProcessWindowFunction[int64, tsEvent, string] { return describeWindow{} }), "collect-sessions")
						return nil
					},
					TaskManagers:       2,
					CheckpointInterval: 100 * time.Millisecond,
					Simulated:          true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
				})
				c.WaitParallelism(2, timeout)
				c.WaitFor("some windows", timeout, func() bool { return tumbling.Len() > 20 })
				pause(r)
				tc.disturb(t, c, r)
				c.WaitState(tidetest.Finished, timeout)
				for name, s := range map[string]*tidetest.Sink[string]{"tumbling": tumbling, "sessions": sessions} {
					sum := 0
					for _, line := range s.Values() {
						n, _ := strconv.Atoi(line[strings.LastIndexByte(line, ',')+1:])
						sum += n
					}
					if sum != len(evs) {
						t.Errorf("%s: windows counted %d records, want %d (%d windows)", name, sum, len(evs), s.Len())
					}
				}
			})
		})
	}
}

var _ = fmt.Sprint

// lingering makes a source stay Idle for d after its input ends, before
// it says Done: processing time goes on without records.
func lingering[T any](src stream.Source[T], d time.Duration) stream.Source[T] {
	open := src.Open
	src.Open = func(ctx stream.SourceContext, restored [][]byte) (stream.SourceReader[T], error) {
		r, err := open(ctx, restored)
		if err != nil {
			return nil, err
		}
		return &lingerReader[T]{SourceReader: r, d: d, now: ctx.Now}, nil
	}
	return src
}

type lingerReader[T any] struct {
	stream.SourceReader[T]
	d     time.Duration
	now   func() time.Time
	ended time.Time
}

func (l *lingerReader[T]) Poll(ctx context.Context, out stream.SourceOutput[T]) (stream.PollStatus, time.Duration, error) {
	if l.ended.IsZero() {
		st, w, err := l.SourceReader.Poll(ctx, out)
		if err != nil || st != stream.Done {
			return st, w, err
		}
		l.ended = l.now()
	}
	if left := l.d - l.now().Sub(l.ended); left > 0 {
		return stream.Idle, left, nil
	}
	return stream.Done, 0, nil
}
