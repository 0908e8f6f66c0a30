package slotpool

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func newPool(t *testing.T, tms ...TaskManager) *Pool {
	t.Helper()
	p := New()
	for _, tm := range tms {
		if err := p.Register(tm); err != nil {
			t.Fatalf("Register(%+v): %v", tm, err)
		}
	}
	return p
}

func tm(id string, slots int) TaskManager {
	return TaskManager{ID: id, Slots: slots, DataAddr: id + ":7000", Host: "host-" + id}
}

func TestRegisterErrors(t *testing.T) {
	p := newPool(t, tm("a", 1))
	for _, tc := range []struct {
		tm   TaskManager
		want string
	}{
		{tm("a", 2), `"a": already registered`},
		{tm("b", 0), `"b": 0 slots`},
		{TaskManager{Slots: 1}, "empty id"},
	} {
		err := p.Register(tc.tm)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Register(%+v) = %v, want error containing %q", tc.tm, err, tc.want)
		}
	}
	if got := p.Available(); got != 1 {
		t.Fatalf("Available after failed registrations = %d, want 1", got)
	}
}

func TestLifecycle(t *testing.T) {
	p := newPool(t, tm("a", 2), tm("b", 1), tm("c", 3))
	if got := p.Available(); got != 6 {
		t.Fatalf("Available = %d, want 6", got)
	}
	if err := p.MarkLeaving("c"); err != nil {
		t.Fatalf("MarkLeaving(c): %v", err)
	}
	if !p.Leaving("c") || p.Leaving("a") || p.Leaving("zz") {
		t.Fatal("Leaving reports wrong flags")
	}
	if err := p.MarkLeaving("c"); err == nil || !strings.Contains(err.Error(), "already leaving") {
		t.Fatalf("second MarkLeaving(c) = %v, want already leaving", err)
	}
	if err := p.MarkLeaving("zz"); err == nil || !strings.Contains(err.Error(), `"zz"`) {
		t.Fatalf("MarkLeaving(zz) = %v, want an error naming zz", err)
	}
	if got, total := p.Available(), p.Total(); got != 3 || total != 6 {
		t.Fatalf("Available, Total = %d, %d; want 3, 6", got, total)
	}
	wantIDs := []string{"a", "b", "c"}
	var ids []string
	for _, x := range p.TaskManagers() {
		ids = append(ids, x.ID)
	}
	if !cmp.Equal(ids, wantIDs) {
		t.Fatalf("TaskManagers = %v, want %v", ids, wantIDs)
	}
	if !p.Remove("b") || p.Remove("b") {
		t.Fatal("Remove(b) should succeed once")
	}
	if got := p.Available(); got != 2 {
		t.Fatalf("Available after Remove = %d, want 2", got)
	}
	if _, ok := p.Get("b"); ok {
		t.Fatal("Get(b) after Remove reported ok")
	}
	// Re-registering a removed id is allowed (registration ids are the caller's concern).
	if err := p.Register(tm("b", 1)); err != nil {
		t.Fatalf("Register(b) again: %v", err)
	}
	if got := p.TaskManagers(); got[len(got)-1].ID != "b" {
		t.Fatalf("re-registered b should be last in registration order, got %v", got)
	}
}

func s(tm string, i int) Slot { return Slot{TaskManager: tm, Index: i} }

