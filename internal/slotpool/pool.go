package slotpool

import (
	"errors"
	"fmt"
	"slices"
)

// TaskManager is one registered TaskManager.
type TaskManager struct {
	// ID is the registration id; a TaskManager that registers again gets a
	// new one.
	ID string
	// Slots is the number of slots it offers (taskmanager.numberOfTaskSlots).
	Slots int
	// DataAddr is the host:port of its data-plane listener.
	DataAddr string
	// Host is the machine it runs on, for display.
	Host string
}

// Slot names one slot: the Index-th slot of a TaskManager.
type Slot struct {
	TaskManager string
	Index       int
}

func (s Slot) String() string { return fmt.Sprintf("%s/%d", s.TaskManager, s.Index) }

// ErrNotEnoughSlots is wrapped by Assign when fewer slots are available than
// requested.
var ErrNotEnoughSlots = errors.New("slotpool: not enough slots")

// entry is a registered TaskManager and its lifecycle flag.
type entry struct {
	tm      TaskManager
	leaving bool
}

// Pool is the set of registered TaskManagers in registration order. It is not
// safe for concurrent use.
type Pool struct {
	entries []*entry // registration order
	byID    map[string]*entry
}

// New returns an empty pool.
func New() *Pool { return &Pool{byID: make(map[string]*entry)} }

// Register adds a TaskManager. It fails for an empty or duplicate id and for
// fewer than one slot.
// MaxSlots is the most slots one TaskManager may offer: what a
// registration claims is bounded, so that the pool's sums cannot overflow.
const MaxSlots = 1 << 16

func (p *Pool) Register(tm TaskManager) error {
	if tm.ID == "" {
		return errors.New("register task manager: empty id")
	}
	if _, ok := p.byID[tm.ID]; ok {
		return fmt.Errorf("register task manager %q: already registered", tm.ID)
	}
	if tm.Slots < 1 || tm.Slots > MaxSlots {
		return fmt.Errorf("register task manager %q: %d slots, want 1 to %d", tm.ID, tm.Slots, MaxSlots)
	}
	e := &entry{tm: tm}
	p.entries = append(p.entries, e)
	p.byID[tm.ID] = e
	return nil
}

// Remove unregisters a TaskManager and reports whether it was registered.
func (p *Pool) Remove(id string) bool {
	e, ok := p.byID[id]
	if !ok {
		return false
	}
	delete(p.byID, id)
	p.entries = slices.DeleteFunc(p.entries, func(x *entry) bool { return x == e })
	return true
}

// MarkLeaving records that a TaskManager announced a graceful stop. Its slots
// no longer count as available and Assign no longer uses them. It fails for
// an unknown id or a TaskManager already leaving.
func (p *Pool) MarkLeaving(id string) error {
	e, ok := p.byID[id]
	if !ok {
		return fmt.Errorf("mark task manager %q leaving: not registered", id)
	}
	if e.leaving {
		return fmt.Errorf("mark task manager %q leaving: already leaving", id)
	}
	e.leaving = true
	return nil
}

// Leaving reports whether a registered TaskManager is leaving.
func (p *Pool) Leaving(id string) bool {
	e, ok := p.byID[id]
	return ok && e.leaving
}

// Get returns a registered TaskManager.
func (p *Pool) Get(id string) (TaskManager, bool) {
	e, ok := p.byID[id]
	if !ok {
		return TaskManager{}, false
	}
	return e.tm, true
}

// Available is the number of slots of registered TaskManagers that are not
// leaving.
func (p *Pool) Available() int {
	n := 0
	for _, e := range p.entries {
		if !e.leaving {
			n += e.tm.Slots
		}
	}
	return n
}

// Total is the number of slots of all registered TaskManagers, leaving ones
// included.
func (p *Pool) Total() int {
	n := 0
	for _, e := range p.entries {
		n += e.tm.Slots
	}
	return n
}

// TaskManagers returns the registered TaskManagers, leaving ones included, in
// registration order.
func (p *Pool) TaskManagers() []TaskManager {
	out := make([]TaskManager, len(p.entries))
	for i, e := range p.entries {
		out[i] = e.tm
	}
	return out
}

// usable reports whether s names a slot that Assign may use.
func (p *Pool) usable(s Slot) bool {
	e, ok := p.byID[s.TaskManager]
	return ok && !e.leaving && s.Index >= 0 && s.Index < e.tm.Slots
}

// Assign picks n slots for a deployment; slot k of the result hosts subtask k
// of every vertex. prev is the previous deployment's assignment: prev[k] is
// kept when it is still usable (its TaskManager is registered and not
// leaving), so subtask k stays where its state is. The other positions are
// filled from the least-loaded TaskManager (fewest slots in this assignment),
// ties broken by registration order, each taking its lowest free slot index;
// this spreads the deployment round-robin across TaskManagers. Assign fails
// when fewer than n slots are available; the pool is not changed either way.
func (p *Pool) Assign(n int, prev []Slot) ([]Slot, error) {
	if n < 0 {
		return nil, fmt.Errorf("assign %d slots: negative count", n)
	}
	if avail := p.Available(); avail < n {
		return nil, fmt.Errorf("assign %d slots: %d available: %w", n, avail, ErrNotEnoughSlots)
	}
	out := make([]Slot, n)
	filled := make([]bool, n)
	taken := make(map[Slot]bool, n)
	load := make(map[string]int, len(p.entries))
	for k := range min(n, len(prev)) {
		s := prev[k]
		if p.usable(s) && !taken[s] {
			out[k], filled[k], taken[s] = s, true, true
			load[s.TaskManager]++
		}
	}
	for k := range n {
		if filled[k] {
			continue
		}
		s, ok := p.leastLoadedFree(load, taken)
		if !ok {
			// Available counted enough slots, so a free one must exist.
			return nil, fmt.Errorf("assign %d slots: no free slot for position %d: %w", n, k, ErrNotEnoughSlots)
		}
		out[k], taken[s] = s, true
		load[s.TaskManager]++
	}
	return out, nil
}

// leastLoadedFree returns the lowest free slot of the usable TaskManager with
// the fewest assigned slots, earliest registered first.
func (p *Pool) leastLoadedFree(load map[string]int, taken map[Slot]bool) (Slot, bool) {
	var best Slot
	bestLoad, found := 0, false
	for _, e := range p.entries {
		if e.leaving || load[e.tm.ID] >= e.tm.Slots {
			continue
		}
		if found && load[e.tm.ID] >= bestLoad {
			continue
		}
		for i := range e.tm.Slots {
			s := Slot{TaskManager: e.tm.ID, Index: i}
			if !taken[s] {
				best, bestLoad, found = s, load[e.tm.ID], true
				break
			}
		}
	}
	return best, found
}
