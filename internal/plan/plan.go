// Package plan owns the job graph: the logical operators a job's build
// function declares, and the physical graph of chained vertices and edges
// that the scheduler deploys. It is pure: building a plan twice from the
// same job gives the same graph, so every process agrees on operator and
// vertex ids without exchanging code.
//
// Operator ids (Operator.ID) name operator state in checkpoints and are
// stable under edits of the job: an operator's UID when it has one
// (stream.UID), else "<sanitized name>-<8 hex digits>", a hash of its name,
// its inputs' ids and its ordinal among same-named operators on those
// inputs; never its position. id.go explains the choice. Vertex ids ("v<index>-<head
// name>") name the chains of a deployment, in the REST API and the control
// protocol; they are not stable across edits and never name state.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/tide-stream/tide/internal/exec"
	"github.com/tide-stream/tide/internal/operator"
)

// Partitioning says how records cross an edge between subtasks.
type Partitioning uint8

const (
	// Forward sends subtask i's records to subtask i of the consumer.
	Forward Partitioning = iota
	// Rebalance spreads records round-robin over the consumer's subtasks.
	Rebalance
	// KeyGroups sends a record to the subtask owning its key's key group.
	KeyGroups
)

func (p Partitioning) String() string {
	switch p {
	case Forward:
		return "FORWARD"
	case Rebalance:
		return "REBALANCE"
	case KeyGroups:
		return "HASH"
	}
	return fmt.Sprintf("Partitioning(%d)", uint8(p))
}

// RecordWriter is the runtime side of an exchange: one output buffer per
// consumer subtask. The typed writer of an edge appends encoded records to
// Buf(ch) and hands the grown slice back with Commit; the runtime sends a
// buffer when it is full.
type RecordWriter interface {
	NumChannels() int
	Buf(ch int) []byte
	Commit(ch int, b []byte)
	// MaxParallelism is the number of key groups of the consumer.
	MaxParallelism() int
}

// Exchange is the typed code of an edge, captured when the plan is built.
type Exchange struct {
	Partitioning Partitioning
	// NewWriter returns an operator.Emitter[T] that encodes records into w.
	NewWriter func(w RecordWriter) any
	// NewReader returns a function that decodes one buffer of records,
	// emits them into in, an operator.Emitter[T], and returns how many.
	NewReader func(in any) func(buf []byte) (int, error)
	// CodecErr, when not nil, says why the records have no codec; NewWriter
	// and NewReader must not be called then. Compile reports it, as it is,
	// for an edge that crosses a subtask boundary, and ignores it for an
	// edge it chains, whose records are never encoded.
	CodecErr error
}

// Operator is one logical operator.
type Operator struct {
	// ID names the operator's state in checkpoints. Add sets it: UID when
	// set, else derived from Name, the ids of its inputs and the ordinal
	// among operators with the same Name and inputs (see id.go). It is the
	// same in every process and survives edits of the job elsewhere in the
	// graph.
	ID string
	// UID, when not empty, is the ID the job fixed (stream.UID).
	UID string
	// Name is what the job calls the operator, for people: logs, the web UI,
	// and messages about state that a new graph does not claim.
	Name string
	// Input is the index of the operator feeding this one, -1 for sources,
	// and In describes the edge from it: the short form of Inputs for an
	// operator with one input. An operator with several inputs (a union, a
	// connect) sets Inputs instead; Add then sets Input and In to its first.
	Input int
	In    Exchange
	// Inputs are the operator's input edges, in the order of its inputs,
	// when it has several (or reads a side output); empty otherwise.
	// InputEdges is the one view of both forms.
	Inputs []Input
	// SideOutputs are the side outputs that operators of the graph read
	// (an Input with Side set), by tag. Build's operator finds their
	// emitters in its Context (operator.Context.SideOutput).
	SideOutputs []SideOutput
	// Parallelism is fixed when > 0 (1 for a non-parallel source).
	Parallelism int
	// MaxParallelism overrides the job's when > 0: the number of key groups
	// and the upper bound of the parallelism.
	MaxParallelism int
	// Keyed operators get a keyed state backend. The inputs of a keyed
	// operator with several are all partitioned by KeyGroups, with keys of
	// one type and codec, so that a key's records of every input meet in
	// the subtask owning its key group.
	Keyed bool
	// Build instantiates the operator in one subtask. out is an
	// operator.Emitter of its output type (nil for sinks). It returns its
	// input: an operator.Emitter of its input type for an operator with
	// one input, a []any of one operator.Emitter per input, in the order
	// of InputEdges, for an operator with several, or an operator.Source
	// for sources.
	Build func(out any) (in any, hooks operator.Hooks, err error)
	// Enumerator, for a source whose splits are discovered on the
	// JobManager, makes its SplitEnumerator; DiscoveryInterval is how often
	// the JobManager asks it again (0: only when an attempt starts).
	Enumerator        func(operator.EnumeratorContext) (operator.SplitEnumerator, error)
	DiscoveryInterval time.Duration
	// Fanout combines the emitters of several consumers into one.
	Fanout func(outs []any) any
}

