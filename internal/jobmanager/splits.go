package jobmanager

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/scheduler"
)

// Split enumeration (Flink's FLIP-27 split enumerator), for the sources
// that have one (plan.Operator.Enumerator).
//
// The JobManager keeps no enumerator state of its own in checkpoints: the
// splits of a checkpoint are those its readers snapshotted, which the
// enumerator names (SplitID). A split the JobManager hands out reaches its
// subtask on the same ordered control stream as the checkpoint triggers,
// and the subtask takes it up before or after a barrier as it came (see
// task's control), so a checkpoint holds a split exactly when the reader
// took it up before that checkpoint's barrier. A restore then knows every
// split of the checkpoint from the readers' entries, and the enumerator,
// asked again when the attempt starts, finds the others: a split is never
// read twice, and none is lost.
//
// Discovery runs on a goroutine of its own (discoverer), since Discover
// calls an external system; its results come back to the loop as
// evDiscovered, tagged with the attempt they were asked for.

// splitSet is what the JobManager knows of one enumerated source in the
// deployed attempt: the splits handed out and how many each subtask holds.
type splitSet struct {
	op     int // index in the job graph's operators
	vertex exec.VertexID
	known  map[string]bool
	count  []int
	// noMore says the subtasks were told that no split follows.
	noMore bool
}

// newSplitSet starts a set from the ids of the splits each subtask
// restored.
func newSplitSet(op int, vertex exec.VertexID, restored [][]string) *splitSet {
	s := &splitSet{op: op, vertex: vertex, known: map[string]bool{}, count: make([]int, len(restored))}
	for i, ids := range restored {
		for _, id := range ids {
			s.known[id] = true
		}
		s.count[i] = len(ids)
	}
	return s
}

// assign hands each split not handed out before to the subtask holding
// the fewest (the lowest index on a tie), and returns each subtask's new
// entries.
func (s *splitSet) assign(splits []operator.Split) [][][]byte {
	out := make([][][]byte, len(s.count))
	for _, sp := range splits {
		if s.known[sp.ID] || len(s.count) == 0 {
			continue
		}
		s.known[sp.ID] = true
		low := 0
		for i, n := range s.count {
			if n < s.count[low] {
				low = i
			}
		}
		s.count[low]++
		out[low] = append(out[low], sp.Entry)
	}
	return out
}

// evDiscovered is the result of one Discover call.
type evDiscovered struct {
	attempt exec.Attempt
	op      int
	splits  []operator.Split
	final   bool
	err     error
}

// discoverTimeout bounds one Discover call.
const discoverTimeout = time.Minute

// discoverRetry is the first wait after a failed discovery; it doubles up
// to maxDiscoverRetry.
const (
	discoverRetry    = time.Second
	maxDiscoverRetry = 30 * time.Second
)

// discovery is the discoverer's work: the attempt to discover splits for,
// and its sources. It is state the loop sets and the discoverer reads, so
// that a new attempt replaces the old one's work instead of queueing
// behind it.
type discovery struct {
	mu      sync.Mutex
	attempt exec.Attempt
	sources []discoverSource
	// gen counts the work the loop set: the discoverer starts over when it
	// changes.
	gen  uint64
	wake chan struct{}
}

// discoverSource is one enumerated source of the attempt.
type discoverSource struct {
	op       int
	enum     operator.SplitEnumerator
	interval time.Duration
	// first: no split of the source has been handed out yet.
	first bool
}

func newDiscovery() *discovery { return &discovery{wake: make(chan struct{}, 1)} }

// set replaces the discoverer's work.
func (d *discovery) set(attempt exec.Attempt, sources []discoverSource) {
	d.mu.Lock()
	d.attempt, d.sources = attempt, sources
	d.gen++
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *discovery) get() (uint64, exec.Attempt, []discoverSource) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.gen, d.attempt, append([]discoverSource(nil), d.sources...)
}

// discoverer calls the enumerators of the deployed attempt: each at once,
// then every interval, until one says it is final, and again after a
// failure. Owner: Run, which cancels ctx and waits for it.
func (jm *JobManager) discoverer(ctx context.Context) {
	d := jm.discovery
	type due struct {
		at    time.Time
		retry time.Duration
		done  bool
	}
	var (
		gen     uint64
		attempt exec.Attempt
		sources []discoverSource
		next    []due
	)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if g, a, s := d.get(); g != gen {
			gen, attempt, sources = g, a, s
			next = make([]due, len(sources))
			now := time.Now()
			for i := range next {
				next[i].at = now
			}
		}
		now := time.Now()
		var wait time.Duration = -1
		for i := range sources {
			n := &next[i]
			if n.done {
				continue
			}
			if !now.Before(n.at) {
				src := &sources[i]
				dctx, cancel := context.WithTimeout(ctx, discoverTimeout)
				splits, final, err := src.enum.Discover(dctx, src.first)
				cancel()
				if ctx.Err() != nil {
					return
				}
				ev := evDiscovered{attempt: attempt, op: src.op, splits: splits, final: final, err: err}
				switch {
				case err != nil:
					n.retry = min(max(2*n.retry, discoverRetry), maxDiscoverRetry)
					n.at = time.Now().Add(n.retry)
				case final || src.interval <= 0:
					n.done = true
					src.first = false
				default:
					n.retry = 0
					n.at = time.Now().Add(src.interval)
					src.first = false
				}
				select {
				case jm.events <- ev:
				case <-ctx.Done():
					return
				}
				now = time.Now()
			}
			if !n.done {
				if w := n.at.Sub(now); wait < 0 || w < wait {
					wait = max(w, 0)
				}
			}
		}
		if wait < 0 {
			wait = time.Hour
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
			if !timer.Stop() {
				<-timer.C
			}
		case <-timer.C:
		}
	}
}

