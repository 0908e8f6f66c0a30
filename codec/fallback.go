package codec

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// FallbackError says why For gives no codec for Type: it has no built-in
// codec, and the JSON fallback would not give back the values it encodes,
// or cannot encode them at all. JSON drops unexported fields and fields
// tagged `json:"-"` without a word, so a value that crossed a subtask
// boundary or came back from a checkpoint would differ from the one sent,
// and keys that differ only there would share one key group.
type FallbackError struct {
	// Type is the type For was asked for.
	Type reflect.Type
	// Field is the path from Type to the value JSON mishandles, such as
	// "ts", "Inner.ts" or "Items[].ts" ("[]" stands for the elements of a
	// slice, an array or a map); empty when it is Type itself.
	Field string
	// Fix is the change of the type that makes it fit the fallback, such as
	// "export the field"; empty when only a codec of its own helps.
	Fix string
	// what and why complete the message: "type T <what>: <why>", or
	// "type T: <why>" when Type itself is the problem.
	what, why string
}

func (e *FallbackError) Error() string {
	if e.what == "" {
		return fmt.Sprintf("type %v: %s", e.Type, e.why)
	}
	return fmt.Sprintf("type %v %s: %s", e.Type, e.what, e.why)
}

var (
	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// checkJSON reports the first part of t that JSON does not round-trip, the
// way encoding/json's encoder and decoder treat it. It walks structs
// (including embedded ones, whose fields JSON promotes), pointers, slices,
// arrays and maps; a type with its own marshalling methods (json.Marshaler
// or encoding.TextMarshaler, with the matching unmarshaler) is taken as it is.
//
// It does not see what only values show: NaN and infinite floats, which
// JSON refuses, and fields of embedded structs that JSON drops because two
// of them have the same name.
func checkJSON(t reflect.Type) error {
	c := jsonChecker{root: t, seen: map[jsonVisit]bool{}}
	return c.check(t, "", false)
}

type jsonChecker struct {
	root reflect.Type
	// seen holds the types being or already checked, so that recursive
	// types end.
	seen map[jsonVisit]bool
}

// jsonVisit is a type and whether its values are addressable where the
// encoder meets them: encoding/json calls a method with a pointer receiver
// only on addressable values (behind a pointer, in a slice), never on the
// value given to Marshal, a struct field of it or a map value.
type jsonVisit struct {
	t    reflect.Type
	addr bool
}

// fail reports that the value at path is mishandled: what says what it is
// (after "type T has field F of"), why what JSON does.
func (c *jsonChecker) fail(path, what, why, fix string) *FallbackError {
	switch {
	case path == "":
		what = ""
	case strings.HasSuffix(path, "[]"):
		what = fmt.Sprintf("has elements %q of %s", path, what)
	default:
		what = fmt.Sprintf("has field %q of %s", path, what)
	}
	return &FallbackError{Type: c.root, Field: path, Fix: fix, what: what, why: why}
}

func (c *jsonChecker) check(t reflect.Type, path string, addr bool) error {
	v := jsonVisit{t, addr}
	if c.seen[v] {
		return nil
	}
	c.seen[v] = true
	if marshalsItself(t, addr) {
		return nil
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.String:
		return nil
	case reflect.Interface:
		return c.fail(path, "interface type "+t.String(), "the JSON fallback codec cannot decode it into the type it had", "")
	case reflect.Pointer:
		return c.check(t.Elem(), path, true)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !marshalsItself(t.Elem(), true) {
			return nil // base64
		}
		return c.check(t.Elem(), path+"[]", true)
	case reflect.Array:
		return c.check(t.Elem(), path+"[]", addr)
	case reflect.Map:
		if !jsonKey(t.Key()) {
			return c.fail(path, "type "+t.String(), "the JSON fallback codec cannot encode its keys", "")
		}
		return c.check(t.Elem(), path+"[]", false)
	case reflect.Struct:
		return c.checkStruct(t, path, addr)
	}
	// Complex numbers, channels, functions, unsafe pointers.
	return c.fail(path, "type "+t.String(), "the JSON fallback codec cannot encode it", "")
}

func (c *jsonChecker) checkStruct(t reflect.Type, path string, addr bool) error {
	const drop = "the JSON fallback codec would drop it"
	drops := func(p, what, fix string) error {
		pt := reflect.PointerTo(t)
		if !addr && (pt.Implements(jsonMarshaler) || pt.Implements(textMarshaler)) {
			// The likely mistake: a marshalling method the encoder never calls.
			fix = "give the marshalling methods of " + t.String() + " a value receiver"
		}
		return &FallbackError{Type: c.root, Field: p, Fix: fix, what: fmt.Sprintf(what, p), why: drop}
	}
	for i := range t.NumField() {
		sf := t.Field(i)
		p := sf.Name
		if path != "" {
			p = path + "." + sf.Name
		}
		if sf.Anonymous {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case !sf.IsExported() && ft.Kind() != reflect.Struct:
				return drops(p, "has unexported embedded field %q", "export its type")
			case !sf.IsExported() && sf.Type.Kind() == reflect.Pointer:
				return &FallbackError{Type: c.root, Field: p, Fix: "embed the struct, not a pointer to it",
					what: fmt.Sprintf("has field %q, an embedded pointer to an unexported struct type", p),
					why:  "the JSON fallback codec cannot decode into it"}
			}
			// JSON promotes the fields of an embedded struct, exported or not.
		} else if !sf.IsExported() {
			return drops(p, "has unexported field %q", "export the field")
		}
		if sf.Tag.Get("json") == "-" {
			return drops(p, "has field %q tagged `json:\"-\"`", "remove the tag")
		}
		if err := c.check(sf.Type, p, addr); err != nil {
			return err
		}
	}
	return nil
}

// marshalsItself reports whether JSON encodes t with t's own methods and
// decodes it with the matching ones. The encoder calls a method with a
// pointer receiver only on addressable values; the decoder always can.
func marshalsItself(t reflect.Type, addr bool) bool {
	pt := reflect.PointerTo(t)
	has := func(i reflect.Type) bool { return t.Implements(i) || addr && pt.Implements(i) }
	return has(jsonMarshaler) && pt.Implements(jsonUnmarshaler) ||
		has(textMarshaler) && pt.Implements(textUnmarshaler)
}

// jsonKey reports whether JSON encodes and decodes map keys of type t.
func jsonKey(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return t.Implements(textMarshaler) && reflect.PointerTo(t).Implements(textUnmarshaler)
}
