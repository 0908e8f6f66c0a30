package stream_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// growing is a source whose splits appear over time, as partitions added to
// a Kafka topic do: split k becomes visible k*every after the first
// discovery, and holds the numbers k*per .. k*per+per-1. Its enumerator is
// asked every 20ms; once all n splits are visible it says final, and the
// readers end when theirs are done.
type growing struct {
	n, per int
	every  time.Duration

	mu     sync.Mutex
	start  time.Time
	firsts int // Discover calls with first set
}

func (g *growing) source() stream.Source[int64] {
	return stream.Source[int64]{
		Name: "growing",
		Open: func(ctx stream.SourceContext, restored [][]byte) (stream.SourceReader[int64], error) {
			r := &growingReader{per: g.per}
			return r, r.AddSplits(restored)
		},
		Enumerator:        func(stream.EnumeratorContext) (stream.SplitEnumerator, error) { return growingEnum{g}, nil },
		DiscoveryInterval: 20 * time.Millisecond,
	}
}

func (g *growing) want() []string {
	var out []string
	for v := range g.n * g.per {
		out = append(out, itoa(int64(v)))
	}
	slices.Sort(out)
	return out
}

type growingEnum struct{ g *growing }

func (e growingEnum) Discover(_ context.Context, first bool) ([]stream.Split, bool, error) {
	g := e.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.start.IsZero() {
		g.start = time.Now()
	}
	if first {
		g.firsts++
	}
	visible := min(g.n, 1+int(time.Since(g.start)/g.every))
	var out []stream.Split
	for k := range visible {
		out = append(out, stream.Split{ID: "s" + strconv.Itoa(k), Entry: encodeGrowing(k, 0)})
	}
	return out, visible == g.n, nil
}

func (growingEnum) SplitID(entry []byte) (string, error) {
	k, _, err := decodeGrowing(entry)
	return "s" + strconv.Itoa(k), err
}

func (growingEnum) Close() error { return nil }

func encodeGrowing(k, next int) []byte {
	return binary.AppendUvarint(binary.AppendUvarint(nil, uint64(k)), uint64(next))
}

func decodeGrowing(b []byte) (k, next int, err error) {
	kk, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, 0, fmt.Errorf("bad split entry %x", b)
	}
	nn, m := binary.Uvarint(b[n:])
	if m <= 0 {
		return 0, 0, fmt.Errorf("bad split entry %x", b)
	}
	return int(kk), int(nn), nil
}

// growingReader emits up to 5 numbers of each of its splits a poll, a poll
// every millisecond.
type growingReader struct {
	per    int
	splits [][2]int // split, next
	noMore bool
	pos    int64
}

func (r *growingReader) AddSplits(entries [][]byte) error {
	for _, e := range entries {
		k, next, err := decodeGrowing(e)
		if err != nil {
			return err
		}
		for _, s := range r.splits {
			if s[0] == k {
				return fmt.Errorf("split s%d handed out twice to one reader", k)
			}
		}
		r.splits = append(r.splits, [2]int{k, next})
	}
	return nil
}

func (r *growingReader) NoMoreSplits() { r.noMore = true }

func (r *growingReader) Poll(_ context.Context, out stream.SourceOutput[int64]) (stream.PollStatus, time.Duration, error) {
	live := 0
	for i := range r.splits {
		s := &r.splits[i]
		for j := 0; j < 5 && s[1] < r.per; j++ {
			out.Emit(int64(s[0]*r.per + s[1]))
			s[1]++
			r.pos++
		}
		if s[1] < r.per {
			live++
		}
	}
	if live == 0 && r.noMore {
		return stream.Done, 0, nil
	}
	return stream.Idle, time.Millisecond, nil
}

func (r *growingReader) Snapshot(uint64) ([][]byte, error) {
	out := make([][]byte, len(r.splits))
	for i, s := range r.splits {
		out[i] = encodeGrowing(s[0], s[1])
	}
	return out, nil
}

func (r *growingReader) Position() int64 { return r.pos }
func (r *growingReader) Close() error    { return nil }

