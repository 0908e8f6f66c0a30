package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// brokerLine is tide run's line about the broker it started.
var brokerLine = regexp.MustCompile(`tide run: in-memory Kafka broker at (127\.0\.0\.1:\d+) with topic topic \(2 partitions\)`)

// CPULoad's throughput loggers' lines: a rate while records come, and
// each subtask's total at its end.
var (
	rateLine  = regexp.MustCompile(`Throughput Logger \d+/\d+: during the last \d+ ms, we received \d+ records. That's \d+ records/second/core`)
	totalLine = regexp.MustCompile(`Throughput Logger \d+/\d+: (\d+) records in total`)
)

// TestRunStartsKafkaForCPULoad: `tide run -j CPULoad` without
// --bootstrap-servers starts an in-memory broker with the topic, logs its
// address and passes it to the job; what datagen produces there is read
// (the job's consumer group reaches the end offsets, and the throughput
// loggers count every record); Ctrl-C ends it all, broker included.
func TestRunStartsKafkaForCPULoad(t *testing.T) {
	const n = 5000
	c := newCluster(t, "-Dtaskmanager.numberOfTaskSlots=2", "-Dexecution.checkpointing.interval=200ms")
	p := c.start("run", append(append([]string{"run", "-j", "CPULoad", "--taskmanagers", "1"}, c.dynamic...),
		"--", "--partitions", "2", "--iterations", "10", "--log-interval", "100ms")...)
	var addr string
	eventually(t, 60*time.Second, "tide run to log its Kafka broker", func() (bool, string) {
		b, _ := os.ReadFile(p.log)
		if m := brokerLine.FindSubmatch(b); m != nil {
			addr = string(m[1])
			return true, ""
		}
		return p.exited(), string(b)
	})
	if p.exited() {
		t.Fatalf("tide run exited before it started a broker")
	}
	id := c.jobID(t)
	eventually(t, 60*time.Second, "the job to run", func() (bool, string) {
		j, err := c.job(id)
		return err == nil && j.State == "RUNNING", fmt.Sprintf("%+v %v", j, err)
	})
	out, err := tide(t, "datagen", "--bootstrap-servers", addr, "--topic", "topic", "--shape", "constant",
		"--rate", "5000", "--count", strconv.Itoa(n))
	if err != nil {
		t.Fatalf("datagen: %v\n%s", err, out)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	eventually(t, 60*time.Second, "the job's group to commit the topic's end offsets", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		offs, err := adm.FetchOffsets(ctx, "cpuload")
		if err != nil {
			return false, err.Error()
		}
		var sum int64
		offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
		return sum == n, fmt.Sprintf("committed offsets add up to %d of %d", sum, n)
	})
	cl.Close()
	p.signal(syscall.SIGINT)
	if err := p.wait(t, 60*time.Second); err != nil {
		t.Fatalf("tide run after Ctrl-C: %v", err)
	}
	b, err := os.ReadFile(p.log)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	var total int64
	for _, m := range totalLine.FindAllStringSubmatch(log, -1) {
		v, _ := strconv.ParseInt(m[1], 10, 64)
		total += v
	}
	if total != n {
		t.Errorf("the throughput loggers counted %d records in total, want %d", total, n)
	}
	if !rateLine.MatchString(log) {
		t.Error("no throughput line was logged")
	}
	if !strings.Contains(log, "tide run: the in-memory Kafka broker stopped") {
		t.Error("tide run did not say that it stopped the broker")
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("the broker at %s still accepts connections after tide run exited", addr)
	}
}
