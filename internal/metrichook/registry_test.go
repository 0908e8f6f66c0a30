package metrichook

import (
	"sync"
	"testing"
)

func TestRegistryKeepsCurrentValues(t *testing.T) {
	r := NewRegistry()
	g := r.Gauge("lag", Label{"topic", "t"}, Label{"partition", "0"})
	g.Set(7)
	// The same series, labels in another order.
	if again := r.Gauge("lag", Label{"partition", "0"}, Label{"topic", "t"}); again != g {
		t.Error("asking again for the same series returned another")
	}
	r.Gauge("lag", Label{"topic", "t"}, Label{"partition", "1"}).Set(3)
	c := r.Counter("skipped")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				c.Add(1)
			}
		})
	}
	wg.Wait()
	if v, ok := r.Value("lag", Label{"topic", "t"}, Label{"partition", "0"}); !ok || v != 7 {
		t.Errorf("lag{0} = %v, %v; want 7", v, ok)
	}
	if v, ok := r.Value("skipped"); !ok || v != 8000 {
		t.Errorf("skipped = %v, %v; want 8000 (concurrent adds)", v, ok)
	}
	if _, ok := r.Value("lag", Label{"topic", "t"}); ok {
		t.Error("a series with fewer labels was found")
	}
	var got []Sample
	r.Each(func(s Sample) { got = append(got, s) })
	if len(got) != 3 || got[0].Name != "lag" || got[0].Labels[0].Name != "partition" || got[2].Kind != KindCounter {
		t.Errorf("Each gave %+v", got)
	}
}

func TestWithAddsLabels(t *testing.T) {
	r := NewRegistry()
	r.With(Label{LabelOperatorName, "src"}).Counter("n", Label{"topic", "t"}).Add(2)
	if v, ok := r.Value("n", Label{"topic", "t"}, Label{LabelOperatorName, "src"}); !ok || v != 2 {
		t.Errorf("n = %v, %v; want 2 with the group's label", v, ok)
	}
}

func TestOneKindPerName(t *testing.T) {
	r := NewRegistry()
	r.Gauge("x")
	defer func() {
		if recover() == nil {
			t.Error("asking for a gauge's name as a counter did not panic")
		}
	}()
	r.Counter("x", Label{"a", "b"})
}
