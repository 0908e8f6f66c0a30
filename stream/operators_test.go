package stream_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// timeout bounds every wait on a test cluster; generous for -race.
const timeout = 30 * time.Second

// numKeys is the number of keys of the keyed tests: record v has key
// v mod numKeys. It is a multiple of the source's splits, so all records of
// a key come from one split, in increasing v, and keyed results are
// deterministic.
const (
	numKeys   = 8
	numSplits = 4
)

// sourceRate paces the bounded sources (records per second) so that they
// run for a few hundred milliseconds: long enough that every task of the
// job reports RUNNING before the sources end. Sources that end sooner hit
// the bug shown by tidetest's TestTinyBoundedJobFinishes.
//
// TODO: remove the pacing once that bug is fixed.
const sourceRate = 5000

func numbers(n int) []int64 {
	vs := make([]int64, n)
	for i := range vs {
		vs[i] = int64(i)
	}
	return vs
}

func key(v int64) int64 { return v % numKeys }

// perKey replays vs in order, grouped by key, and collects what f returns
// for each record: the expected output of a keyed function whose state is
// the closure's.
func perKey(vs []int64, f func(k, v int64) []string) []string {
	var out []string
	for _, v := range vs {
		out = append(out, f(key(v), v)...)
	}
	return out
}

// keyedFn adapts a function and its Open to stream.ProcessFunction.
type keyedFn struct {
	open    func(rt *stream.KeyedRuntime[int64]) error
	process func(k, v int64, out stream.Collector[string]) error
}

func (f *keyedFn) Open(rt *stream.KeyedRuntime[int64]) error { return f.open(rt) }
func (f *keyedFn) Process(k, v int64, out stream.Collector[string]) error {
	return f.process(k, v, out)
}

func process(s stream.DataStream[int64], name string, fn func() *keyedFn, opts ...stream.Option) stream.DataStream[string] {
	return stream.Process(stream.KeyBy(s, key), name, func() stream.ProcessFunction[int64, int64, string] { return fn() }, opts...)
}

func itoa(v int64) string { return fmt.Sprint(v) }

// operatorCase is one operator under test: build turns the source into the
// strings the sink collects, want computes them in Go.
type operatorCase struct {
	name  string
	build func(src stream.DataStream[int64]) stream.DataStream[string]
	want  func(vs []int64) []string
}