// enumeratorContext is what an enumerator sees of the JobManager.
type enumeratorContext struct {
	jobID string
	ctx   context.Context
	log   *slog.Logger
}

func (c enumeratorContext) JobID() string            { return c.jobID }
func (c enumeratorContext) Context() context.Context { return c.ctx }
func (c enumeratorContext) Logger() *slog.Logger     { return c.log }

// enumerator returns the enumerator of operator op, made the first time.
func (jm *JobManager) enumerator(op int) (operator.SplitEnumerator, error) {
	if e, ok := jm.enums[op]; ok {
		return e, nil
	}
	o := jm.graph.Graph.Operators[op]
	e, err := o.Enumerator(enumeratorContext{jobID: jm.jobID, ctx: jm.runCtx, log: jm.log.With("source", o.Name)})
	if err != nil {
		return nil, fmt.Errorf("source %s: making its split enumerator: %w", o.Name, err)
	}
	jm.enums[op] = e
	return e, nil
}

// closeEnumerators closes the enumerators made; Run calls it once the
// discoverer has stopped.
func (jm *JobManager) closeEnumerators() {
	for op, e := range jm.enums {
		if err := e.Close(); err != nil {
			jm.log.Warn("closing a split enumerator", "source", jm.graph.Graph.Operators[op].Name, "err", err)
		}
	}
}

// startDiscovery prepares split discovery for an attempt being deployed:
// the splits each subtask restores, named by the enumerators, and the
// discoverer's work. restore maps operator ids to their state in the
// checkpoint restored (nil for none).
func (jm *JobManager) startDiscovery(a exec.Attempt, parallelism map[exec.VertexID]int, restore map[string]*checkpoint.OperatorState) error {
	jm.splitSets = map[int]*splitSet{}
	var sources []discoverSource
	for vi, v := range jm.graph.Vertices {
		if !jm.graph.IsSource(vi) {
			continue
		}
		op := v.Operators[0]
		o := jm.graph.Graph.Operators[op]
		if o.Enumerator == nil {
			continue
		}
		e, err := jm.enumerator(op)
		if err != nil {
			return err
		}
		p := parallelism[v.ID]
		ids := make([][]string, p)
		total := 0
		if st := restore[o.ID]; st != nil {
			for i := range p {
				for _, entry := range checkpoint.AssignList(st.List, p, i) {
					id, err := e.SplitID(entry)
					if err != nil {
						return operator.Permanent(fmt.Errorf("source %s: a split of the checkpoint restored: %w", o.Name, err))
					}
					ids[i] = append(ids[i], id)
					total++
				}
			}
		}
		jm.splitSets[op] = newSplitSet(op, v.ID, ids)
		sources = append(sources, discoverSource{op: op, enum: e, interval: o.DiscoveryInterval, first: total == 0})
	}
	jm.discovery.set(a, sources)
	return nil
}

// onDiscovered hands the splits found to the subtasks of the deployed
// attempt.
func (jm *JobManager) onDiscovered(e evDiscovered) {
	if jm.placed == nil || e.attempt != jm.placed.id || e.attempt != jm.life.Current() {
		return // an attempt that has ended: the next asks again
	}
	name := jm.graph.Graph.Operators[e.op].Name
	if e.err != nil {
		if operator.IsPermanent(e.err) {
			reason := fmt.Sprintf("source %s: discovering splits: %v", name, e.err)
			jm.failure(e.attempt, "SplitDiscoveryFailure", reason, "", "", rpc.DomainPermanent)
			jm.stepSched(scheduler.TaskFailed{Attempt: e.attempt, Reason: reason, Retryable: false, Trigger: scheduler.TriggerFailure})
			return
		}
		jm.log.Warn("discovering splits failed; retrying", "source", name, "err", e.err)
		return
	}
	set := jm.splitSets[e.op]
	if set == nil {
		return
	}
	perSubtask := set.assign(e.splits)
	tellNoMore := e.final && !set.noMore
	set.noMore = set.noMore || e.final
	n := 0
	for i, entries := range perSubtask {
		if len(entries) == 0 && !tellNoMore {
			continue
		}
		tm := jm.tms[jm.placed.slots[i].TaskManager]
		if tm == nil || !jm.life.Live(exec.TaskKey{Vertex: set.vertex, Subtask: i}) {
			// Lost or failed: the attempt restarts, and discovers again.
			continue
		}
		n += len(entries)
		jm.send(tm, &rpc.Envelope{AddSplits: &rpc.AddSplits{Attempt: uint64(e.attempt),
			Task: rpc.TaskKey{Vertex: string(set.vertex), Subtask: i}, Entries: entries, NoMore: tellNoMore}})
	}
	if n > 0 {
		jm.log.Info("handed out new splits", "source", name, "splits", n, "known", len(set.known), "final", e.final)
	}
}
