package task

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tide-stream/tide/internal/checkpoint"
	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/metrichook"
	"github.com/tide-stream/tide/internal/network"
	"github.com/tide-stream/tide/internal/operator"
	"github.com/tide-stream/tide/internal/plan"
	"github.com/tide-stream/tide/internal/rpc"
	"github.com/tide-stream/tide/internal/state"
)

// setup wires the chain from its tail to its head, connects the outputs and
// the input gate, restores state and opens the operators.
func (t *Task) setup(ctx context.Context) error {
	t.runCtx = ctx
	g, v := t.cfg.Graph, t.vertex
	// Output writers, one per output edge, each with a typed emitter built by
	// the consumer operator's exchange, by the producing operator's output.
	writerOf := map[port][]any{}
	for _, ei := range v.Outputs {
		e := g.Edges[ei]
		w, err := t.openOutput(ctx, e)
		if err != nil {
			return err
		}
		t.writers = append(t.writers, w)
		in := g.Graph.Operators[e.ToOp].InputEdges()[e.ToInput]
		p := port{op: e.FromOp, side: e.Side}
		writerOf[p] = append(writerOf[p], in.NewWriter(w))
	}
	var outs []*network.Output
	for _, w := range t.writers {
		outs = append(outs, w.outs...)
	}
	t.outsP.Store(&outs)
	// The chain is built into a local slice and published whole: Run's
	// cleanup walks t.chain and must never meet a half-built one.
	// The chain is a tree rooted at the head, its operators in declaration
	// order: it is built from the last, so that every operator's chained
	// consumers exist when it is built, and each output gets its chained
	// consumers first, then its network writers.
	chain := make([]*link, len(v.Operators))
	chained := map[port][]any{}
	var next any
	for j := len(v.Operators) - 1; j >= 0; j-- {
		oi := v.Operators[j]
		op := g.Graph.Operators[oi]
		outs := map[string][]any{"": append(chained[port{op: oi}], writerOf[port{op: oi}]...)}
		for _, so := range op.SideOutputs {
			p := port{op: oi, side: so.Tag}
			outs[so.Tag] = append(chained[p], writerOf[p]...)
		}
		in, hooks, err := op.Build(op.Fanout(outs[""]))
		if err != nil {
			return fmt.Errorf("build operator %s: %w", op.ID, err)
		}
		l := &link{op: op, hooks: hooks}
		l.ctx = &opContext{t: t, op: op}
		for _, so := range op.SideOutputs {
			if l.ctx.sides == nil {
				l.ctx.sides = map[string]any{}
			}
			l.ctx.sides[so.Tag] = so.Fanout(outs[so.Tag])
		}
		if op.Keyed {
			l.backend, l.local = t.keyedBackend(op.ID)
			l.ctx.backend = l.backend
		}
		chain[j] = l
		next = in
		if j > 0 {
			// A chained operator has one input, from an earlier one.
			from := op.InputEdges()[0]
			p := port{op: from.From, side: from.Side}
			chained[p] = append([]any{in}, chained[p]...)
		}
		if j == 0 && op.IsSource() {
			src, ok := in.(operator.Source)
			if !ok {
				return fmt.Errorf("operator %s: source builder returned %T, not a source", op.ID, in)
			}
			t.source = src
		}
	}
	t.chain = chain
	t.wm = newWatermarks(chain, t.source, t.cfg.WatermarkInterval)
	if err := t.restore(ctx); err != nil {
		return err
	}
	for _, l := range t.chain {
		l.opened = true
		if err := l.hooks.Open(l.ctx); err != nil {
			return &Failure{Domain: rpc.DomainUser, Err: fmt.Errorf("open %s: %w", l.op.ID, err)}
		}
	}
	if t.source == nil {
		return t.openInputs(next)
	}
	pos := t.source.Position()
	t.sourceAt.Store(pos)
	t.sourceOut.Store(pos)
	return nil
}

// port is one output of an operator: its main output (side "") or a side
// output.
type port struct {
	op   int
	side string
}

