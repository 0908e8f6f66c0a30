package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeVerifyOutput writes the first n lines Verify emits with keys keys
// into dir, skipping the keys in skip.
func writeVerifyOutput(t *testing.T, dir string, keys, n int, skip ...int) {
	t.Helper()
	var b strings.Builder
	count, sum := make([]int, keys), make([]int, keys)
	for i := range n {
		k := i % keys
		count[k]++
		sum[k] += i
		if !slices.Contains(skip, k) {
			fmt.Fprintf(&b, "%d,%d,%d\n", k, count[k], sum[k])
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "part-0-0-0"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyCommand(t *testing.T) {
	complete := t.TempDir()
	writeVerifyOutput(t, complete, 4, 40)
	missingKey := t.TempDir()
	writeVerifyOutput(t, missingKey, 4, 40, 2)
	missingDir := filepath.Join(t.TempDir(), "nope")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // in standard output
		wantErr  string // in standard error
	}{
		{name: "complete, bounded", args: []string{"--output", complete, "--keys", "4", "--count", "40"}, wantOut: ": OK"},
		{name: "complete, unbounded", args: []string{"--output", complete, "--keys", "4", "--count", "0"}, wantOut: ": OK"},
		{name: "empty, unbounded", args: []string{"--output", t.TempDir(), "--keys", "4", "--count", "0"}, wantCode: 1,
			wantOut: "no lines: the output is empty"},
		{name: "empty, default count", args: []string{"--output", t.TempDir()}, wantCode: 1, wantOut: "keys 0..15: no lines"},
		{name: "key missing, unbounded", args: []string{"--output", missingKey, "--keys", "4", "--count", "0"}, wantCode: 1,
			wantOut: "key 2: no lines (count 1 missing)"},
		{name: "missing directory, unbounded", args: []string{"--output", missingDir, "--count", "0"}, wantCode: 1,
			wantErr: "tide: verify: output directory " + missingDir + " does not exist"},
		{name: "no --output", args: nil, wantCode: 1, wantErr: "--output DIR is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runApp(t, append([]string{"verify"}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(stdout, tt.wantOut) || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("tide verify %q: exit %d, want %d with %q in stdout and %q in stderr\nstdout:\n%s\nstderr:\n%s",
					tt.args, code, tt.wantCode, tt.wantOut, tt.wantErr, stdout, stderr)
			}
		})
	}
}