var operatorCases = []operatorCase{
	{
		name: "Map",
		build: func(src stream.DataStream[int64]) stream.DataStream[string] {
			return stream.Map(src, "triple", func(v int64) string { return itoa(3 * v) })
		},
		want: func(vs []int64) (out []string) {
			for _, v := range vs {
				out = append(out, itoa(3*v))
			}
			return out
		},
	},
	{
		name: "FlatMap",
		build: func(src stream.DataStream[int64]) stream.DataStream[string] {
			return stream.FlatMap(src, "repeat", func(v int64, out stream.Collector[string]) {
				for i := range v % 3 {
					out.Emit(fmt.Sprintf("%d#%d", v, i))
				}
			})
		},
		want: func(vs []int64) (out []string) {
			for _, v := range vs {
				for i := range v % 3 {
					out = append(out, fmt.Sprintf("%d#%d", v, i))
				}
			}
			return out
		},
	},
	{
		name: "Filter",
		build: func(src stream.DataStream[int64]) stream.DataStream[string] {
			f := stream.Filter(src, "sevens", func(v int64) bool { return v%7 == 0 })
			return stream.Map(f, "format", itoa)
		},
		want: func(vs []int64) (out []string) {
			for _, v := range vs {
				if v%7 == 0 {
					out = append(out, itoa(v))
				}
			}
			return out
		},
	},
	{
		name: "Rebalance",
		build: func(src stream.DataStream[int64]) stream.DataStream[string] {
			return stream.Map(src.Rebalance(), "format", func(v int64) string { return itoa(v + 1) })
		},
		want: func(vs []int64) (out []string) {
			for _, v := range vs {
				out = append(out, itoa(v+1))
			}
			return out
		},
	},
	{
		name: "ValueState",
		build: func(src stream.DataStream[int64]) stream.DataStream[string] {
			return process(src, "count", func() *keyedFn {
				var count *stream.ValueState[int64, int64]
				return &keyedFn{
					open: func(rt *stream.KeyedRuntime[int64]) (err error) {
						count, err = stream.Value[int64](rt, "count")
						return err
					},
					process: func(k, v int64, out stream.Collector[string]) error {
						n, ok := count.Get()
						if ok != (n > 0) {
							return fmt.Errorf("key %d: Get = (%d, %v)", k, n, ok)
						}
						count.Update(n + 1)
						out.Emit(fmt.Sprintf("%d,%d", k, n+1))
						return nil
					},
				}
			})
		},
		want: func(vs []int64) []string {
			counts := map[int64]int64{}
			return perKey(vs, func(k, v int64) []string {
				counts[k]++
				return []string{fmt.Sprintf("%d,%d", k, counts[k])}
			})
		},
	},
	{
		name: "ListState",
		build: func(src stream.DataStream[int64]) stream.DataStream[string] {
			return process(src, "last3", func() *keyedFn {
				var last *stream.ListState[int64, int64]
				return &keyedFn{
					open: func(rt *stream.KeyedRuntime[int64]) (err error) {
						last, err = stream.List[int64](rt, "last")
						return err
					},
					process: func(k, v int64, out stream.Collector[string]) error {
						last.Add(v)
						if l := last.Get(); len(l) > 3 {
							last.Update(slices.Clone(l[len(l)-3:]))
						}
						out.Emit(fmt.Sprintf("%d:%v", k, last.Get()))
						return nil
					},
				}
			})
		},
		want: func(vs []int64) []string {
			lists := map[int64][]int64{}
			return perKey(vs, func(k, v int64) []string {
				l := append(lists[k], v)
				if len(l) > 3 {
					l = l[len(l)-3:]
				}
				lists[k] = l
				return []string{fmt.Sprintf("%d:%v", k, l)}
			})
		},
	},
	{
		name: "MapState",
		build: func(src stream.DataStream[int64]) stream.DataStream[string] {
			return process(src, "buckets", func() *keyedFn {
				var buckets *stream.MapState[int64, int64, int64]
				return &keyedFn{
					open: func(rt *stream.KeyedRuntime[int64]) (err error) {
						buckets, err = stream.MapOf[int64, int64](rt, "buckets", nil, nil)
						return err
					},
					process: func(k, v int64, out stream.Collector[string]) error {
						b := (v / numKeys) % 5
						n, _ := buckets.Get(b)
						buckets.Put(b, n+1)
						if b == 4 {
							buckets.Remove(0)
						}
						size := 0
						buckets.All(func(int64, int64) bool { size++; return true })
						out.Emit(fmt.Sprintf("%d,%d,%d,%d", k, b, n+1, size))
						return nil
					},
				}
			})
		},
		want: func(vs []int64) []string {
			maps := map[int64]map[int64]int64{}
			return perKey(vs, func(k, v int64) []string {
				m := maps[k]
				if m == nil {
					m = map[int64]int64{}
					maps[k] = m
				}
				b := (v / numKeys) % 5
				m[b]++
				if b == 4 {
					delete(m, 0)
				}
				return []string{fmt.Sprintf("%d,%d,%d,%d", k, b, m[b], len(m))}
			})
		},
	},
	{
		name: "ReducingState",
		build: func(src stream.DataStream[int64]) stream.DataStream[string] {
			return process(src, "maxOfSquares", func() *keyedFn {
				var best *stream.ReducingState[int64, int64]
				return &keyedFn{
					open: func(rt *stream.KeyedRuntime[int64]) (err error) {
						best, err = stream.Reducing(rt, "max", func(acc, v int64) int64 { return max(acc, v) })
						return err
					},
					process: func(k, v int64, out stream.Collector[string]) error {
						// (v*37) mod 101 is not monotonic in v, so the max changes rarely.
						m := best.Add(v * 37 % 101)
						out.Emit(fmt.Sprintf("%d,%d", k, m))
						return nil
					},
				}
			})
		},
		want: func(vs []int64) []string {
			best := map[int64]int64{}
			seen := map[int64]bool{}
			return perKey(vs, func(k, v int64) []string {
				x := v * 37 % 101
				if !seen[k] || x > best[k] {
					best[k] = x
				}
				seen[k] = true
				return []string{fmt.Sprintf("%d,%d", k, best[k])}
			})
		},
	},
	{
		name: "Reduce",
		build: func(src stream.DataStream[int64]) stream.DataStream[string] {
			sums := stream.Reduce(stream.KeyBy(src, key), "sum", func(acc, v int64) int64 { return acc + v })
			return stream.Map(sums, "format", itoa)
		},
		want: func(vs []int64) []string {
			sums := map[int64]int64{}
			return perKey(vs, func(k, v int64) []string {
				sums[k] += v
				return []string{itoa(sums[k])}
			})
		},
	},
	{
		name: "Aggregate",
		build: func(src stream.DataStream[int64]) stream.DataStream[string] {
			return stream.Aggregate(stream.KeyBy(src, key), "mean", meanOf{}, codec.PairCodec[int64, int64]{A: codec.Int64{}, B: codec.Int64{}})
		},
		want: func(vs []int64) []string {
			n, sums := map[int64]int64{}, map[int64]int64{}
			return perKey(vs, func(k, v int64) []string {
				n[k]++
				sums[k] += v
				return []string{fmt.Sprintf("%d/%d", sums[k], n[k])}
			})
		},
	},
}

