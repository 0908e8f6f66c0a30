package cli

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// verifyLines returns Verify's first n output lines with keys keys, as
// records keyed by their key.
func verifyLines(keys, n int) []*kgo.Record {
	count, sum := make([]int, keys), make([]int, keys)
	var rs []*kgo.Record
	for i := range n {
		k := i % keys
		count[k]++
		sum[k] += i
		rs = append(rs, &kgo.Record{Key: fmt.Appendf(nil, "%d", k), Value: fmt.Appendf(nil, "%d,%d,%d", k, count[k], sum[k])})
	}
	return rs
}

// produceTxn writes rs in a transaction that commits, aborts or stays open
// (end nil).
func produceTxn(t *testing.T, brokers []string, topic, id string, rs []*kgo.Record, end *kgo.TransactionEndTry) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.TransactionalID(id), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if end != nil {
		if err := cl.EndTransaction(ctx, *end); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVerifyCommandKafka checks an output topic: the records of an aborted
// transaction (duplicates) and of an open one are not output, so the
// committed lines pass; a committed duplicate fails, named by partition and
// offset; a missing topic is an error.
func TestVerifyCommandKafka(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "out", "out2"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	b := strings.Join(brokers, ",")
	commit, abort := kgo.TryCommit, kgo.TryAbort
	verifyTopic := func(topic string) (int, string) {
		t.Helper()
		code, stdout, stderr := runApp(t, "verify", "--bootstrap-servers", b, "--topic", topic, "--keys", "4", "--count", "40")
		if stderr != "" {
			t.Fatalf("tide verify --topic %s: exit %d, stderr:\n%s", topic, code, stderr)
		}
		return code, stdout
	}

	// out2: committed lines, then an open transaction that holds back
	// duplicates.
	produceTxn(t, brokers, "out2", "good2", verifyLines(4, 40), &commit)
	produceTxn(t, brokers, "out2", "open", verifyLines(4, 8), nil)
	if code, stdout := verifyTopic("out2"); code != 0 || !strings.Contains(stdout, "verify topic out2: OK") ||
		!regexp.MustCompile(`\([1-9] held back by an open transaction\)`).MatchString(stdout) {
		t.Fatalf("tide verify with an open transaction: exit %d\n%s", code, stdout)
	}

	// out: committed lines and an aborted transaction of duplicates; then
	// a committed duplicate.
	produceTxn(t, brokers, "out", "good", verifyLines(4, 40), &commit)
	produceTxn(t, brokers, "out", "aborted", verifyLines(4, 40), &abort)
	if code, stdout := verifyTopic("out"); code != 0 || !strings.Contains(stdout, "verify topic out: OK") {
		t.Fatalf("tide verify with an aborted transaction: exit %d\n%s", code, stdout)
	}
	produceTxn(t, brokers, "out", "dup", verifyLines(4, 1), &commit)
	if code, stdout := verifyTopic("out"); code != 1 || !strings.Contains(stdout, "duplicates 1") ||
		!regexp.MustCompile(`out/\d:\d+: key 0 count 1: duplicate`).MatchString(stdout) {
		t.Fatalf("tide verify with a committed duplicate: exit %d\n%s", code, stdout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bootstrap-servers", b, "--topic", "nope"}, "nope"},
		{[]string{"--bootstrap-servers", b}, "needs both --bootstrap-servers and --topic"},
		{[]string{"--bootstrap-servers", b, "--topic", "out", "--output", "dir"}, "exclude each other"},
	} {
		code, _, stderr := runApp(t, append([]string{"verify"}, tc.args...)...)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("tide verify %q: exit %d, stderr %q; want 1 and %q", tc.args, code, stderr, tc.want)
		}
	}
}
