package timers

// node is one timer in a queue. The queue keeps index current as the timer
// moves in the heap, so that it can be taken out from wherever it sits.
type node[K comparable] struct {
	Timer[K]
	// seq orders the timers due at the same instant: first queued, first
	// out. It is set by push.
	seq uint64
	// index is the position in queue.heap, -1 out of the queue.
	index int
}

// queue is an indexed binary min-heap of timers ordered by due time, then by
// the order they were queued. Its nodes know their position, so remove takes
// a timer out at once, in O(log n): the heap holds exactly the queued
// timers, never a deleted one waiting to surface.
type queue[K comparable] struct {
	heap []*node[K]
	seq  uint64
}

// minShrink is the capacity under which the heap's slice is never shrunk.
const minShrink = 64

func (q *queue[K]) Len() int { return len(q.heap) }

func (q *queue[K]) less(i, j int) bool {
	a, b := q.heap[i], q.heap[j]
	return a.At < b.At || a.At == b.At && a.seq < b.seq
}

func (q *queue[K]) swap(i, j int) {
	h := q.heap
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (q *queue[K]) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !q.less(j, i) {
			return
		}
		q.swap(i, j)
		j = i
	}
}

// down sifts the node at i down and reports whether it moved.
func (q *queue[K]) down(i int) bool {
	i0, n := i, len(q.heap)
	for {
		l := 2*i + 1
		if l >= n || l < 0 { // l < 0: int overflow
			break
		}
		j := l
		if r := l + 1; r < n && q.less(r, l) {
			j = r
		}
		if !q.less(j, i) {
			break
		}
		q.swap(i, j)
		i = j
	}
	return i > i0
}

// push queues n, after every timer queued so far that is due at the same
// instant.
func (q *queue[K]) push(n *node[K]) {
	n.seq = q.seq
	q.seq++
	n.index = len(q.heap)
	q.heap = append(q.heap, n)
	q.up(n.index)
}

// peek returns the earliest timer without taking it out, nil if none.
func (q *queue[K]) peek() *node[K] {
	if len(q.heap) == 0 {
		return nil
	}
	return q.heap[0]
}

// remove takes n, which must be queued, out of the queue.
func (q *queue[K]) remove(n *node[K]) {
	i, last := n.index, len(q.heap)-1
	if i != last {
		q.swap(i, last)
	}
	q.heap[last] = nil
	q.heap = q.heap[:last]
	if i != last && !q.down(i) {
		q.up(i)
	}
	n.index = -1
	q.shrink()
}

// shrink lets go of most of the heap's slice once it is three quarters
// empty, so that the memory follows the live timers after a burst.
func (q *queue[K]) shrink() {
	if c := cap(q.heap); c > minShrink && len(q.heap) <= c/4 {
		q.heap = append(make([]*node[K], 0, 2*len(q.heap)), q.heap...)
	}
}

// init makes a heap of nodes, whose seq are set, in O(n).
func (q *queue[K]) init(nodes []*node[K]) {
	q.heap = nodes
	for i, n := range nodes {
		n.index = i
		q.seq = max(q.seq, n.seq+1)
	}
	for i := len(nodes)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
}