func TestAssign(t *testing.T) {
	tests := []struct {
		name    string
		tms     []TaskManager
		leaving []string
		n       int
		prev    []Slot
		want    []Slot
		wantErr bool
	}{
		{name: "round robin", tms: []TaskManager{tm("a", 2), tm("b", 2)}, n: 4,
			want: []Slot{s("a", 0), s("b", 0), s("a", 1), s("b", 1)}},
		{name: "spread before filling", tms: []TaskManager{tm("a", 4), tm("b", 1), tm("c", 2)}, n: 4,
			want: []Slot{s("a", 0), s("b", 0), s("c", 0), s("a", 1)}},
		{name: "negative", tms: []TaskManager{tm("a", 1)}, n: -1, wantErr: true},
		{name: "zero", tms: []TaskManager{tm("a", 1)}, n: 0, want: []Slot{}},
		{name: "not enough", tms: []TaskManager{tm("a", 1), tm("b", 1)}, n: 3, wantErr: true},
		{name: "leaving slots do not count", tms: []TaskManager{tm("a", 1), tm("b", 1)}, leaving: []string{"a"}, n: 2, wantErr: true},
		{name: "keep previous on scale up", tms: []TaskManager{tm("a", 2), tm("b", 2), tm("c", 2)}, n: 4,
			prev: []Slot{s("b", 1), s("a", 0)},
			want: []Slot{s("b", 1), s("a", 0), s("c", 0), s("a", 1)}},
		{name: "scale down keeps prefix", tms: []TaskManager{tm("a", 2), tm("b", 2)}, n: 2,
			prev: []Slot{s("a", 0), s("b", 0), s("a", 1), s("b", 1)},
			want: []Slot{s("a", 0), s("b", 0)}},
		{name: "lost tm slots move", tms: []TaskManager{tm("a", 2), tm("c", 1)}, n: 3,
			prev: []Slot{s("a", 0), s("b", 0), s("a", 1)},
			want: []Slot{s("a", 0), s("c", 0), s("a", 1)}},
		{name: "leaving tm slots move", tms: []TaskManager{tm("a", 1), tm("b", 1), tm("c", 1)}, leaving: []string{"b"}, n: 2,
			prev: []Slot{s("a", 0), s("b", 0)},
			want: []Slot{s("a", 0), s("c", 0)}},
		{name: "duplicate and out of range previous slots", tms: []TaskManager{tm("a", 2)}, n: 2,
			prev: []Slot{s("a", 1), s("a", 1), s("a", 7)},
			want: []Slot{s("a", 1), s("a", 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPool(t, tt.tms...)
			for _, id := range tt.leaving {
				if err := p.MarkLeaving(id); err != nil {
					t.Fatal(err)
				}
			}
			got, err := p.Assign(tt.n, tt.prev)
			if tt.wantErr {
				if err == nil || (tt.n >= 0 && !errors.Is(err, ErrNotEnoughSlots)) {
					t.Fatalf("Assign = %v, %v; want ErrNotEnoughSlots", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Assign: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("Assign mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAssignProperties checks, over many pool shapes, that every assignment
// uses distinct usable slots and that loads differ by at most one wherever
// the capacity allows it.
func TestAssignProperties(t *testing.T) {
	for shape := range 200 {
		p := New()
		nTM := shape%5 + 1
		for i := range nTM {
			_ = p.Register(tm(string(rune('a'+i)), (shape/(i+1))%4+1))
		}
		avail := p.Available()
		for n := 0; n <= avail; n++ {
			got, err := p.Assign(n, nil)
			if err != nil {
				t.Fatalf("shape %d: Assign(%d) of %d: %v", shape, n, avail, err)
			}
			seen := map[Slot]bool{}
			load := map[string]int{}
			for _, sl := range got {
				if seen[sl] || !p.usable(sl) {
					t.Fatalf("shape %d: Assign(%d) = %v: slot %v reused or unusable", shape, n, got, sl)
				}
				seen[sl] = true
				load[sl.TaskManager]++
			}
			// No TaskManager with spare capacity may have two fewer slots than another.
			for _, a := range p.TaskManagers() {
				for _, b := range p.TaskManagers() {
					if load[a.ID] < a.Slots && load[b.ID] > load[a.ID]+1 {
						t.Fatalf("shape %d: Assign(%d) = %v: unbalanced %s=%d vs %s=%d", shape, n, got, a.ID, load[a.ID], b.ID, load[b.ID])
					}
				}
			}
		}
		if _, err := p.Assign(avail+1, nil); !errors.Is(err, ErrNotEnoughSlots) {
			t.Fatalf("shape %d: Assign(%d) of %d = %v, want ErrNotEnoughSlots", shape, avail+1, avail, err)
		}
	}
}