// Input is one input edge of an operator.
type Input struct {
	// From is the index of the operator whose output the edge reads.
	From int
	// Side is the tag of the side output of From that the edge reads, ""
	// for its main output.
	Side string
	// Exchange is the edge's typed code.
	Exchange
}

// SideOutput is a side output of an operator: a second stream, of another
// type, that the operator's function emits into by tag.
type SideOutput struct {
	Tag string
	// Type is the Go type of its records, to refuse one tag read as two
	// types.
	Type reflect.Type
	// Fanout combines the emitters of the side output's consumers into one.
	Fanout func(outs []any) any
}

// InputEdges returns op's input edges: Inputs, or the one edge Input and
// In describe, or none for a source.
func (op *Operator) InputEdges() []Input {
	switch {
	case len(op.Inputs) > 0:
		return op.Inputs
	case op.Input >= 0:
		return []Input{{From: op.Input, Exchange: op.In}}
	}
	return nil
}

// IsSource reports whether op has no inputs.
func (op *Operator) IsSource() bool { return len(op.Inputs) == 0 && op.Input < 0 }

// sideOutput returns op's side output tag.
func (op *Operator) sideOutput(tag string) (SideOutput, bool) {
	for _, so := range op.SideOutputs {
		if so.Tag == tag {
			return so, true
		}
	}
	return SideOutput{}, false
}

// Graph is the logical plan: operators in declaration order.
type Graph struct {
	Operators      []*Operator
	MaxParallelism int
}

