package taskmanager

import (
	"sync"

	"github.com/tide-stream/tide/internal/keygroup"
	"github.com/tide-stream/tide/internal/state"
	"github.com/tide-stream/tide/internal/task"
)

// localState keeps the keyed backends of subtasks that ended cleanly at a
// checkpoint, so that the next attempt on this TaskManager takes the key
// groups it keeps from memory (local recovery). Only backends of the newest
// checkpoint are kept: an older one can no longer be restored exactly.
type localState struct {
	mu struct {
		sync.Mutex
		cp      uint64
		entries map[string][]*state.Backend // by operator id
	}
}

func newLocalState() *localState {
	l := &localState{}
	l.mu.entries = map[string][]*state.Backend{}
	return l
}

// Put implements task.LocalState.
func (l *localState) Put(op string, cp uint64, b *state.Backend) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case cp < l.mu.cp:
		return
	case cp > l.mu.cp:
		clear(l.mu.entries)
		l.mu.cp = cp
	}
	l.mu.entries[op] = append(l.mu.entries[op], b)
}

// Take implements task.LocalState.
func (l *localState) Take(op string, cp uint64, r keygroup.Range) *state.Backend {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cp != l.mu.cp {
		return nil
	}
	best, most := -1, 0
	for i, b := range l.mu.entries[op] {
		if n := b.Range().Intersect(r).Len(); n > most {
			best, most = i, n
		}
	}
	if best < 0 {
		return nil
	}
	es := l.mu.entries[op]
	b := es[best]
	l.mu.entries[op] = append(es[:best], es[best+1:]...)
	return b
}

// completed drops what is kept once a newer checkpoint is complete: no
// restore will ask for the older one again.
func (l *localState) completed(cp uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.cp < cp {
		clear(l.mu.entries)
		l.mu.cp = 0
	}
}

// forget drops everything, e.g. when the TaskManager registers anew and its
// old attempts' state is no concern of the next job attempt.
func (l *localState) forget() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.mu.entries)
	l.mu.cp = 0
}

// localState returns the local state store, or nil when local recovery is off.
func (tm *TaskManager) localState() task.LocalState {
	if tm.cfg.NoLocalRecovery {
		return nil
	}
	return tm.local
}
