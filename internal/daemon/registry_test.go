//go:build unix

package daemon

import (
	"strings"
	"testing"
)

func TestKindValidate(t *testing.T) {
	for _, tt := range []struct {
		kind Kind
		ok   bool
	}{
		{KindTaskManager, true},
		{KindStandaloneJob, true},
		{"autoscaler2", true},
		{"", false},
		{"task-manager", false},
		{"../x", false},
		{"TaskManager", false},
	} {
		if err := tt.kind.validate(); (err == nil) != tt.ok {
			t.Errorf("Kind(%q).validate() = %v, want ok=%v", tt.kind, err, tt.ok)
		}
	}
}

func TestIndexOf(t *testing.T) {
	r := &registry{dir: "/h/pids", kind: KindTaskManager}
	for _, tt := range []struct {
		name string
		want int
		ok   bool
	}{
		{"taskmanager-1.pid", 1, true},
		{"taskmanager-12.pid", 12, true},
		{"taskmanager-0.pid", 0, false},
		{"taskmanager-.pid", 0, false},
		{"taskmanager-+1.pid", 0, false},
		{"taskmanager-1.pid.tmp", 0, false},
		{".taskmanager-1.pid.tmp123", 0, false},
		{"taskmanager.lock", 0, false},
		{"standalonejob-1.pid", 0, false},
		{"taskmanager-99999999999999999999999.pid", 0, false},
	} {
		got, ok := r.indexOf(tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("indexOf(%q) = %d, %v; want %d, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	if !r.owns("/h/pids/taskmanager-3.pid") || r.owns("/other/taskmanager-3.pid") || r.owns("/h/pids/x.pid") {
		t.Error("owns accepts a path outside the registry or rejects its own")
	}
}

func TestOpenRegistryErrors(t *testing.T) {
	if _, err := openRegistry("", KindTaskManager); err == nil {
		t.Error("openRegistry with empty home succeeded")
	}
	if _, err := Running(t.TempDir(), "bad/kind"); err == nil || !strings.Contains(err.Error(), "invalid kind") {
		t.Errorf("Running with a bad kind = %v, want an invalid kind error", err)
	}
}
