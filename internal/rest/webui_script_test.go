package rest

import (
	"os/exec"
	"testing"
)

// TestWebUIScriptParses checks the UI's script with Node's parser, when
// Node is installed: a syntax error leaves the page empty in every browser,
// and nothing else here but the browser test would notice.
func TestWebUIScriptParses(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	if out, err := exec.Command(node, "--check", "ui/app.js").CombinedOutput(); err != nil {
		t.Fatalf("the web UI's script does not parse: %v\n%s", err, out)
	}
}
