package wordcount_test

import (
	"testing"

	"github.com/tide-stream/tide/examples/wordcount"
	"github.com/tide-stream/tide/stream"
)

// TestStatefulOperatorsHaveUIDs: the source, the keyed count and the sink
// keep their documented ids, so that checkpoints and savepoints of
// WordCount restore into later versions of the job.
func TestStatefulOperatorsHaveUIDs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want map[string]string
	}{
		{nil, map[string]string{"Text": "text-source", "Count": "count", "Print": "print"}},
		{[]string{"--output", t.TempDir()}, map[string]string{"Text": "text-source", "Count": "count", "FileSink": "file-sink"}},
	} {
		env := stream.NewEnv(128)
		if err := wordcount.Build(env, tc.args); err != nil {
			t.Fatal(err)
		}
		g, err := env.Plan()
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range g.Operators {
			if w, ok := tc.want[op.Name]; ok {
				if op.UID != w {
					t.Errorf("%v: operator %s: uid %q, want %q", tc.args, op.Name, op.UID, w)
				}
				delete(tc.want, op.Name)
			}
		}
		for name := range tc.want {
			t.Errorf("%v: no operator %s", tc.args, name)
		}
	}
}