func (t *Task) openOutput(ctx context.Context, e *plan.Edge) (*recordWriter, error) {
	g := t.cfg.Graph
	to := g.Vertices[e.To]
	addrs := t.cfg.DataAddrs[to.ID]
	p := t.cfg.Parallelism[to.ID]
	if len(addrs) != p {
		return nil, fmt.Errorf("edge %d to %s: %d addresses for parallelism %d", e.Index, to.ID, len(addrs), p)
	}
	consumers := make([]int, 0, p)
	if e.Partitioning == plan.Forward {
		consumers = append(consumers, t.cfg.Subtask)
	} else {
		for i := 0; i < p; i++ {
			consumers = append(consumers, i)
		}
	}
	w := &recordWriter{t: t, ctx: ctx, maxP: to.KeyGroups, size: t.cfg.BufferSize}
	for _, c := range consumers {
		id := network.ChannelID{Attempt: uint64(t.cfg.Attempt), Edge: uint32(e.Index), Producer: uint32(t.cfg.Subtask), Consumer: uint32(c)}
		out, err := t.cfg.Net.OpenOutput(ctx, id, addrs[c])
		if err != nil {
			w.close()
			return nil, fmt.Errorf("open channel %+v to %s: %w", id, addrs[c], err)
		}
		w.outs = append(w.outs, out)
		w.bufs = append(w.bufs, make([]byte, 0, t.cfg.BufferSize))
	}
	return w, nil
}

// openInputs registers the input gate's channels, those of every input
// edge, and binds each edge's decoder to the input of the chain's head it
// feeds: head itself for a head with one input, head[i] for input i of a
// head with several.
func (t *Task) openInputs(head any) error {
	g, v := t.cfg.Graph, t.vertex
	ins := g.Graph.Operators[v.Operators[0]].InputEdges()
	heads := []any{head}
	if len(ins) > 1 {
		hs, ok := head.([]any)
		if !ok || len(hs) != len(ins) {
			return fmt.Errorf("operator %s has %d inputs but its builder returned %T", g.Graph.Operators[v.Operators[0]].ID, len(ins), head)
		}
		heads = hs
	}
	var ids []network.ChannelID
	for pos, ei := range v.Inputs {
		e := g.Edges[ei]
		from := g.Vertices[e.From]
		producers := []int{}
		if e.Partitioning == plan.Forward {
			producers = append(producers, t.cfg.Subtask)
		} else {
			for i := 0; i < t.cfg.Parallelism[from.ID]; i++ {
				producers = append(producers, i)
			}
		}
		for _, p := range producers {
			id := network.ChannelID{Attempt: uint64(t.cfg.Attempt), Edge: uint32(e.Index), Producer: uint32(p), Consumer: uint32(t.cfg.Subtask)}
			ids = append(ids, id)
			t.inputs = append(t.inputs, inputChannel{edgePos: pos, id: id})
		}
		t.readers = append(t.readers, ins[e.ToInput].NewReader(heads[e.ToInput]))
	}
	gate, err := t.cfg.Net.OpenInput(ids)
	if err != nil {
		return fmt.Errorf("open input gate: %w", err)
	}
	t.gate = gate
	t.gateP.Store(gate)
	return nil
}

// keyedBackend returns the operator's keyed backend: the one this process
// kept from the previous attempt at the checkpoint being restored, narrowed
// to this subtask's key groups, or a new one. It also returns the key groups
// already present.
func (t *Task) keyedBackend(op string) (*state.Backend, keygroup.Range) {
	none := keygroup.Range{Start: 0, End: -1}
	r := t.cfg.KeyGroups
	if t.cfg.Local != nil && t.cfg.RestoredCheckpoint != 0 {
		if b := t.cfg.Local.Take(op, t.cfg.RestoredCheckpoint, r); b != nil {
			have := b.Range().Intersect(r)
			b.SetRange(r)
			t.localGroups += have.Len()
			return b, have
		}
	}
	return state.NewBackend(t.vertex.KeyGroups, r), none
}

// restore loads each keyed operator's key groups from the checkpoint.
func (t *Task) restore(ctx context.Context) error {
	for _, l := range t.chain {
		r, ok := t.cfg.Restore[l.op.ID]
		if !ok {
			continue
		}
		// Present means restored, even with no entries for this subtask: a
		// source with no split must not start its splits afresh.
		l.ctx.restored = r.List
		if l.ctx.restored == nil {
			l.ctx.restored = [][]byte{}
		}
		if l.backend == nil {
			continue
		}
		// The slices come from the JobManager's deployment: check them
		// before indexing offsets and CRCs with them.
		for _, s := range r.Keyed {
			if err := s.Validate(t.vertex.KeyGroups); err != nil {
				return &Failure{Domain: rpc.DomainCorruptCheckpoint, Err: fmt.Errorf("restore %s from checkpoint %d: %w", l.op.ID, t.cfg.RestoredCheckpoint, err)}
			}
		}
		l.ctx.floors = watermarkFloors(t.cfg.KeyGroups, r.Keyed)
		if f := l.ctx.floors; f != nil {
			t.wm.current = max(t.wm.current, f.lowest())
			t.watermarkOut.Store(t.wm.current)
		}
		for _, s := range r.Keyed {
			for _, part := range subtract(s.Range, l.local) {
				s := s
				s.Range = part
				if err := t.restoreSlice(ctx, l.backend, s); err != nil {
					return fmt.Errorf("restore %s from checkpoint %d: %w", l.op.ID, t.cfg.RestoredCheckpoint, err)
				}
			}
		}
	}
	return nil
}

