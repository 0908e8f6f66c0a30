package stream_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// price and order are the two inputs of the join tests: every id has one
// price and one order, of the same key.
type price struct{ Key, ID, Price int64 }
type order struct{ Key, ID, Qty int64 }

// joinInputs returns n prices in id order and n orders in an order of
// their own (blocks of 500 ids reversed), so that many halves of pairs wait
// in state for their other half, across checkpoints.
func joinInputs(n int) ([]price, []order) {
	ps, os := make([]price, n), make([]order, n)
	for i := range n {
		id := int64(i)
		ps[i] = price{Key: id % numKeys, ID: id, Price: 1 + id%7}
		block := i / 500 * 500
		oid := int64(block + min(500, n-block) - 1 - i%500)
		os[i] = order{Key: oid % numKeys, ID: oid, Qty: 1 + oid%5}
	}
	return ps, os
}

// joinFn pairs each price with the order of the same id, whichever comes
// first, and keeps per key the number of records of each input, of pairs
// and the sum of price*qty, which an event-time timer emits once, at the
// end of the input: any record processed twice or lost after a restore
// shows in the totals.
type joinFn struct {
	rt     *stream.KeyedRuntime[int64]
	prices *stream.MapState[int64, int64, int64]
	orders *stream.MapState[int64, int64, int64]
	totals *stream.ValueState[int64, [4]int64] // prices, orders, pairs, sum
}

func (j *joinFn) Open(rt *stream.KeyedRuntime[int64]) error {
	j.rt = rt
	var err error
	if j.prices, err = stream.MapOf[int64, int64](rt, "prices", nil, nil); err != nil {
		return err
	}
	if j.orders, err = stream.MapOf[int64, int64](rt, "orders", nil, nil); err != nil {
		return err
	}
	j.totals, err = stream.Value[[4]int64](rt, "totals")
	return err
}

func (j *joinFn) ProcessElement1(key int64, p price, out stream.Collector[string]) error {
	t := j.totals.Value()
	t[0]++
	if q, ok := j.orders.Get(p.ID); ok {
		j.orders.Remove(p.ID)
		t = j.pair(key, p.ID, p.Price, q, t, out)
	} else {
		j.prices.Put(p.ID, p.Price)
	}
	j.totals.Update(t)
	j.rt.RegisterEventTimeTimer(math.MaxInt64)
	return nil
}

func (j *joinFn) ProcessElement2(key int64, o order, out stream.Collector[string]) error {
	t := j.totals.Value()
	t[1]++
	if p, ok := j.prices.Get(o.ID); ok {
		j.prices.Remove(o.ID)
		t = j.pair(key, o.ID, p, o.Qty, t, out)
	} else {
		j.orders.Put(o.ID, o.Qty)
	}
	j.totals.Update(t)
	j.rt.RegisterEventTimeTimer(math.MaxInt64)
	return nil
}

func (j *joinFn) pair(key, id, p, q int64, t [4]int64, out stream.Collector[string]) [4]int64 {
	out.Emit(fmt.Sprintf("pair %d,%d,%d,%d", key, id, p, q))
	t[2]++
	t[3] += p * q
	return t
}

func (j *joinFn) OnTimer(key int64, tm stream.Timer, out stream.Collector[string]) error {
	if tm.Domain != stream.EventTime {
		return fmt.Errorf("a %v timer fired", tm.Domain)
	}
	t := j.totals.Value()
	out.Emit(fmt.Sprintf("total %d,%d,%d,%d,%d", key, t[0], t[1], t[2], t[3]))
	j.prices.All(func(id, _ int64) bool { out.Emit(fmt.Sprintf("unpaired price %d,%d", key, id)); return true })
	j.orders.All(func(id, _ int64) bool { out.Emit(fmt.Sprintf("unpaired order %d,%d", key, id)); return true })
	return nil
}

var _ stream.TimerFunction[int64, string] = (*joinFn)(nil)

