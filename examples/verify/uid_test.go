package verify_test

import (
	"testing"

	"github.com/tide-stream/tide/examples/verify"
	"github.com/tide-stream/tide/stream"
)

// TestStatefulOperatorsHaveUIDs: the source, the keyed function and the
// sink keep their documented ids, so that checkpoints and savepoints of
// Verify restore into later versions of the job.
func TestStatefulOperatorsHaveUIDs(t *testing.T) {
	env := stream.NewEnv(128)
	if err := verify.Build(env, []string{"--output", t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	g, err := env.Plan()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"VerifySource": "verify-source", "CountSum": "count-sum", "FileSink": "file-sink"}
	for _, op := range g.Operators {
		if w, ok := want[op.Name]; ok {
			if op.UID != w {
				t.Errorf("operator %s: uid %q, want %q", op.Name, op.UID, w)
			}
			delete(want, op.Name)
		}
	}
	for name := range want {
		t.Errorf("no operator %s", name)
	}
}
