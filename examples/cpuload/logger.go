package cpuload

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tide-stream/tide/stream"
)

// throughputLogger is the seed's ThroughputLogger as a sink of one source
// subtask's records: it counts them and, when --log-interval has passed
// since its last line, logs the records since then and their rate. Its
// subtask's goroutine calls it; it keeps no state in checkpoints (a
// restore starts its counts again, as the seed's does).
type throughputLogger struct {
	log   *slog.Logger
	every time.Duration

	subtask, parallelism int
	// total counts the records since the writer opened; lastTotal is total
	// at the last line (or the first record), at time last.
	total, lastTotal int64
	last             time.Time
}

func (l *throughputLogger) Open(_ context.Context, sc stream.SinkContext, _ [][]byte) error {
	l.subtask, l.parallelism = sc.Subtask(), sc.Parallelism()
	return nil
}

func (l *throughputLogger) Write(_ context.Context, _ string) error {
	l.add(1, time.Now())
	return nil
}

func (l *throughputLogger) WriteBatch(_ context.Context, vs []string) error {
	l.add(int64(len(vs)), time.Now())
	return nil
}

// add counts n records that arrived at now, and logs when an interval has
// passed since the last line. The first records start the first interval
// and, like the seed's, are not in its rate.
func (l *throughputLogger) add(n int64, now time.Time) {
	l.total += n
	if l.last.IsZero() {
		l.last, l.lastTotal = now, l.total
		return
	}
	elapsed := now.Sub(l.last)
	if elapsed < l.every {
		return
	}
	records := l.total - l.lastTotal
	rate := float64(records) / elapsed.Seconds()
	l.log.Info(fmt.Sprintf("Throughput Logger %d/%d: during the last %d ms, we received %d records. That's %.0f records/second/core.",
		l.subtask+1, l.parallelism, elapsed.Milliseconds(), records, rate),
		"subtask", l.subtask, "records", records, "ms", elapsed.Milliseconds(), "records_per_second", int64(rate), "total", l.total)
	l.last, l.lastTotal = now, l.total
}

func (l *throughputLogger) PreCommit(context.Context, uint64) ([][]byte, error) { return nil, nil }
func (l *throughputLogger) Commit(context.Context, uint64) error                { return nil }

// Close logs the subtask's total.
func (l *throughputLogger) Close() error {
	l.log.Info(fmt.Sprintf("Throughput Logger %d/%d: %d records in total.", l.subtask+1, l.parallelism, l.total),
		"subtask", l.subtask, "total", l.total)
	return nil
}