// joinJob joins ps and os, read at rate records/s each. With slow, the
// prices go through an operator of their own (a Rebalance, then a Map)
// that takes 3ms of (virtual) time for every 2 records, less than the
// source's rate: a backlog builds on that input, and a checkpoint's
// barrier reaches the join on it long after the orders' barrier.
func joinJob(ps []price, os []order, rate float64, slow bool, sink *tidetest.Sink[string]) stream.JobFunc {
	return func(env *stream.Env, _ []string) error {
		a := stream.FromSource(env, tidetest.SliceSource("prices", ps, tidetest.Splits(numSplits), tidetest.Rate(rate)))
		if slow {
			a = stream.Map(a.Rebalance(), "slow", func(p price) price {
				if p.ID%2 == 0 {
					time.Sleep(3 * time.Millisecond)
				}
				return p
			})
		}
		b := stream.FromSource(env, tidetest.SliceSource("orders", os, tidetest.Splits(numSplits), tidetest.Rate(rate)))
		joined := stream.KeyedCoProcess(
			stream.KeyByConnected(stream.Connect(a, b), func(p price) int64 { return p.Key }, func(o order) int64 { return o.Key }),
			"join", func() stream.KeyedCoProcessFunction[int64, price, order, string] { return &joinFn{} }, stream.UID("join"))
		sink.To(joined, "collect")
		return nil
	}
}

// joinWant is what joinFn must emit for ps and os: every pair once and one
// total per key.
func joinWant(ps []price, os []order) []string {
	var want []string
	qty := map[int64]int64{}
	for _, o := range os {
		qty[o.ID] = o.Qty
	}
	totals := map[int64][4]int64{}
	for _, p := range ps {
		q := qty[p.ID]
		want = append(want, fmt.Sprintf("pair %d,%d,%d,%d", p.Key, p.ID, p.Price, q))
		t := totals[p.Key]
		t[0]++
		t[1]++
		t[2]++
		t[3] += p.Price * q
		totals[p.Key] = t
	}
	for k, t := range totals {
		want = append(want, fmt.Sprintf("total %d,%d,%d,%d,%d", k, t[0], t[1], t[2], t[3]))
	}
	slices.Sort(want)
	return want
}

// TestKeyedCoProcessJoin runs a keyed two-input join with keyed state and
// an event-time timer straight, rescaled and through a crash, and requires
// the same output: every pair once, and per key one total that counts
// every record of both inputs once. The state of both inputs moves with
// its key groups; barriers align across both inputs (a record of one input
// processed before a checkpoint's snapshot and read again after the
// restore would count twice); the operator's event time ends only when
// both inputs have ended, and its timer fires once.
func TestKeyedCoProcessJoin(t *testing.T) {
	for _, tc := range disturbances {
		t.Run(tc.name, func(t *testing.T) {
			simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
				ps, os := joinInputs(6000)
				sink := tidetest.NewSink[string]()
				c := tidetest.Start(t, tidetest.Config{
					Job:                joinJob(ps, os, 2000, false, sink),
					TaskManagers:       2,
					CheckpointInterval: 100 * time.Millisecond,
					Simulated:          true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
				})
				c.WaitParallelism(2, timeout)
				c.WaitCheckpoints(2, timeout)
				pause(r)
				if n := sink.Len(); n >= len(ps) {
					t.Fatalf("the job committed all %d pairs before the disturbance", n)
				}
				tc.disturb(t, c, r)
				c.WaitState(tidetest.Finished, timeout)
				if n := c.Checkpoints().Counts.Completed; n < 5 {
					t.Errorf("%d checkpoints completed, want at least 5", n)
				}
				got, want := sink.Values(), joinWant(ps, os)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("output differs from an undisturbed run: got %d lines, want %d\n%s", len(got), len(want), diff(got, want))
				}
			})
		})
	}
}

// TestTwoInputBarrierAlignment runs the join with one slow input, whose
// barriers reach the join long after the other's, and crashes a
// TaskManager: while a checkpoint aligns, the fast input's records must
// wait, or the snapshot counts records that the restore reads again.
// Checkpoints complete all the same, and the output is exact.
func TestTwoInputBarrierAlignment(t *testing.T) {
	simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
		ps, os := joinInputs(6000)
		sink := tidetest.NewSink[string]()
		c := tidetest.Start(t, tidetest.Config{
			Job:                joinJob(ps, os, 2000, true, sink),
			TaskManagers:       2,
			CheckpointInterval: 100 * time.Millisecond,
			Simulated:          true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
		})
		c.WaitParallelism(2, timeout)
		c.WaitCheckpoints(3, timeout)
		pause(r)
		if n := sink.Len(); n >= len(ps) {
			t.Fatalf("the job committed all %d pairs before the crash", n)
		}
		c.TaskManagers()[r.IntN(2)].Crash()
		c.WaitState(tidetest.Finished, timeout)
		got, want := sink.Values(), joinWant(ps, os)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("output differs from an undisturbed run: got %d lines, want %d\n%s", len(got), len(want), diff(got, want))
		}
	})
}

