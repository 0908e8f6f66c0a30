package cli

import (
	"strings"
	"testing"
)

// TestAutoscalerBadInput: contradicting bounds, an unknown policy or
// driver, a malformed CPU quantity and an unreachable JobManager are clear
// errors, and no TaskManager is started for them.
func TestAutoscalerBadInput(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--min", "3", "--max", "2"}, "max"},
		{[]string{"--min", "0"}, "min"},
		{[]string{"--policy", "magic"}, `--policy "magic"`},
		{[]string{"--driver", "ssh"}, `--driver "ssh"`},
		{[]string{"--cpu-request", "lots"}, "--cpu-request"},
		{[]string{"--rest", "localhost:8081"}, "not an http(s) URL"},
	} {
		r := e.tide(append([]string{"autoscaler", "--port", "-1"}, tc.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("tide autoscaler %v: exit %d, stderr %q; want an error naming %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	// The kubernetes driver without a cluster fails at once, saying so.
	r := e.tide("autoscaler", "--port", "-1", "--driver", "kubernetes", "--kubeconfig", "/nonexistent", "--dry-run")
	if r.code == 0 || !strings.Contains(r.stderr, "kubernetes driver") {
		t.Errorf("kubernetes driver without a cluster: exit %d, %q", r.code, r.stderr)
	}
}