// meanOf accumulates a count and a sum and renders "sum/count".
type meanOf struct{}

func (meanOf) Create() codec.Pair[int64, int64] { return codec.Pair[int64, int64]{} }
func (meanOf) Add(acc codec.Pair[int64, int64], v int64) codec.Pair[int64, int64] {
	return codec.Pair[int64, int64]{First: acc.First + 1, Second: acc.Second + v}
}
func (meanOf) Result(acc codec.Pair[int64, int64]) string {
	return fmt.Sprintf("%d/%d", acc.Second, acc.First)
}

// TestOperators runs one small job per operator on a two-TaskManager
// cluster (parallelism 2, so every exchange crosses the network) and
// compares the committed output with the result computed in Go.
func TestOperators(t *testing.T) {
	vs := numbers(2000)
	for _, tc := range operatorCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sink := tidetest.NewSink[string]()
			c := tidetest.Start(t, tidetest.Config{
				Name: tc.name,
				Job: func(env *stream.Env, _ []string) error {
					src := stream.FromSource(env, tidetest.SliceSource("numbers", vs, tidetest.Splits(numSplits), tidetest.Rate(sourceRate)))
					sink.To(tc.build(src), "collect")
					return nil
				},
				TaskManagers: 2,
			})
			c.WaitState(tidetest.Finished, timeout)
			if p := c.Parallelism(); p != 2 {
				t.Errorf("ran at parallelism %d, want 2", p)
			}
			got, want := sink.Values(), tc.want(vs)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("output differs: got %d records, want %d\n%s", len(got), len(want), diff(got, want))
			}
		})
	}
}

// diff describes the first differences between two sorted multisets.
func diff(got, want []string) string {
	var b strings.Builder
	i, j, n := 0, 0, 0
	for (i < len(got) || j < len(want)) && n < 10 {
		switch {
		case j >= len(want) || (i < len(got) && got[i] < want[j]):
			fmt.Fprintf(&b, "  unexpected %q\n", got[i])
			i++
			n++
		case i >= len(got) || want[j] < got[i]:
			fmt.Fprintf(&b, "  missing    %q\n", want[j])
			j++
			n++
		default:
			i++
			j++
		}
	}
	return b.String()
}
