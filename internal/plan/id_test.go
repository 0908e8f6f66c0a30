package plan

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tide-stream/tide/internal/operator"
)

// node declares one operator of a test graph: its name, the name of its
// input ("" for a source), and its UID.
type node struct{ name, input, uid string }

// build adds nodes to a graph in order and returns the graph and the id of
// each operator by name. Inputs are found by name, so names are unique per
// test graph except where a test says otherwise.
func build(t *testing.T, nodes ...node) (*Graph, map[string]string) {
	t.Helper()
	g := &Graph{MaxParallelism: 8}
	index := map[string]int{}
	ids := map[string]string{}
	for _, n := range nodes {
		op := &Operator{Name: n.name, UID: n.uid, Input: -1, Build: func(any) (any, operator.Hooks, error) { return nil, nil, nil }}
		if n.input != "" {
			in, ok := index[n.input]
			if !ok {
				t.Fatalf("node %q reads unknown %q", n.name, n.input)
			}
			op.Input = in
		}
		i, err := g.Add(op)
		if err != nil {
			t.Fatalf("add %q: %v", n.name, err)
		}
		index[n.name] = i
		ids[n.name] = op.ID
	}
	return g, ids
}

// pipeline is source -> parse -> count -> sink.
var pipeline = []node{{"source", "", ""}, {"parse", "source", ""}, {"count", "parse", ""}, {"sink", "count", ""}}

func TestDefaultIDFormat(t *testing.T) {
	_, ids := build(t, append(pipeline, node{"Sum of speed/car", "count", ""}, node{"fixed", "count", "my.uid-1"})...)
	re := regexp.MustCompile(`^[A-Za-z0-9_-]+-[0-9a-f]{8}$`)
	for name, id := range ids {
		if name == "fixed" {
			continue
		}
		if !re.MatchString(id) {
			t.Errorf("%s: id %q is not <name>-<8 hex>", name, id)
		}
	}
	if id := ids["Sum of speed/car"]; !strings.HasPrefix(id, "Sum_of_speed_car-") {
		t.Errorf("id %q does not start with the sanitized name", id)
	}
	if id := ids["fixed"]; id != "my.uid-1" {
		t.Errorf("uid operator has id %q, want the uid", id)
	}
}

// TestIDsIgnoreUnrelatedOperators adds operators elsewhere in the graph,
// before and after the pipeline, and on a side branch of it: the
// pipeline's ids must not change.
func TestIDsIgnoreUnrelatedOperators(t *testing.T) {
	_, want := build(t, pipeline...)
	cases := map[string][]node{
		"another pipeline before": append([]node{{"other", "", ""}, {"other-map", "other", ""}, {"other-sink", "other-map", ""}}, pipeline...),
		"another pipeline after":  append(append([]node{}, pipeline...), node{"other", "", ""}, node{"other-sink", "other", ""}),
		"a side branch":           {{"source", "", ""}, {"parse", "source", ""}, {"audit", "parse", ""}, {"count", "parse", ""}, {"audit-sink", "audit", ""}, {"sink", "count", ""}},
		"a second sink":           append(append([]node{}, pipeline...), node{"sink2", "count", ""}),
		"interleaved":             {{"other", "", ""}, {"source", "", ""}, {"other-map", "other", ""}, {"parse", "source", ""}, {"count", "parse", ""}, {"other-sink", "other-map", ""}, {"sink", "count", ""}},
	}
	for name, nodes := range cases {
		t.Run(name, func(t *testing.T) {
			_, got := build(t, nodes...)
			for op, id := range want {
				if got[op] != id {
					t.Errorf("%s: id %q, was %q", op, got[op], id)
				}
			}
		})
	}
}

// TestUIDSurvivesInsertedFilter inserts a filter before count: without
// UIDs, count and sink get new ids (they read a different input); with a
// UID on count, count keeps its id and so does sink, downstream of it.
func TestUIDSurvivesInsertedFilter(t *testing.T) {
	withFilter := func(uid string) []node {
		return []node{{"source", "", ""}, {"parse", "source", ""}, {"filter", "parse", ""}, {"count", "filter", uid}, {"sink", "count", ""}}
	}
	_, before := build(t, pipeline...)
	_, after := build(t, withFilter("")...)
	if after["source"] != before["source"] || after["parse"] != before["parse"] {
		t.Errorf("operators upstream of the filter changed ids: %v -> %v", before, after)
	}
	if after["count"] == before["count"] || after["sink"] == before["sink"] {
		t.Errorf("operators downstream of the filter kept their ids without a uid: %v -> %v", before, after)
	}

	withUID := append([]node{}, pipeline...)
	withUID[2].uid = "count"
	_, before = build(t, withUID...)
	_, after = build(t, withFilter("count")...)
	if after["count"] != "count" || before["count"] != "count" {
		t.Errorf("count's id is %q then %q, want its uid", before["count"], after["count"])
	}
	if after["sink"] != before["sink"] {
		t.Errorf("sink after the uid operator changed id: %q -> %q", before["sink"], after["sink"])
	}
}