// TestEnumeratedSplitsExactlyOnce: splits appear while the job runs and
// are handed out by the JobManager; every number of every split is
// committed exactly once, straight, rescaled, through a crash and a
// JobManager restart, and the
// bounded job finishes once the enumerator says no split follows.
func TestEnumeratedSplitsExactlyOnce(t *testing.T) {
	cases := append(slices.Clone(disturbances), struct {
		name    string
		disturb func(t *testing.T, c *tidetest.Cluster, r *rand.Rand)
	}{"jobmanager-restarted", func(t *testing.T, c *tidetest.Cluster, r *rand.Rand) { c.RestartJobManager() }})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
				g := &growing{n: 9, per: 2000, every: 150 * time.Millisecond}
				sink := tidetest.NewSink[string]()
				c := tidetest.Start(t, tidetest.Config{
					Job: func(env *stream.Env, _ []string) error {
						sink.To(stream.Map(stream.FromSource(env, g.source()), "format", itoa), "collect")
						return nil
					},
					TaskManagers:       2,
					CheckpointInterval: 100 * time.Millisecond,
					Simulated:          true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
				})
				c.WaitParallelism(2, timeout)
				c.WaitCheckpoints(1, timeout)
				pause(r)
				if sink.Len() >= g.n*g.per {
					t.Fatal("the job committed everything before the disturbance")
				}
				tc.disturb(t, c, r)
				c.WaitState(tidetest.Finished, timeout)
				got := sink.Values()
				slices.Sort(got)
				if want := g.want(); !slices.Equal(got, want) {
					t.Fatalf("output differs: got %d records, want %d\n%s", len(got), len(want), diff(got, want))
				}
				g.mu.Lock()
				defer g.mu.Unlock()
				if g.firsts == 0 {
					t.Error("Discover was never told first")
				}
			})
		})
	}
}

// flakyEnum fails its first `fail` discoveries with err, then finds one
// split of n numbers, final.
type flakyEnum struct {
	mu    sync.Mutex
	fail  int
	err   error
	calls int
}

func (e *flakyEnum) Discover(context.Context, bool) ([]stream.Split, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	if e.calls <= e.fail {
		return nil, false, e.err
	}
	return []stream.Split{{ID: "s0", Entry: encodeGrowing(0, 0)}}, true, nil
}
func (e *flakyEnum) SplitID(entry []byte) (string, error) { return growingEnum{}.SplitID(entry) }
func (e *flakyEnum) Close() error                         { return nil }

// TestEnumeratorFailures: a discovery that fails is asked again (the job
// goes on), unless its error is permanent, which fails the job with it.
func TestEnumeratorFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		state rest.JobState
	}{
		{"retryable", fmt.Errorf("broker unreachable"), tidetest.Finished},
		{"permanent", stream.Permanent(fmt.Errorf("topic does not exist")), tidetest.Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
				enum := &flakyEnum{fail: 2, err: tc.err}
				sink := tidetest.NewSink[string]()
				c := tidetest.Start(t, tidetest.Config{
					Job: func(env *stream.Env, _ []string) error {
						src := stream.Source[int64]{
							Name: "flaky",
							Open: func(ctx stream.SourceContext, restored [][]byte) (stream.SourceReader[int64], error) {
								r := &growingReader{per: 100}
								return r, r.AddSplits(restored)
							},
							Enumerator: func(stream.EnumeratorContext) (stream.SplitEnumerator, error) { return enum, nil },
						}
						sink.To(stream.Map(stream.FromSource(env, src), "format", itoa), "collect")
						return nil
					},
					TaskManagers: 1, CheckpointInterval: 100 * time.Millisecond, Simulated: true, Seed: seed,
				})
				c.WaitState(tc.state, timeout)
				if tc.state == tidetest.Failed {
					ex, err := c.Backend().Exceptions(c.JobID())
					if err != nil || !strings.Contains(fmt.Sprint(ex), "topic does not exist") {
						t.Errorf("the failed job does not say why: %+v %v", ex, err)
					}
					return
				}
				if n := sink.Len(); n != 100 {
					t.Errorf("%d records, want 100", n)
				}
			})
		})
	}
}
