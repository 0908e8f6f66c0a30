package plan

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tide-stream/tide/internal/operator"
)

func noBuild(any) (any, operator.Hooks, error) { return nil, nil, nil }

// TestSingleInputIDsAndDigestUnchanged pins the default ids and the digest
// of a single-input pipeline to what they were before operators could have
// several inputs: checkpoints of existing jobs name their state by these
// ids, and TaskManagers compare digests with the JobManager's.
func TestSingleInputIDsAndDigestUnchanged(t *testing.T) {
	g, ids := build(t, pipeline...)
	want := map[string]string{"source": "source-ddc8a0d2", "parse": "parse-e9f2ce99", "count": "count-2740f915", "sink": "sink-ee7042dd"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	jg, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	if d := jg.Digest(); d != "2d8e76120f1553c9" {
		t.Errorf("digest %s, want 2d8e76120f1553c9", d)
	}
}

// twoSources returns a graph of sources a and b (ids 0 and 1).
func twoSources(t *testing.T) *Graph {
	t.Helper()
	g := &Graph{MaxParallelism: 8}
	for _, name := range []string{"a", "b"} {
		if _, err := g.Add(&Operator{Name: name, Input: -1, Build: noBuild}); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

func mustAdd(t *testing.T, g *Graph, op *Operator) int {
	t.Helper()
	i, err := g.Add(op)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// TestCompileMultiInput: an operator with two forward inputs heads a
// vertex, whatever chaining would allow, with one edge per input in the
// order of its inputs; the operator after it chains to it.
func TestCompileMultiInput(t *testing.T) {
	g := twoSources(t)
	u := mustAdd(t, g, &Operator{Name: "union", Inputs: []Input{{From: 1}, {From: 0}}})
	if op := g.Operators[u]; op.Input != 1 {
		t.Errorf("Add set Input to %d, want the first input, 1", op.Input)
	}
	mustAdd(t, g, &Operator{Name: "map", Input: u})
	jg, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(jg.Vertices) != 3 {
		t.Fatalf("%d vertices, want 3 (a, b, union -> map)", len(jg.Vertices))
	}
	v := jg.Vertices[jg.VertexOf[u]]
	if v.Name != "union -> map" || v.Operators[0] != u {
		t.Errorf("vertex %q %v, want union heading union -> map", v.Name, v.Operators)
	}
	if len(v.Inputs) != 2 {
		t.Fatalf("union's vertex has %d input edges, want 2", len(v.Inputs))
	}
	for pos, from := range []int{1, 0} {
		e := jg.Edges[v.Inputs[pos]]
		if e.FromOp != from || e.ToOp != u || e.ToInput != pos || e.Partitioning != Forward {
			t.Errorf("edge %d: %+v, want from %d into input %d, forward", pos, e, from, pos)
		}
	}
}

// TestMultiInputIDs: the default id of an operator with several inputs
// derives from every input, in order; it differs from any single-input
// operator's of the same name.
func TestMultiInputIDs(t *testing.T) {
	id := func(mod func(g *Graph) []Input) string {
		g := twoSources(t)
		ins := mod(g)
		op := &Operator{Name: "join", Inputs: ins}
		mustAdd(t, g, op)
		return op.ID
	}
	ab := id(func(*Graph) []Input { return []Input{{From: 0}, {From: 1}} })
	if again := id(func(*Graph) []Input { return []Input{{From: 0}, {From: 1}} }); again != ab {
		t.Errorf("the same join has ids %s and %s", ab, again)
	}
	variants := map[string]string{
		"a,b": ab,
		"b,a": id(func(*Graph) []Input { return []Input{{From: 1}, {From: 0}} }),
		"a":   id(func(*Graph) []Input { return []Input{{From: 0}} }),
		"a,c": id(func(g *Graph) []Input {
			c := mustAdd(t, g, &Operator{Name: "c", Input: -1, Build: noBuild})
			return []Input{{From: 0}, {From: c}}
		}),
		"a,b's side": id(func(g *Graph) []Input {
			g.Operators[1].SideOutputs = []SideOutput{{Tag: "late"}}
			return []Input{{From: 0}, {From: 1, Side: "late"}}
		}),
	}
	seen := map[string]string{}
	for name, id := range variants {
		if other, dup := seen[id]; dup {
			t.Errorf("joins of %s and of %s have the same id %s", name, other, id)
		}
		seen[id] = name
	}
	// A second join of the same inputs gets another id; a join of other
	// inputs does not shift it.
	g := twoSources(t)
	first := &Operator{Name: "join", Inputs: []Input{{From: 0}, {From: 1}}}
	mustAdd(t, g, first)
	mustAdd(t, g, &Operator{Name: "join", Inputs: []Input{{From: 1}, {From: 0}}})
	second := &Operator{Name: "join", Inputs: []Input{{From: 0}, {From: 1}}}
	mustAdd(t, g, second)
	if first.ID != ab || second.ID == ab {
		t.Errorf("ids %s and %s, want %s and another", first.ID, second.ID, ab)
	}
}

// TestSideOutputEdges: a reader of a side output chains to its producer
// (at the same bound, as any forward reader, however many read the
// producer), and reads over an edge marked with the side output when it
// cannot chain; a side output the producer does not declare is refused.
func TestSideOutputEdges(t *testing.T) {
	g := &Graph{MaxParallelism: 8}
	src := mustAdd(t, g, &Operator{Name: "src", Input: -1, Build: noBuild})
	p := mustAdd(t, g, &Operator{Name: "process", Input: src, SideOutputs: []SideOutput{{Tag: "late"}}})
	side := mustAdd(t, g, &Operator{Name: "late", Inputs: []Input{{From: p, Side: "late"}}})
	jg, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	if jg.VertexOf[side] != jg.VertexOf[p] {
		t.Errorf("the only reader of a side output is not chained to its producer: %+v", jg.Vertices)
	}

	main := mustAdd(t, g, &Operator{Name: "main", Input: p})
	if jg, err = Compile(g); err != nil {
		t.Fatal(err)
	}
	if jg.VertexOf[side] != jg.VertexOf[p] || jg.VertexOf[main] != jg.VertexOf[p] {
		t.Fatalf("readers of two outputs not both chained: %+v", jg.Vertices)
	}
	// A reader at another bound cannot chain: it reads over an edge marked
	// with the side output.
	g.Operators[side].Parallelism = 1
	if jg, err = Compile(g); err != nil {
		t.Fatal(err)
	}
	if jg.VertexOf[side] == jg.VertexOf[p] {
		t.Fatalf("a side-output reader of parallelism 1 chained: %+v", jg.Vertices)
	}
	e := jg.Edges[jg.Vertices[jg.VertexOf[side]].Inputs[0]]
	if e.FromOp != p || e.Side != "late" {
		t.Errorf("side output edge %+v, want from %d, side late", e, p)
	}
	if jg.VertexOf[main] != jg.VertexOf[p] {
		t.Errorf("the main output's reader left the chain: %+v", jg.Vertices)
	}

	mustAdd(t, g, &Operator{Name: "ghost", Inputs: []Input{{From: p, Side: "other"}}})
	if _, err := Compile(g); err == nil || !strings.Contains(err.Error(), `side output "other"`) {
		t.Errorf("Compile of a reader of an undeclared side output: %v", err)
	}
}

// TestMultiInputCodecErrors: every input edge of a multi-input operator
// crosses a subtask boundary, so each one's missing codec is reported.
func TestMultiInputCodecErrors(t *testing.T) {
	g := twoSources(t)
	errA, errB := errorString("no codec for a"), errorString("no codec for b")
	mustAdd(t, g, &Operator{Name: "union", Inputs: []Input{{From: 0, Exchange: Exchange{CodecErr: errA}}, {From: 1, Exchange: Exchange{CodecErr: errB}}}})
	_, err := Compile(g)
	if err == nil || !strings.Contains(err.Error(), string(errA)) || !strings.Contains(err.Error(), string(errB)) {
		t.Errorf("Compile: %v; want both codec errors", err)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
