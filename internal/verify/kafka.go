package verify

import (
	"context"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/internal/kafkaread"
)

// CheckKafka checks the committed records of topic as the output of a
// Verify run with keys keys and count records (count 0: unbounded), one
// line "key,count,sum" per record value. It reads as a read_committed
// consumer does, up to each partition's last stable offset when it starts
// (package kafkaread), so records of open or aborted transactions are not
// output. Problems name a record as topic/partition:offset. It returns an
// error only when the check cannot be done (bad arguments, an unreachable
// broker, a missing topic); faults in the output are in the Report.
func CheckKafka(ctx context.Context, cl *kgo.Client, topic string, keys, count int) (*Report, error) {
	where := "topic " + topic
	if keys <= 0 {
		return nil, fmt.Errorf("verify %s: keys %d: want at least 1", where, keys)
	}
	if count < 0 {
		return nil, fmt.Errorf("verify %s: count %d: want 0 (unbounded) or more", where, count)
	}
	// The number of offsets bounds the number of lines, as a directory's
	// size does (see checker.maxLines).
	adm := kadm.NewClient(cl)
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("verify %s: listing start offsets: %w", where, err)
	}
	stable, err := adm.ListCommittedOffsets(ctx, topic)
	if err == nil {
		err = stable.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("verify %s: listing last stable offsets: %w", where, err)
	}
	var offsets int64
	stable.Each(func(o kadm.ListedOffset) {
		if s, ok := starts.Lookup(o.Topic, o.Partition); ok {
			offsets += o.Offset - s.Offset
		}
	})
	c := newChecker(where, keys, count, offsets*minLineBytes)
	names := map[int32]string{}
	st, err := kafkaread.Committed(ctx, cl, topic, func(r *kgo.Record) error {
		name, ok := names[r.Partition]
		if !ok {
			name = topic + "/" + strconv.Itoa(int(r.Partition))
			names[r.Partition] = name
		}
		c.report.Lines++
		c.checkLine(name, int(r.Offset), r.Value)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", where, err)
	}
	c.report.Partitions, c.report.HeldBack = st.Partitions, st.Open
	c.finish()
	return &c.report, nil
}
