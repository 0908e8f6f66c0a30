package scaler_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/internal/autoscaler"
	"github.com/tide-stream/tide/internal/config"
	"github.com/tide-stream/tide/internal/rest"
	"github.com/tide-stream/tide/internal/scaler"
	"github.com/tide-stream/tide/internal/security"
	"github.com/tide-stream/tide/internal/security/securitytest"
	"github.com/tide-stream/tide/kafka"
	"github.com/tide-stream/tide/stream"
	"github.com/tide-stream/tide/tidetest"
)

// TestCollectFromARunningJob reads a cluster that runs a Kafka job slower
// than its input through the JobManager's REST API, twice, and checks the
// policy input it makes: each TaskManager's CPU, the source's lag and
// rates, the vertices' busy time; and a policy decides on it.
func TestCollectFromARunningJob(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "in"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	brokers := kc.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic("in"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var rs []*kgo.Record
	for i := range 20000 {
		rs = append(rs, &kgo.Record{Key: []byte(strconv.Itoa(i % 8)), Value: []byte(strconv.Itoa(i))})
	}
	if err := cl.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	sink := tidetest.NewSink[int64]()
	c := tidetest.Start(t, tidetest.Config{
		Job: func(env *stream.Env, _ []string) error {
			src := stream.FromSource(env, kafka.Source(kafka.Config[int64]{Brokers: brokers, Topics: []string{"in"},
				Deserialize: kafka.Int64, MaxPollRecords: 20}))
			slow := stream.Map(src, "slow", func(v int64) int64 { time.Sleep(200 * time.Microsecond); return v })
			sink.To(slow, "collect")
			return nil
		},
		TaskManagers: 2, CheckpointInterval: 200 * time.Millisecond,
	})
	c.WaitParallelism(2, 60*time.Second)
	// The JobManager's REST API as a secured cluster serves it: HTTPS and a
	// bearer token; the collector's client comes from the same keys.
	f := securitytest.REST(t, t.TempDir())
	conf, err := config.Load(config.LoadOptions{Home: t.TempDir(), Dynamic: f.Dynamic(false)})
	if err != nil {
		t.Fatal(err)
	}
	sec, err := security.RESTFromConfig(conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := rest.NewServer(rest.Config{Addr: "127.0.0.1:0", Version: "test", TLS: sec.ServerTLS(), Auth: sec}, c.Backend())
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	client, scheme, err := security.ClientFromConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	col, err := scaler.NewCollector(scheme+"://"+srv.Addr(), client)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Without the token the collector is refused, and says so.
	caOnly, _, err := security.ClientFromConfig(&config.Config{RESTTLS: conf.RESTTLS})
	if err != nil {
		t.Fatal(err)
	}
	anon, err := scaler.NewCollector(scheme+"://"+srv.Addr(), caOnly)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Sample(ctx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a collector without the token: %v, want a 401", err)
	}
	var prev scaler.Sample
	c.WaitFor("a sample with the source's lag", 60*time.Second, func() bool {
		prev, err = col.Sample(ctx)
		return err == nil && len(prev.Vertices) > 0 && prev.Vertices[0].Pending > 0
	})
	time.Sleep(time.Second)
	cur, err := col.Sample(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in := scaler.Input(prev, cur, 2, 0.25)
	if len(in.TaskManagers) != 2 {
		t.Fatalf("%d TaskManagers, want 2: %+v", len(in.TaskManagers), in.TaskManagers)
	}
	for _, tm := range in.TaskManagers {
		if !tm.HasCPU || tm.CPU <= 0 || tm.Request != 0.25 {
			t.Errorf("TaskManager %s: CPU %v (known %v), request %v", tm.ID, tm.CPU, tm.HasCPU, tm.Request)
		}
	}
	j := in.Job
	if j == nil {
		t.Fatalf("no job metrics from %+v and %+v", prev, cur)
	}
	if j.Lag <= 0 || j.ConsumedRate <= 0 || j.InputRate < 0 || j.SlotsPerTaskManager != 1 || len(j.Vertices) == 0 {
		t.Errorf("job metrics %+v", *j)
	}
	for _, v := range j.Vertices {
		if v.Busy < 0 || v.Busy > 1 || v.Parallelism != 2 {
			t.Errorf("vertex %+v", v)
		}
	}
	pol, err := autoscaler.NewTide(autoscaler.TideConfig{Bounds: autoscaler.Bounds{Min: 1, Max: 4}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := pol.Decide(in)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("decision: %d -> %d: %s", d.Current, d.Desired, d.Reason)
}

// TestUnreachable: a JobManager that does not answer is a clear error.
func TestUnreachable(t *testing.T) {
	col, err := scaler.NewCollector("http://127.0.0.1:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := col.Sample(context.Background()); err == nil {
		t.Fatal("no error")
	}
	if _, err := scaler.NewCollector("localhost:8081", nil); err == nil {
		t.Error("a REST address without a scheme is accepted")
	}
}