var fivesTag = stream.NewOutputTag[string]("fives")

// tagFn formats the records of both its inputs, and sends the multiples
// of 5 of the first to side output "fives" as well.
type tagFn struct {
	rt    *stream.Runtime
	fives stream.Collector[string]
}

func (f *tagFn) Open(rt *stream.Runtime) error {
	f.rt, f.fives = rt, stream.SideOutput(rt, fivesTag)
	return nil
}

func (f *tagFn) ProcessElement1(v int64, out stream.Collector[string]) error {
	if _, ok := f.rt.Timestamp(); ok {
		return fmt.Errorf("record %d has a timestamp", v)
	}
	out.Emit(fmt.Sprintf("a %d", v))
	if v%5 == 0 {
		f.fives.Emit(fmt.Sprintf("five %d", v))
	}
	return nil
}

func (f *tagFn) ProcessElement2(v string, out stream.Collector[string]) error {
	out.Emit("b " + v)
	return nil
}

// TestCoProcess connects two streams of different types, one of them read
// at parallelism 1, with a function that is not keyed, and reads its main
// and side outputs: every record once, straight and through a crash.
func TestCoProcess(t *testing.T) {
	for _, tc := range []string{"straight", "crashed"} {
		t.Run(tc, func(t *testing.T) {
			simulate(t, func(t *testing.T, r *rand.Rand, seed uint64) {
				as := numbers(5000)
				bs := make([]string, 3000)
				for i := range bs {
					bs[i] = fmt.Sprintf("s%d", i)
				}
				sink := tidetest.NewSink[string]()
				c := tidetest.Start(t, tidetest.Config{
					Job: func(env *stream.Env, _ []string) error {
						a := stream.FromSource(env, tidetest.SliceSource("a", as, tidetest.Splits(numSplits), tidetest.Rate(2000)))
						b := stream.FromSource(env, tidetest.SliceSource("b", bs, tidetest.Splits(numSplits), tidetest.Rate(1500)), stream.Parallelism(1))
						tagged := stream.CoProcess(stream.Connect(a, b), "tag", func() stream.CoProcessFunction[int64, string, string] { return &tagFn{} })
						sink.To(tagged, "collect")
						sink.To(stream.GetSideOutput(tagged, fivesTag), "collect-fives")
						return nil
					},
					TaskManagers:       2,
					CheckpointInterval: 100 * time.Millisecond,
					Simulated:          true, Latency: time.Duration(r.IntN(3)) * time.Millisecond, Seed: seed,
				})
				c.WaitParallelism(2, timeout)
				c.WaitCheckpoints(1, timeout)
				pause(r)
				if tc == "crashed" {
					c.TaskManagers()[r.IntN(2)].Crash()
				}
				c.WaitState(tidetest.Finished, timeout)
				var want []string
				for _, v := range as {
					want = append(want, fmt.Sprintf("a %d", v))
					if v%5 == 0 {
						want = append(want, fmt.Sprintf("five %d", v))
					}
				}
				for _, v := range bs {
					want = append(want, "b "+v)
				}
				slices.Sort(want)
				got := sink.Values()
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("output differs: got %d lines, want %d\n%s", len(got), len(want), diff(got, want))
				}
			})
		})
	}
}

// TestKeyedCoProcessOverTCP runs the join on a cluster whose records cross
// between TaskManagers over real TCP connections, not the simulated
// network: both inputs' channels, their barriers and their ends share the
// connections of the data plane.
func TestKeyedCoProcessOverTCP(t *testing.T) {
	t.Parallel()
	ps, os := joinInputs(3000)
	sink := tidetest.NewSink[string]()
	c := tidetest.Start(t, tidetest.Config{
		Job:                joinJob(ps, os, sourceRate, false, sink),
		TaskManagers:       2,
		CheckpointInterval: 50 * time.Millisecond,
	})
	c.WaitState(tidetest.Finished, timeout)
	if p := c.Parallelism(); p != 2 {
		t.Errorf("ran at parallelism %d, want 2", p)
	}
	if n := c.Checkpoints().Counts.Completed; n < 2 {
		t.Errorf("%d checkpoints completed, want at least 2", n)
	}
	got, want := sink.Values(), joinWant(ps, os)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("output differs: got %d lines, want %d\n%s", len(got), len(want), diff(got, want))
	}
}
