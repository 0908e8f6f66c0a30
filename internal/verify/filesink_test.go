package verify

import (
	"fmt"
	"maps"
	"testing"

	"github.com/tide-stream/tide/internal/filesink"
)

// job simulates the Verify job writing through the exactly-once file sink at
// some parallelism: key k is handled by sink subtask k mod p.
type job struct {
	t       *testing.T
	dir     string
	keys    int
	attempt uint64
	sinks   []*filesink.Writer
	// next is the source position; count and sum the keyed state.
	next       int
	count, sum map[int]int
}

// snapshot is a completed checkpoint: source position, keyed state and the
// sink's operator list state.
type snapshot struct {
	id         uint64
	next       int
	count, sum map[int]int
	sinkState  [][]byte
}

// start deploys attempt at parallelism p from snap (nil: from scratch).
func start(t *testing.T, dir string, keys, p int, attempt uint64, snap *snapshot) *job {
	t.Helper()
	j := &job{t: t, dir: dir, keys: keys, attempt: attempt, count: map[int]int{}, sum: map[int]int{}}
	if snap != nil {
		j.next, j.count, j.sum = snap.next, maps.Clone(snap.count), maps.Clone(snap.sum)
	}
	for i := range p {
		if snap != nil {
			// List state is split evenly over the new subtasks.
			var share [][]byte
			for e := i; e < len(snap.sinkState); e += p {
				share = append(share, snap.sinkState[e])
			}
			if err := filesink.RecoverAndCommit(dir, share); err != nil {
				t.Fatalf("attempt %d subtask %d: RecoverAndCommit: %v", attempt, i, err)
			}
		}
		w, err := filesink.NewWriter(filesink.Config{Dir: dir, Subtask: i, Attempt: attempt})
		if err != nil {
			t.Fatal(err)
		}
		j.sinks = append(j.sinks, w)
	}
	return j
}

// run processes records until position until.
func (j *job) run(until int) {
	for ; j.next < until; j.next++ {
		k := j.next % j.keys
		j.count[k]++
		j.sum[k] += j.next
		line := fmt.Appendf(nil, "%d,%d,%d", k, j.count[k], j.sum[k])
		if err := j.sinks[k%len(j.sinks)].Write(line); err != nil {
			j.t.Fatal(err)
		}
	}
}

// checkpoint takes checkpoint id: every sink pre-commits; the snapshot is
// complete only once the caller decides it is (by calling complete).
func (j *job) checkpoint(id uint64) *snapshot {
	s := &snapshot{id: id, next: j.next, count: maps.Clone(j.count), sum: maps.Clone(j.sum)}
	for i, w := range j.sinks {
		st, err := w.PreCommit(id)
		if err != nil {
			j.t.Fatalf("subtask %d: PreCommit(%d): %v", i, id, err)
		}
		s.sinkState = append(s.sinkState, st)
	}
	return s
}

// complete notifies every sink that checkpoint id completed.
func (j *job) complete(id uint64) {
	for i, w := range j.sinks {
		if err := w.Commit(id); err != nil {
			j.t.Fatalf("subtask %d: Commit(%d): %v", i, id, err)
		}
	}
}

// TestExactlyOnceThroughFileSink runs the Verify job through failures and
// rescales and checks its committed output with Check, after each step.
func TestExactlyOnceThroughFileSink(t *testing.T) {
	const keys, count = 7, 1000
	dir := t.TempDir()

	j := start(t, dir, keys, 2, 1, nil)
	j.run(200)
	j.checkpoint(1)
	j.complete(1)
	j.run(350)
	c2 := j.checkpoint(2) // completes, but the notification is lost in the crash
	j.run(500)
	j.checkpoint(3) // never completes
	j.run(520)
	// Crash: attempt 1 dies without Commit(2) or Abort.

	if r := check(t, dir, keys, 0); !r.OK() || r.Lines != 200 {
		t.Fatalf("after the crash, before recovery:\n%s", r)
	}

	// Attempt 2 restores checkpoint 2 at parallelism 3.
	j = start(t, dir, keys, 3, 2, c2)
	if r := check(t, dir, keys, 0); !r.OK() || r.Lines != 350 {
		t.Fatalf("after restoring checkpoint 2:\n%s", r)
	}
	j.run(700)
	c4 := j.checkpoint(4)
	j.complete(4)
	j.run(800)
	j.checkpoint(5) // never completes
	// A planned failure: the attempt is cancelled and aborts its sinks.
	for _, w := range j.sinks {
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
	}

	// Attempt 3 restores checkpoint 4 at parallelism 1 and finishes.
	j = start(t, dir, keys, 1, 3, c4)
	j.run(count)
	j.checkpoint(6)
	j.complete(6)

	r := check(t, dir, keys, count)
	if !r.OK() {
		t.Fatalf("final output:\n%s", r)
	}
	t.Logf("final report:\n%s", r)
}

// TestCheckCatchesWrongRecovery is the negative control: restoring keyed
// state and source position from checkpoint 1 while committing the sink
// parts of checkpoint 2 makes the records between them visible twice.
func TestCheckCatchesWrongRecovery(t *testing.T) {
	const keys, count = 3, 300
	dir := t.TempDir()
	j := start(t, dir, keys, 2, 1, nil)
	j.run(100)
	c1 := j.checkpoint(1)
	j.complete(1)
	j.run(200)
	c2 := j.checkpoint(2)

	wrong := *c1
	wrong.sinkState = c2.sinkState
	j = start(t, dir, keys, 2, 2, &wrong)
	j.run(count)
	j.checkpoint(3)
	j.complete(3)

	r := check(t, dir, keys, count)
	if r.OK() || r.Duplicates != 100 {
		t.Fatalf("want 100 duplicates, got:\n%s", r)
	}
}
