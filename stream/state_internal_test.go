package stream

import (
	"errors"
	"strings"
	"testing"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/operator"
)

// namedContext is an operator.Context that knows only its operator's id.
// (The embedded interface goes by another name: operator.Context has a
// method named Context.)
type namedContext struct{ anyContext }

type anyContext = operator.Context

func (namedContext) OperatorID() string { return "count-abcdef01" }

type hidden struct {
	Visible int
	hidden  int
}

// The declarations refuse it before any value is made.
var _ = hidden{hidden: 1}

// TestStateFallbackCodecRefused: declaring state of a type that JSON would
// not give back, without a codec, is an error naming the state, the
// operator, the type and the field.
func TestStateFallbackCodecRefused(t *testing.T) {
	rt := &KeyedRuntime[int64]{ctx: namedContext{}}
	const want = `stream: state "s" of count-abcdef01: type stream.hidden has unexported field "hidden": the JSON fallback codec would drop it; pass a codec to `
	for fn, declare := range map[string]func() error{
		"Value":    func() error { _, err := Value[hidden](rt, "s"); return err },
		"List":     func() error { _, err := List[hidden](rt, "s"); return err },
		"MapOf":    func() error { _, err := MapOf[string, hidden](rt, "s", nil, nil); return err },
		"Reducing": func() error { _, err := Reducing(rt, "s", func(a, _ hidden) hidden { return a }); return err },
	} {
		err := declare()
		var fe *codec.FallbackError
		if err == nil || !strings.Contains(err.Error(), want+fn+" or export the field") || !errors.As(err, &fe) {
			t.Errorf("%s: %v\nwant %s%s or export the field", fn, err, want, fn)
		}
	}
}
