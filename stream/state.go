package stream

import (
	"fmt"

	"github.com/tide-stream/tide/codec"
	"github.com/tide-stream/tide/internal/state"
)

// ValueState holds one value per key.
type ValueState[K comparable, V any] struct {
	rt *KeyedRuntime[K]
	t  *state.Table[K, V]
}

func table[K comparable, V any](rt *KeyedRuntime[K], name string, c codec.Codec[V]) (*state.Table[K, V], error) {
	if rt.backend == nil {
		return nil, fmt.Errorf("state %q: operator %s is not keyed", name, rt.ctx.OperatorID())
	}
	t, err := state.NewTable(rt.backend, name, rt.keyCodec(), c)
	if err != nil {
		return nil, fmt.Errorf("declare state %q: %w", name, err)
	}
	return t, nil
}

// Value declares a value state. The codec defaults to codec.For[V](); a
// type it refuses (one JSON would not give back, such as a struct with an
// unexported field) is an error.
func Value[V any, K comparable](rt *KeyedRuntime[K], name string, c ...codec.Codec[V]) (*ValueState[K, V], error) {
	vc, err := pick(rt, name, c, "Value")
	if err != nil {
		return nil, err
	}
	t, err := table(rt, name, vc)
	if err != nil {
		return nil, err
	}
	return &ValueState[K, V]{rt: rt, t: t}, nil
}

// pick returns the codec given to the function fn declaring state name, or
// the default one.
func pick[V any, K comparable](rt *KeyedRuntime[K], name string, c []codec.Codec[V], fn string) (codec.Codec[V], error) {
	if len(c) > 0 && c[0] != nil {
		return c[0], nil
	}
	vc, err := codec.For[V]()
	if err != nil {
		return nil, fallbackError(fmt.Sprintf("state %q of %s", name, rt.ctx.OperatorID()), err, "pass a codec to "+fn)
	}
	return vc, nil
}

// Get returns the current key's value and whether it has one.
func (s *ValueState[K, V]) Get() (V, bool) { return s.t.Get(s.rt.kg, s.rt.key) }

// Value returns the current key's value, or the zero value.
func (s *ValueState[K, V]) Value() V {
	v, _ := s.t.Get(s.rt.kg, s.rt.key)
	return v
}

// Update sets the current key's value.
func (s *ValueState[K, V]) Update(v V) { s.t.Put(s.rt.kg, s.rt.key, v) }

// Clear removes the current key's value.
func (s *ValueState[K, V]) Clear() { s.t.Delete(s.rt.kg, s.rt.key) }

// ListState holds a list of values per key.
type ListState[K comparable, V any] struct {
	rt *KeyedRuntime[K]
	t  *state.Table[K, []V]
}

// List declares a list state. The codec of the elements defaults to
// codec.For[V](), as for Value.
func List[V any, K comparable](rt *KeyedRuntime[K], name string, c ...codec.Codec[V]) (*ListState[K, V], error) {
	vc, err := pick(rt, name, c, "List")
	if err != nil {
		return nil, err
	}
	t, err := table[K, []V](rt, name, codec.Slice[V]{Elem: vc})
	if err != nil {
		return nil, err
	}
	return &ListState[K, V]{rt: rt, t: t}, nil
}

// Get returns the current key's list. The caller must not modify it.
func (s *ListState[K, V]) Get() []V {
	v, _ := s.t.Get(s.rt.kg, s.rt.key)
	return v
}

// Add appends v to the current key's list.
func (s *ListState[K, V]) Add(v V) {
	l, _ := s.t.Get(s.rt.kg, s.rt.key)
	s.t.Put(s.rt.kg, s.rt.key, append(l, v))
}

// Update replaces the current key's list.
func (s *ListState[K, V]) Update(vs []V) { s.t.Put(s.rt.kg, s.rt.key, vs) }

// Clear removes the current key's list.
func (s *ListState[K, V]) Clear() { s.t.Delete(s.rt.kg, s.rt.key) }

// MapState holds a map per key.
type MapState[K comparable, UK comparable, UV any] struct {
	rt *KeyedRuntime[K]
	t  *state.Table[K, map[UK]UV]
}

// MapOf declares a map state. Nil codecs default to codec.For's, as for
// Value.
func MapOf[UK comparable, UV any, K comparable](rt *KeyedRuntime[K], name string, kc codec.Codec[UK], vc codec.Codec[UV]) (*MapState[K, UK, UV], error) {
	kc, err := pick(rt, name, []codec.Codec[UK]{kc}, "MapOf")
	if err != nil {
		return nil, err
	}
	vc, err = pick(rt, name, []codec.Codec[UV]{vc}, "MapOf")
	if err != nil {
		return nil, err
	}
	t, err := table[K, map[UK]UV](rt, name, codec.Map[UK, UV]{Key: kc, Val: vc})
	if err != nil {
		return nil, err
	}
	return &MapState[K, UK, UV]{rt: rt, t: t}, nil
}

// Get returns the value of uk in the current key's map.
func (s *MapState[K, UK, UV]) Get(uk UK) (UV, bool) {
	m, _ := s.t.Get(s.rt.kg, s.rt.key)
	v, ok := m[uk]
	return v, ok
}

// Put sets uk to v in the current key's map.
func (s *MapState[K, UK, UV]) Put(uk UK, v UV) {
	m, ok := s.t.Get(s.rt.kg, s.rt.key)
	if !ok {
		m = make(map[UK]UV)
		s.t.Put(s.rt.kg, s.rt.key, m)
	}
	m[uk] = v
}

// Remove deletes uk from the current key's map.
func (s *MapState[K, UK, UV]) Remove(uk UK) {
	if m, ok := s.t.Get(s.rt.kg, s.rt.key); ok {
		delete(m, uk)
	}
}

// All calls fn for each entry of the current key's map until fn returns false.
func (s *MapState[K, UK, UV]) All(fn func(UK, UV) bool) {
	m, _ := s.t.Get(s.rt.kg, s.rt.key)
	for k, v := range m {
		if !fn(k, v) {
			return
		}
	}
}

// Clear removes the current key's map.
func (s *MapState[K, UK, UV]) Clear() { s.t.Delete(s.rt.kg, s.rt.key) }

// ReducingState keeps, per key, the reduction of the values added.
type ReducingState[K comparable, V any] struct {
	rt *KeyedRuntime[K]
	t  *state.Table[K, V]
	f  func(acc, v V) V
}

// Reducing declares a reducing state.
func Reducing[V any, K comparable](rt *KeyedRuntime[K], name string, f func(acc, v V) V, c ...codec.Codec[V]) (*ReducingState[K, V], error) {
	vc, err := pick(rt, name, c, "Reducing")
	if err != nil {
		return nil, err
	}
	t, err := table(rt, name, vc)
	if err != nil {
		return nil, err
	}
	return &ReducingState[K, V]{rt: rt, t: t, f: f}, nil
}

// Get returns the current key's reduction.
func (s *ReducingState[K, V]) Get() (V, bool) { return s.t.Get(s.rt.kg, s.rt.key) }

// Add folds v into the current key's reduction and returns the result.
func (s *ReducingState[K, V]) Add(v V) V {
	if acc, ok := s.t.Get(s.rt.kg, s.rt.key); ok {
		v = s.f(acc, v)
	}
	s.t.Put(s.rt.kg, s.rt.key, v)
	return v
}

// Clear removes the current key's reduction.
func (s *ReducingState[K, V]) Clear() { s.t.Delete(s.rt.kg, s.rt.key) }
