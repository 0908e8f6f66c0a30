package rest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWebUIScriptParses checks the embedded page's script with Node's
// parser, when Node is installed: a syntax error leaves the page empty in
// every browser, and nothing else here would notice.
func TestWebUIScriptParses(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	page := indexHTML
	start := strings.Index(page, "<script>")
	end := strings.LastIndex(page, "</script>")
	if start < 0 || end < start {
		t.Fatal("the web UI has no inline script")
	}
	path := filepath.Join(t.TempDir(), "ui.js")
	if err := os.WriteFile(path, []byte(page[start+len("<script>"):end]), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(node, "--check", path).CombinedOutput(); err != nil {
		t.Fatalf("the web UI's script does not parse: %v\n%s", err, out)
	}
}
