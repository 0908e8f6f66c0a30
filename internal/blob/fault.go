package blob

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// ErrInjected is the error an injected fault returns when its Fault.Err is
// nil.
var ErrInjected = errors.New("blob: injected fault")

// Op names the Storage calls a Fault applies to.
type Op uint8

// The operations a Fault can target. OpRead covers Read and ReadRange.
const (
	OpWrite Op = 1 << iota
	OpRead
	OpList
	OpDelete
)

func (o Op) String() string {
	var names []string
	for _, n := range []struct {
		op   Op
		name string
	}{{OpWrite, "write"}, {OpRead, "read"}, {OpList, "list"}, {OpDelete, "delete"}} {
		if o&n.op != 0 {
			names = append(names, n.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}

// Fault describes calls to break. A call matches when its operation is in
// Ops and its key (the prefix, for List) starts with Prefix.
type Fault struct {
	// Ops are the operations the fault applies to (a bit set).
	Ops Op
	// Prefix selects keys; "" matches every key.
	Prefix string
	// Times is how many matching calls the fault breaks before it is
	// removed; 0 means every matching call until Reset.
	Times int
	// Corrupt, when set, makes the call succeed with damaged data instead of
	// failing: a Read or ReadRange returns the bytes with one bit flipped in
	// the middle; a Write stores them so. It has no effect on List and
	// Delete, which then fail with Err.
	Corrupt bool
	// Err is the error a failing call returns (wrapped with the key);
	// ErrInjected when nil.
	Err error
}

// FaultInjector wraps a Storage and breaks the calls that match its faults,
// for tests of torn and corrupt checkpoints (pebble's errorfs). It is safe
// for concurrent use; calls that match no fault pass through unchanged.
type FaultInjector struct {
	s Storage

	mu struct {
		sync.Mutex
		faults []*Fault // guarded by mu; in the order injected, the first match wins
	}
}

var _ Storage = (*FaultInjector)(nil)

// NewFaultInjector returns s wrapped in a FaultInjector with no faults.
func NewFaultInjector(s Storage) *FaultInjector {
	return &FaultInjector{s: s}
}

// Inject adds a fault. Faults are checked in the order injected.
func (f *FaultInjector) Inject(ft Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mu.faults = append(f.mu.faults, &ft)
}

// FailNextWrite makes the next Write of a key starting with prefix fail
// with err (ErrInjected if nil) without writing anything.
func (f *FaultInjector) FailNextWrite(prefix string, err error) {
	f.Inject(Fault{Ops: OpWrite, Prefix: prefix, Times: 1, Err: err})
}

// FailNextRead makes the next Read or ReadRange of a key starting with
// prefix fail with err (ErrInjected if nil).
func (f *FaultInjector) FailNextRead(prefix string, err error) {
	f.Inject(Fault{Ops: OpRead, Prefix: prefix, Times: 1, Err: err})
}

// CorruptReads makes every Read and ReadRange of a key starting with prefix
// return its bytes with one bit flipped, until Reset.
func (f *FaultInjector) CorruptReads(prefix string) {
	f.Inject(Fault{Ops: OpRead, Prefix: prefix, Corrupt: true})
}

// Pending returns how many faults are still armed: those with Times left
// and those without a limit. A test that injected a one-off fault checks
// with it that the fault fired.
func (f *FaultInjector) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.mu.faults)
}

// Reset removes all faults.
func (f *FaultInjector) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mu.faults = nil
}

// match returns a copy of the first fault matching op and key, consuming
// one of its Times, or nil.
func (f *FaultInjector) match(op Op, key string) *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ft := range f.mu.faults {
		if ft.Ops&op == 0 || !strings.HasPrefix(key, ft.Prefix) {
			continue
		}
		c := *ft
		if ft.Times > 0 {
			ft.Times--
			if ft.Times == 0 {
				f.mu.faults = append(f.mu.faults[:i:i], f.mu.faults[i+1:]...)
			}
		}
		return &c
	}
	return nil
}

func (ft *Fault) error(op Op, key string) error {
	err := ft.Err
	if err == nil {
		err = ErrInjected
	}
	return fmt.Errorf("blob: %s %q: %w", op, key, err)
}

// corrupt returns a copy of data with one bit flipped in its middle byte.
// Empty data is returned as one garbage byte, so that the damage shows.
func corrupt(data []byte) []byte {
	if len(data) == 0 {
		return []byte{0xff}
	}
	c := make([]byte, len(data))
	copy(c, data)
	c[len(c)/2] ^= 0x01
	return c
}

// Write implements Storage.
func (f *FaultInjector) Write(ctx context.Context, key string, data []byte) error {
	if ft := f.match(OpWrite, key); ft != nil {
		if !ft.Corrupt {
			return ft.error(OpWrite, key)
		}
		data = corrupt(data)
	}
	return f.s.Write(ctx, key, data)
}

// WriteNew implements Storage.
func (f *FaultInjector) WriteNew(ctx context.Context, key string, data []byte) error {
	if ft := f.match(OpWrite, key); ft != nil {
		if !ft.Corrupt {
			return ft.error(OpWrite, key)
		}
		data = corrupt(data)
	}
	return f.s.WriteNew(ctx, key, data)
}

// Read implements Storage.
func (f *FaultInjector) Read(ctx context.Context, key string) ([]byte, error) {
	ft := f.match(OpRead, key)
	if ft != nil && !ft.Corrupt {
		return nil, ft.error(OpRead, key)
	}
	data, err := f.s.Read(ctx, key)
	if err != nil || ft == nil {
		return data, err
	}
	return corrupt(data), nil
}

// ReadRange implements Storage.
func (f *FaultInjector) ReadRange(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	ft := f.match(OpRead, key)
	if ft != nil && !ft.Corrupt {
		return nil, ft.error(OpRead, key)
	}
	data, err := f.s.ReadRange(ctx, key, offset, length)
	if err != nil || ft == nil {
		return data, err
	}
	return corrupt(data), nil
}

// List implements Storage.
func (f *FaultInjector) List(ctx context.Context, prefix string) ([]string, error) {
	if ft := f.match(OpList, prefix); ft != nil {
		return nil, ft.error(OpList, prefix)
	}
	return f.s.List(ctx, prefix)
}

// Delete implements Storage.
func (f *FaultInjector) Delete(ctx context.Context, key string) error {
	if ft := f.match(OpDelete, key); ft != nil {
		return ft.error(OpDelete, key)
	}
	return f.s.Delete(ctx, key)
}

// Close implements Storage; it closes the wrapped Storage.
func (f *FaultInjector) Close() error { return f.s.Close() }