// TestSiblingIDs: operators with the same name on the same input get
// distinct ids, and adding a same-named operator on another input, or an
// operator of another name on the same input, changes neither.
func TestSiblingIDs(t *testing.T) {
	g, _ := build(t, node{"source", "", ""})
	add := func(name string, input int) string {
		op := &Operator{Name: name, Input: input}
		if _, err := g.Add(op); err != nil {
			t.Fatal(err)
		}
		return op.ID
	}
	a := add("map", 0)
	add("other", 0)
	add("map", 2)
	b := add("map", 0)
	if a == b {
		t.Fatalf("two maps on one input share id %q", a)
	}
	g2, _ := build(t, node{"source", "", ""})
	g = g2
	if a2 := add("map", 0); a2 != a {
		t.Errorf("first map: id %q, was %q", a2, a)
	}
	if b2 := add("map", 0); b2 != b {
		t.Errorf("second map: id %q, was %q", b2, b)
	}
}

func TestDuplicateUIDsRefused(t *testing.T) {
	g, ids := build(t, pipeline...)
	src := &Operator{Name: "two", UID: "dup", Input: 0}
	if _, err := g.Add(src); err != nil {
		t.Fatal(err)
	}
	_, err := g.Add(&Operator{Name: "three", UID: "dup", Input: 0})
	if err == nil || !strings.Contains(err.Error(), `"two"`) || !strings.Contains(err.Error(), `"three"`) || !strings.Contains(err.Error(), `"dup"`) {
		t.Errorf("Add of a second uid \"dup\": %v; want an error naming both operators and the uid", err)
	}
	if _, err := Compile(g); err == nil || !strings.Contains(err.Error(), `both have uid "dup"`) {
		t.Errorf("Compile: %v; want the duplicate uid refused", err)
	}

	// A uid equal to another operator's default id is refused too.
	_, err = g.Add(&Operator{Name: "four", UID: ids["count"], Input: 0})
	if err == nil || !strings.Contains(err.Error(), `"count"`) || !strings.Contains(err.Error(), `"four"`) {
		t.Errorf("Add of uid %q: %v; want an error naming count and four", ids["count"], err)
	}
}

func TestValidateUID(t *testing.T) {
	for _, uid := range []string{"a", "count-sum", "CountSum_v2", "com.example.count", "0", strings.Repeat("x", MaxUIDLen)} {
		if err := ValidateUID(uid); err != nil {
			t.Errorf("ValidateUID(%q): %v", uid, err)
		}
	}
	for _, uid := range []string{"", "-x", ".x", "..", "_x", "a/b", "a b", "a\nb", "é", strings.Repeat("x", MaxUIDLen+1)} {
		if err := ValidateUID(uid); err == nil {
			t.Errorf("ValidateUID(%q) accepted it", uid)
		}
	}
	g := &Graph{MaxParallelism: 8}
	if _, err := g.Add(&Operator{Name: "source", UID: "a/b", Input: -1}); err == nil {
		t.Errorf("Add accepted uid a/b")
	}
}

// TestDigestDistinguishesGraphs: graphs that differ in an operator, its
// uid, its input or its bounds have different digests; the same
// declarations give the same digest.
func TestDigestDistinguishesGraphs(t *testing.T) {
	digest := func(mod func(g *Graph), nodes ...node) string {
		t.Helper()
		g, _ := build(t, nodes...)
		if mod != nil {
			mod(g)
		}
		jg, err := Compile(g)
		if err != nil {
			t.Fatal(err)
		}
		return jg.Digest()
	}
	withUID := append([]node{}, pipeline...)
	withUID[2].uid = "count"
	rewired := []node{{"source", "", ""}, {"parse", "source", ""}, {"count", "source", ""}, {"sink", "count", ""}}
	variants := map[string]string{
		"pipeline":      digest(nil, pipeline...),
		"with filter":   digest(nil, node{"source", "", ""}, node{"parse", "source", ""}, node{"filter", "parse", ""}, node{"count", "filter", ""}, node{"sink", "count", ""}),
		"with uid":      digest(nil, withUID...),
		"rewired":       digest(nil, rewired...),
		"keyed count":   digest(func(g *Graph) { g.Operators[2].In.Partitioning = KeyGroups; g.Operators[2].Keyed = true }, pipeline...),
		"parallelism 1": digest(func(g *Graph) { g.Operators[3].Parallelism = 1 }, pipeline...),
		"renamed sink":  digest(nil, node{"source", "", ""}, node{"parse", "source", ""}, node{"count", "parse", ""}, node{"out", "count", ""}),
	}
	seen := map[string]string{}
	for name, d := range variants {
		if other, dup := seen[d]; dup {
			t.Errorf("%s and %s have the same digest %s", name, other, d)
		}
		seen[d] = name
	}
	if again := digest(nil, pipeline...); again != variants["pipeline"] {
		t.Errorf("the same graph has digests %s and %s", variants["pipeline"], again)
	}
}
