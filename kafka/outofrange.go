package kafka

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/stream"
)

// outOfRange handles a fetch's OffsetOutOfRange for tp: the partition's
// next offset is below its log start or past its end. The client was made
// with NoResetOffset, so it has stopped fetching tp and left the decision
// to OnOffsetOutOfRange: fail the job (permanently: a restart would resume
// at the same offset), or read on from the log start, counting what was
// lost.
func (r *reader[T]) outOfRange(ctx context.Context, out stream.SourceOutput[T], tp topicPartition) error {
	p := r.byTP[tp]
	if p == nil || p.finished() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.OpenTimeout)
	defer cancel()
	one := []topicPartition{tp}
	starts, err := listStarts(ctx, r.adm, r.cfg, one)
	if err != nil {
		return err
	}
	ends, err := listEnds(ctx, r.adm, r.cfg, one)
	if err != nil {
		return err
	}
	logStart, end := starts[tp], ends[tp]
	var why string
	switch {
	case p.next < logStart:
		why = "below the log start: retention deleted records the source had not read"
	case p.next > end:
		why = "past the end: the topic was deleted and created again, or the broker lost data"
	default:
		// In range again by now (the log start or end moved): fetch on.
		r.log.Info("kafka: an offset the broker said was out of range is in range now; fetching on",
			"topic", tp.topic, "partition", tp.partition, "offset", p.next, "log_start", logStart, "end", end)
		r.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{tp.topic: {tp.partition: {Epoch: -1, Offset: p.next}}})
		return nil
	}
	if r.cfg.OnOffsetOutOfRange != ResetEarliest {
		return stream.Permanent(fmt.Errorf("kafka: source %q: topic %s partition %d: offset %d is out of range, %s "+
			"(the log starts at %d and ends at %d); the job fails rather than skip records: "+
			"OnOffsetOutOfRange ResetEarliest reads on from the log start",
			r.cfg.Name, tp.topic, tp.partition, p.next, why, logStart, end))
	}
	// Lost are the records below the log start the source had yet to
	// read: bounded, only those before its stop.
	lost := max(0, logStart-p.next)
	if p.stop != noStop {
		lost = max(0, min(logStart, p.stop)-p.next)
	}
	r.log.Warn("kafka: offset out of range; reading on from the log start", "topic", tp.topic, "partition", tp.partition,
		"offset", p.next, "log_start", logStart, "end", end, "records_lost", lost, "why", why)
	p.lost.Add(float64(lost))
	p.next = logStart
	if p.finished() {
		// Bounded, and the log now starts at or past the stop.
		out.SplitDone(p.id)
		r.live--
		r.cl.RemoveConsumePartitions(map[string][]int32{tp.topic: {tp.partition}})
		return nil
	}
	r.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{tp.topic: {tp.partition: {Epoch: -1, Offset: logStart}}})
	return nil
}