// Add appends an operator, whose inputs must already be in g, and assigns its
// ID. It returns the operator's index, and an error when its UID is invalid
// or an operator added before has the same ID; the operator is added anyway,
// so that the indexes of later operators stay right while the caller
// collects errors.
func (g *Graph) Add(op *Operator) (int, error) {
	idx := len(g.Operators)
	if len(op.Inputs) > 0 {
		op.Input, op.In = op.Inputs[0].From, op.Inputs[0].Exchange
	}
	var err error
	if op.UID != "" {
		op.ID = op.UID
		if verr := ValidateUID(op.UID); verr != nil {
			err = fmt.Errorf("operator %q: %w", op.Name, verr)
		}
	} else {
		op.ID = g.defaultID(op)
	}
	g.Operators = append(g.Operators, op)
	if err == nil {
		for j, o := range g.Operators[:idx] {
			if o.ID == op.ID {
				err = g.idConflict(j, idx)
				break
			}
		}
	}
	return idx, err
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

// Vertex is a chain of operators that run in one subtask.
type Vertex struct {
	ID   exec.VertexID
	Name string
	// Operators are indexes into Graph.Operators, head first.
	Operators []int
	// MaxParallelism bounds the parallelism: min over the chain.
	MaxParallelism int
	// KeyGroups is the number of key groups of the chain's keyed state.
	KeyGroups int
	// Inputs are the edges into the head, in the order of its inputs.
	Inputs []int
	// Outputs are the edges leaving any operator of the chain.
	Outputs []int
}

// Edge connects an operator of one vertex to the head of another.
type Edge struct {
	Index        int
	From, To     int // vertex indexes
	FromOp, ToOp int // operator indexes
	// ToInput is the input of ToOp the edge feeds: an index into its
	// InputEdges.
	ToInput int
	// Side is the side output of FromOp the edge reads, "" for its main
	// output.
	Side         string
	Partitioning Partitioning
}

// JobGraph is the physical plan.
type JobGraph struct {
	Graph    *Graph
	Vertices []*Vertex
	Edges    []*Edge
	// VertexOf maps an operator index to its vertex index.
	VertexOf []int
}

// Compile chains operators into vertices. An operator joins its input's
// chain when it has one input, the edge is Forward, the input has no other
// consumer, and both have the same parallelism bound; an operator with
// several inputs heads a vertex, whose input edges are its inputs. Every
// other edge crosses a subtask boundary, so Compile refuses the graph if
// such an edge has no codec (Exchange.CodecErr).
func Compile(g *Graph) (*JobGraph, error) {
	if len(g.Operators) == 0 {
		return nil, fmt.Errorf("plan: job has no operators")
	}
	if g.MaxParallelism < 1 {
		return nil, fmt.Errorf("plan: max parallelism %d < 1", g.MaxParallelism)
	}
	if err := g.checkIDs(); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	for i, op := range g.Operators {
		ins := op.InputEdges()
		for _, in := range ins {
			if in.From < 0 || in.From >= i {
				return nil, fmt.Errorf("plan: operator %s reads operator %d, not declared before it", op.ID, in.From)
			}
			if in.Side != "" {
				if _, ok := g.Operators[in.From].sideOutput(in.Side); !ok {
					return nil, fmt.Errorf("plan: operator %s reads side output %q, which operator %s does not declare", op.ID, in.Side, g.Operators[in.From].ID)
				}
			}
		}
		if len(ins) == 0 && op.Build == nil {
			return nil, fmt.Errorf("plan: source %s has no builder", op.ID)
		}
	}
	bound := func(op *Operator) int {
		m := g.MaxParallelism
		if op.MaxParallelism > 0 {
			m = op.MaxParallelism
		}
		if op.Parallelism > 0 {
			m = min(m, op.Parallelism)
		}
		return m
	}
	jg := &JobGraph{Graph: g, VertexOf: make([]int, len(g.Operators))}
	var codecErrs []error
	for i, op := range g.Operators {
		// An operator of one forward input at its producer's bound joins its
		// producer's chain, whichever operator of the chain that is: a chain
		// is a tree rooted at its head, in declaration order, and an
		// operator read by several chained consumers hands each record to
		// all of them (Flink chains likewise).
		if ins := op.InputEdges(); len(ins) == 1 {
			in := ins[0]
			if in.Partitioning == Forward && bound(g.Operators[in.From]) == bound(op) {
				v := jg.Vertices[jg.VertexOf[in.From]]
				v.Operators = append(v.Operators, i)
				v.Name += " -> " + op.Name
				jg.VertexOf[i] = jg.VertexOf[in.From]
				continue
			}
		}
		jg.VertexOf[i] = len(jg.Vertices)
		jg.Vertices = append(jg.Vertices, &Vertex{Name: op.Name, Operators: []int{i}})
	}
	for vi, v := range jg.Vertices {
		head := g.Operators[v.Operators[0]]
		v.ID = exec.VertexID(fmt.Sprintf("v%d-%s", vi, sanitize(head.Name)))
		v.MaxParallelism = g.MaxParallelism
		v.KeyGroups = g.MaxParallelism
		for _, oi := range v.Operators {
			op := g.Operators[oi]
			v.MaxParallelism = min(v.MaxParallelism, bound(op))
			if op.Keyed && op.MaxParallelism > 0 {
				v.KeyGroups = op.MaxParallelism
			}
		}
		for pos, in := range head.InputEdges() {
			if in.CodecErr != nil {
				codecErrs = append(codecErrs, in.CodecErr)
			}
			e := &Edge{Index: len(jg.Edges), From: jg.VertexOf[in.From], To: vi, FromOp: in.From, ToOp: v.Operators[0],
				ToInput: pos, Side: in.Side, Partitioning: in.Partitioning}
			if e.Partitioning == Forward {
				// A forward edge between vertices of different bounds cannot pair
				// subtasks one to one; spread instead, as Flink does.
				if jg.Vertices[e.From].MaxParallelism != v.MaxParallelism {
					e.Partitioning = Rebalance
				}
			}
			jg.Edges = append(jg.Edges, e)
			v.Inputs = append(v.Inputs, e.Index)
			jg.Vertices[e.From].Outputs = append(jg.Vertices[e.From].Outputs, e.Index)
		}
	}
	if len(codecErrs) > 0 {
		return nil, errors.Join(codecErrs...)
	}
	for _, v := range jg.Vertices {
		if v.MaxParallelism < 1 {
			return nil, fmt.Errorf("plan: vertex %s has max parallelism %d", v.ID, v.MaxParallelism)
		}
	}
	return jg, nil
}

// Digest is a fingerprint of the physical graph's shape: ids, chains,
// edges and bounds. Processes compare digests to be sure they run the same job.
func (jg *JobGraph) Digest() string {
	h := sha256.New()
	for _, v := range jg.Vertices {
		fmt.Fprintf(h, "v %s %d %d", v.ID, v.MaxParallelism, v.KeyGroups)
		for _, oi := range v.Operators {
			fmt.Fprintf(h, " %s", jg.Graph.Operators[oi].ID)
		}
		fmt.Fprintln(h)
	}
	for _, e := range jg.Edges {
		fmt.Fprintf(h, "e %d %d %d %d %d", e.From, e.To, e.FromOp, e.ToOp, e.Partitioning)
		// Only the edges of operators with several inputs or of side outputs
		// add to the line, so that other graphs keep their digests.
		if e.ToInput != 0 || e.Side != "" {
			fmt.Fprintf(h, " %d %q", e.ToInput, e.Side)
		}
		fmt.Fprintln(h)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Vertex returns the vertex with the given id.
func (jg *JobGraph) Vertex(id exec.VertexID) (int, *Vertex, bool) {
	for i, v := range jg.Vertices {
		if v.ID == id {
			return i, v, true
		}
	}
	return 0, nil, false
}

// IsSource reports whether vertex v has no inputs.
func (jg *JobGraph) IsSource(v int) bool { return len(jg.Vertices[v].Inputs) == 0 }
