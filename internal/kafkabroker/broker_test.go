package kafkabroker

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestParseTopic(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Topic
		err  string
	}{
		{in: "orders:4", want: Topic{"orders", 4}},
		{in: "topic", want: Topic{"topic", 1}},
		{in: ":3", err: "want NAME:PARTITIONS"},
		{in: "t:0", err: "positive integer"},
		{in: "t:x", err: "positive integer"},
	} {
		got, err := ParseTopic(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseTopic(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseTopic(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestStartServesTopics(t *testing.T) {
	b, err := Start(Config{Port: 0, Topics: []Topic{{"a", 3}, {"b", 1}}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !strings.HasPrefix(b.Addr(), "127.0.0.1:") || strings.HasSuffix(b.Addr(), ":0") {
		t.Fatalf("Addr() = %q, want 127.0.0.1 and a chosen port", b.Addr())
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tds, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tds) != 2 || len(tds["a"].Partitions) != 3 || len(tds["b"].Partitions) != 1 {
		t.Fatalf("topics %v, want a with 3 partitions and b with 1", tds.Names())
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "a", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func TestStartPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if b, err := Start(Config{Port: port}); err == nil {
		b.Close()
		t.Fatalf("Start on a taken port %d succeeded", port)
	}
}

// TestStartAdvertisedHost: a broker listening on every interface (as in a
// pod) tells clients the advertised name, and clients that follow its
// metadata to that name reach it. Only loopback traffic: the name is
// localhost.
func TestStartAdvertisedHost(t *testing.T) {
	b, err := Start(Config{Port: 0, Host: "0.0.0.0", AdvertisedHost: "localhost", Topics: []Topic{{"a", 1}}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, port, _ := net.SplitHostPort(b.Addr())
	if !strings.HasPrefix(b.Addr(), "localhost:") || port == "0" {
		t.Fatalf("Addr() = %q, want localhost and a chosen port", b.Addr())
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:" + port))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Brokers) != 1 || md.Brokers[0].Host != "localhost" || strconv.Itoa(int(md.Brokers[0].Port)) != port {
		t.Fatalf("metadata brokers %+v, want localhost:%s", md.Brokers, port)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "a", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func TestStartBadAdvertisedHost(t *testing.T) {
	if b, err := Start(Config{Port: 0, AdvertisedHost: "kafka-service:9092"}); err == nil {
		b.Close()
		t.Fatal("Start with a port in the advertised host succeeded")
	} else if !strings.Contains(err.Error(), "without a port") {
		t.Fatalf("error %q, want one that says the host goes without a port", err)
	}
}
