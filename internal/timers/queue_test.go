package timers

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// check verifies the heap order and that every node knows its index.
func (q *queue[K]) check(t *testing.T) {
	t.Helper()
	for i, n := range q.heap {
		if n.index != i {
			t.Fatalf("node at %d has index %d", i, n.index)
		}
		if p := (i - 1) / 2; i > 0 && q.less(i, p) {
			t.Fatalf("node at %d (%d) before its parent at %d (%d)", i, n.At, p, q.heap[p].At)
		}
	}
}

func (q *queue[K]) pop() *node[K] {
	n := q.peek()
	if n != nil {
		q.remove(n)
	}
	return n
}

func newNode(at int64, key int) *node[int] {
	return &node[int]{Timer: Timer[int]{At: at, Key: key}, index: -1}
}

// drain pops every node and returns their keys.
func drain(t *testing.T, q *queue[int]) []int {
	t.Helper()
	var keys []int
	for q.Len() > 0 {
		keys = append(keys, q.pop().Key)
		q.check(t)
	}
	return keys
}

func TestQueuePopsByTimeThenPushOrder(t *testing.T) {
	var q queue[int]
	// key: the expected rank; ties at 20 and 30 keep the push order.
	for _, n := range []*node[int]{newNode(30, 4), newNode(10, 0), newNode(20, 1), newNode(30, 5), newNode(20, 2), newNode(20, 3), newNode(40, 6)} {
		q.push(n)
		q.check(t)
	}
	if got, want := drain(t, &q), []int{0, 1, 2, 3, 4, 5, 6}; !slices.Equal(got, want) {
		t.Fatalf("pop order %v, want %v", got, want)
	}
	if q.peek() != nil || q.pop() != nil {
		t.Fatal("empty queue returned a node")
	}
}

func TestQueueRemoveAnywhere(t *testing.T) {
	for _, victim := range []int{0, 1, 3, 6, 9} {
		var q queue[int]
		nodes := make([]*node[int], 10)
		for i := range nodes {
			nodes[i] = newNode(int64(10-i), 9-i) // pushed in reverse: key = rank
			q.push(nodes[i])
		}
		q.remove(nodes[9-victim])
		q.check(t)
		if nodes[9-victim].index != -1 {
			t.Fatalf("removed node has index %d", nodes[9-victim].index)
		}
		want := slices.DeleteFunc([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, func(k int) bool { return k == victim })
		if got := drain(t, &q); !slices.Equal(got, want) {
			t.Fatalf("remove %d: pop order %v, want %v", victim, got, want)
		}
	}
}

// TestQueueReschedule moves a timer by taking its node out and queueing it
// again at another time: the queue holds one entry for it, ordered by the
// new time, after the timers already due then.
func TestQueueReschedule(t *testing.T) {
	var q queue[int]
	a, b, c := newNode(10, 0), newNode(20, 1), newNode(30, 2)
	q.push(a)
	q.push(b)
	q.push(c)
	for range 1000 {
		q.remove(a)
		a.At += 10 // 20, 30, ...
		q.push(a)
		q.check(t)
		if q.Len() != 3 {
			t.Fatalf("Len = %d after a reschedule, want 3", q.Len())
		}
	}
	if got, want := drain(t, &q), []int{1, 2, 0}; !slices.Equal(got, want) {
		t.Fatalf("pop order %v, want %v", got, want)
	}
}

// TestQueueShrinks: after a burst, the heap's slice follows the live
// timers down.
func TestQueueShrinks(t *testing.T) {
	var q queue[int]
	nodes := make([]*node[int], 10_000)
	for i := range nodes {
		nodes[i] = newNode(int64(i), i)
		q.push(nodes[i])
	}
	for _, n := range nodes[10:] {
		q.remove(n)
	}
	if c := cap(q.heap); c > 4*minShrink {
		t.Fatalf("cap %d for %d timers after the burst", c, q.Len())
	}
	if got, want := drain(t, &q), []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(got, want) {
		t.Fatalf("pop order %v, want %v", got, want)
	}
}

// TestQueueAgainstSort runs random pushes and removes and checks the pops
// against a sorted slice.
func TestQueueAgainstSort(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	var q queue[int]
	var live []*node[int] // the reference: queued nodes, any order
	key := 0
	for step := range 20_000 {
		switch op := r.IntN(10); {
		case op < 5:
			n := newNode(r.Int64N(50), key)
			key++
			q.push(n)
			live = append(live, n)
		case op < 8 && len(live) > 0:
			i := r.IntN(len(live))
			q.remove(live[i])
			live = slices.Delete(live, i, i+1)
		case len(live) > 0:
			want := slices.MinFunc(live, func(a, b *node[int]) int {
				if a.At != b.At {
					return int(a.At - b.At)
				}
				return int(a.seq) - int(b.seq)
			})
			if got := q.pop(); got != want {
				t.Fatalf("step %d: pop (%d, key %d), want (%d, key %d)", step, got.At, got.Key, want.At, want.Key)
			}
			live = slices.DeleteFunc(live, func(n *node[int]) bool { return n == want })
		}
		if q.Len() != len(live) {
			t.Fatalf("step %d: Len %d, want %d", step, q.Len(), len(live))
		}
	}
	q.check(t)
}
