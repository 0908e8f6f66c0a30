package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

type exported struct {
	A int
	B string
}

type withUnexported struct {
	Name string
	ts   int64
}

type outer struct {
	ID    int
	Inner withUnexported
}

type items struct{ Items []*withUnexported }

type tagged struct {
	Name   string
	Secret string `json:"-"`
}

type withAny struct{ V any }

type withChan struct{ C chan int }

type myInt int

// embedsUnexportedNonStruct's myInt is dropped by JSON.
type embedsUnexportedNonStruct struct {
	myInt
	A int
}

// The check refuses it before any value is made.
var _ = embedsUnexportedNonStruct{myInt: 1}

type inner struct{ X, Y int }

// embedsUnexportedStruct has inner's fields promoted by JSON.
type embedsUnexportedStruct struct {
	inner
	Z int
}

type embedsUnexportedPointer struct {
	*inner
	Z int
}

type node struct {
	V    int
	Next *node
}

// stamp has unexported fields and marshals itself, with a value receiver.
type stamp struct{ sec, nsec int64 }

func (s stamp) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]int64{s.sec, s.nsec})
}

func (s *stamp) UnmarshalJSON(b []byte) error {
	var a [2]int64
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	s.sec, s.nsec = a[0], a[1]
	return nil
}

// point is a TextMarshaler with unexported fields, fit for map keys.
type point struct{ x, y int }

func (p point) MarshalText() ([]byte, error) { return fmt.Appendf(nil, "%d,%d", p.x, p.y), nil }

func (p *point) UnmarshalText(b []byte) error {
	x, y, ok := strings.Cut(string(b), ",")
	if !ok {
		return fmt.Errorf("point %q", b)
	}
	var err error
	if p.x, err = strconv.Atoi(x); err != nil {
		return err
	}
	p.y, err = strconv.Atoi(y)
	return err
}

// ptrMarshal marshals itself only through a pointer, which JSON does not
// use for the value Append is given.
type ptrMarshal struct{ n int }

func (p *ptrMarshal) MarshalJSON() ([]byte, error) { return json.Marshal(p.n) }
func (p *ptrMarshal) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &p.n) }

type structKey struct{ A int }

// fits round-trips vs through For's codec, which must be JSON.
func fits[T any](t *testing.T, vs ...T) {
	t.Helper()
	c, err := For[T]()
	if err != nil {
		t.Errorf("For[%v]: %v", reflect.TypeFor[T](), err)
		return
	}
	if _, ok := c.(JSON[T]); !ok {
		t.Errorf("For[%v] = %T, want the JSON fallback", reflect.TypeFor[T](), c)
	}
	for _, v := range vs {
		got, _, err := c.Decode(c.Append(nil, v))
		if err != nil {
			t.Errorf("%v: decode %+v: %v", reflect.TypeFor[T](), v, err)
			continue
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("%v: %+v came back as %+v", reflect.TypeFor[T](), v, got)
		}
	}
}

func TestFallbackAccepts(t *testing.T) {
	fits(t, exported{1, "x"})
	fits(t, map[string][]exported{"a": {{2, "y"}}})
	fits(t, map[int]*exported{7: {3, "z"}})
	fits(t, [2]exported{{4, "w"}})
	fits(t, int32(-5))
	fits(t, uint8(200))
	fits(t, float32(1.5))
	fits(t, time.Unix(1700000000, 5).UTC())
	fits(t, stamp{1, 2}, stamp{})
	fits(t, map[point]stamp{{1, 2}: {3, 4}})
	fits(t, []point{{5, 6}})
	fits(t, &ptrMarshal{7})
	fits(t, []ptrMarshal{{8}})
	fits(t, embedsUnexportedStruct{inner{1, 2}, 3})
	fits(t, node{1, &node{2, nil}})
	fits(t, json.RawMessage(`{"a":1}`))
	fits(t, [4]byte{1, 2, 3, 4})
}

func TestFallbackRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		for_  func() error
		field string
		msg   string
		fix   string
	}{
		{"unexported", check[withUnexported], "ts",
			`type codec.withUnexported has unexported field "ts": the JSON fallback codec would drop it`, "export the field"},
		{"nested", check[outer], "Inner.ts",
			`type codec.outer has unexported field "Inner.ts": the JSON fallback codec would drop it`, "export the field"},
		{"through a slice of pointers", check[items], "Items[].ts", `has unexported field "Items[].ts"`, "export the field"},
		{"map value", check[map[string]withUnexported], "[].ts", `has unexported field "[].ts"`, "export the field"},
		{"array", check[[3]withUnexported], "[].ts", `has unexported field "[].ts"`, "export the field"},
		{"pointer", check[*outer], "Inner.ts", `type *codec.outer has unexported field "Inner.ts"`, "export the field"},
		{"tagged", check[tagged], "Secret",
			"type codec.tagged has field \"Secret\" tagged `json:\"-\"`: the JSON fallback codec would drop it", "remove the tag"},
		{"interface", check[any], "", "type interface {}: the JSON fallback codec cannot decode it", ""},
		{"interface field", check[withAny], "V", `has field "V" of interface type interface {}`, ""},
		{"interface elements", check[[]fmt.Stringer], "[]", `has elements "[]" of interface type fmt.Stringer`, ""},
		{"channel", check[withChan], "C", `has field "C" of type chan int: the JSON fallback codec cannot encode it`, ""},
		{"complex", check[complex128], "", "type complex128: the JSON fallback codec cannot encode it", ""},
		{"struct keys", check[map[structKey]int], "", "cannot encode its keys", ""},
		{"embedded non-struct", check[embedsUnexportedNonStruct], "myInt", `has unexported embedded field "myInt"`, "export its type"},
		{"embedded pointer", check[embedsUnexportedPointer], "inner", "embedded pointer to an unexported struct type", "embed the struct, not a pointer to it"},
		{"pointer-receiver marshaler", check[ptrMarshal], "n", `has unexported field "n"`, "give the marshalling methods of codec.ptrMarshal a value receiver"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.for_()
			var fe *FallbackError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *FallbackError", err)
			}
			if fe.Field != tc.field || fe.Fix != tc.fix || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %q (field %q, fix %q); want one containing %q, field %q, fix %q", err, fe.Field, fe.Fix, tc.msg, tc.field, tc.fix)
			}
		})
	}
}

// check is For[T]'s error.
func check[T any]() error {
	_, err := For[T]()
	return err
}

// TestFallbackWouldLose shows what the refused types would suffer: JSON
// gives back a different value.
func TestFallbackWouldLose(t *testing.T) {
	c := JSON[withUnexported]{}
	v := withUnexported{"a", 42}
	got, _, err := c.Decode(c.Append(nil, v))
	if err != nil {
		t.Fatal(err)
	}
	if got == v {
		t.Fatalf("JSON round-tripped %+v; the check refuses a type JSON handles", v)
	}
}
