package kafka_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tide-stream/tide/tidetest"
)

// TestSourceReadsWhatKcatProduced: kcat (librdkafka, a client nobody here
// wrote) produces keyed lines into the six-partition topic, and Tide's
// source reads each exactly once, through a TaskManager kill.
// ./scripts/test sets TIDE_REQUIRE_KCAT=1, so the suite never skips it.
func TestSourceReadsWhatKcatProduced(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv("TIDE_REQUIRE_KCAT") == "1" {
			t.Fatal("kcat is required: apt-get install kcat")
		}
		t.Skip("kcat not installed (./scripts/test installs it)")
	}
	t.Parallel()
	const n = 4000
	brokers := startKafka(t)
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "%d:%d\n", i%16, i) // key:value; keys spread the lines over the partitions
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcat, "-P", "-b", strings.Join(brokers, ","), "-t", topic, "-K:", "-z", "snappy")
	cmd.Stdin = strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
	sink := tidetest.NewSink[int64]()
	var release atomic.Bool
	c := tidetest.Start(t, tidetest.Config{Job: job(brokers, sink, &release), TaskManagers: 2, CheckpointInterval: 100 * time.Millisecond})
	c.WaitParallelism(2, timeout)
	c.WaitCheckpoints(2, timeout)
	c.TaskManagers()[1].Kill()
	release.Store(true)
	c.WaitState(tidetest.Finished, timeout)
	requireExactlyOnce(t, sink, n)
}