func (t *Task) restoreSlice(ctx context.Context, b *state.Backend, s checkpoint.KeyedSlice) error {
	h := s.Handle
	if s.Range.Len() == 0 {
		return nil
	}
	lo := h.Offsets[s.Range.Start-h.Range.Start]
	hi := h.Offsets[s.Range.End-h.Range.Start+1]
	data, err := t.cfg.Storage.ReadRange(ctx, h.Path, lo, hi-lo)
	t.restoredBytes += int64(len(data))
	if err != nil {
		// A state object the JobManager found before deploying and that is
		// gone now is more likely unreachable than deleted: retry. The
		// JobManager checks again before the next attempt.
		return &Failure{Domain: rpc.DomainExternal, Err: fmt.Errorf("read key groups %v of %s: %w", s.Range, h.Path, err)}
	}
	for kg := s.Range.Start; kg <= s.Range.End; kg++ {
		i := kg - h.Range.Start
		a, z := h.Offsets[i]-lo, h.Offsets[i+1]-lo
		if err := b.RestoreKeyGroup(kg, data[a:z], h.CRCs[i]); err != nil {
			return &Failure{Domain: rpc.DomainCorruptCheckpoint, Err: fmt.Errorf("key group %d of %s: %w", kg, h.Path, err)}
		}
	}
	return nil
}

// opContext is an operator's view of the subtask.
type opContext struct {
	t        *Task
	op       *plan.Operator
	backend  *state.Backend
	restored [][]byte
	// floors are the restored watermarks of the key groups (watermark.go).
	floors *floors
	// sides are the emitters of the operator's side outputs, by tag.
	sides map[string]any
}

func (c *opContext) JobID() string              { return c.t.cfg.JobID }
func (c *opContext) OperatorID() string         { return c.op.ID }
func (c *opContext) Subtask() int               { return c.t.cfg.Subtask }
func (c *opContext) Parallelism() int           { return c.t.cfg.Parallelism[c.t.vertex.ID] }
func (c *opContext) MaxParallelism() int        { return c.t.vertex.KeyGroups }
func (c *opContext) Attempt() uint64            { return uint64(c.t.cfg.Attempt) }
func (c *opContext) KeyGroups() keygroup.Range  { return c.t.cfg.KeyGroups }
func (c *opContext) Keyed() *state.Backend      { return c.backend }
func (c *opContext) RestoredList() [][]byte     { return c.restored }
func (c *opContext) RestoredCheckpoint() uint64 { return c.t.cfg.RestoredCheckpoint }
func (c *opContext) Logger() *slog.Logger       { return c.t.log.With("operator", c.op.ID) }
func (c *opContext) Now() time.Time             { return time.Now() }
func (c *opContext) SideOutput(tag string) any  { return c.sides[tag] }
func (c *opContext) Metrics() metrichook.Group {
	return c.t.metrics.With(metrichook.Label{Name: metrichook.LabelOperatorName, Value: c.op.Name})
}
func (c *opContext) Fail(err error) {
	if c.t.failure == nil {
		c.t.failure = &Failure{Domain: rpc.DomainUser, Err: err}
	}
}

// subtract returns the parts of r outside o: none, one or two ranges.
func subtract(r, o keygroup.Range) []keygroup.Range {
	in := r.Intersect(o)
	if in.Len() == 0 {
		return []keygroup.Range{r}
	}
	var out []keygroup.Range
	if r.Start < in.Start {
		out = append(out, keygroup.Range{Start: r.Start, End: in.Start - 1})
	}
	if in.End < r.End {
		out = append(out, keygroup.Range{Start: in.End + 1, End: r.End})
	}
	return out
}

// Context implements operator.Context: the subtask's, canceled with it.
func (c *opContext) Context() context.Context { return c.t.runCtx }

// Wakeup implements operator.Context.
func (c *opContext) Wakeup() {
	select {
	case c.t.sourceWake <- struct{}{}:
	default:
	}
}
