package verify_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/examples/verify"
	"github.com/tide-stream/tide/internal/rest"
	iverify "github.com/tide-stream/tide/internal/verify"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// TestVerifyOverKafkaThroughKill runs Verify over Kafka on a test cluster:
// the whole input is in the topic first, the job reads it bounded
// (--count N), a TaskManager is killed mid-run, and the checker of `tide
// verify --bootstrap-servers` finds every count in the output topic
// exactly once.
func TestVerifyOverKafkaThroughKill(t *testing.T) {
	t.Parallel()
	const n = 60000
	kc, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(4, "in"), kfake.SeedTopics(3, "out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	brokers := strings.Join(kc.ListenAddrs(), ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.DefaultProduceTopic("in"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rs := make([]*kgo.Record, 0, n)
	for i := range n {
		rs = append(rs, &kgo.Record{Key: []byte(strconv.Itoa(i % keys)), Value: []byte(strconv.Itoa(i))})
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	c := tidetest.Start(t, tidetest.Config{Job: verify.Build, TaskManagers: 2, CheckpointInterval: 50 * time.Millisecond,
		Args: []string{"--bootstrap-servers", brokers, "--topic", "in", "--output-topic", "out",
			"--keys", strconv.Itoa(keys), "--count", strconv.Itoa(n)}})
	c.WaitParallelism(2, timeout)
	c.WaitCheckpoints(1, timeout)
	if s := c.State(); s != tidetest.Running {
		t.Fatalf("the job is %s before the kill, want RUNNING", s)
	}
	c.TaskManagers()[1].Kill()
	c.WaitState(tidetest.Finished, timeout)
	if len(c.Rescales()) == 0 || c.Rescales()[0].Trigger != rest.TriggerTaskManagerLost {
		t.Fatalf("no restart on the lost taskmanager: %+v", c.Rescales())
	}
	rep, err := iverify.CheckKafka(ctx, cl, "out", keys, n)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("the output topic is wrong:\n%s", rep)
	}
}

// TestVerifyOverKafkaUIDsAndArgs: over Kafka the job keeps the keyed
// function's uid and gives its Kafka source and sink their own; bad
// combinations of arguments are refused.
func TestVerifyOverKafkaUIDsAndArgs(t *testing.T) {
	env := stream.NewEnv(128)
	err := verify.Build(env, []string{"--bootstrap-servers", "127.0.0.1:1", "--topic", "in", "--output-topic", "out", "--count", "0"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := env.Plan()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"VerifyKafkaSource": "verify-kafka-source", "CountSum": "count-sum", "KafkaSink": "kafka-sink"}
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
	o, err := verify.ParseArgs([]string{"--bootstrap-servers", "b:1", "--output-topic", "out"})
	if err != nil || o.TransactionalIDPrefix != "tide-verify-out" {
		t.Errorf("default transactional id prefix: %q, %v", o.TransactionalIDPrefix, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--topic", "in"}, "need --bootstrap-servers"},
		{[]string{"--bootstrap-servers", "b:1"}, "needs --topic or --output-topic"},
		{[]string{"--bootstrap-servers", "b:1", "--output-topic", "o", "--output", "dir"}, "exclude each other"},
		{[]string{"--bootstrap-servers", "b:1", "--topic", "in", "--rate", "5"}, "generated input"},
	} {
		if _, err := verify.ParseArgs(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseArgs(%q): %v; want an error with %q", tc.args, err, tc.want)
		}
	}
}
