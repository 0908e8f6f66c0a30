package nexmark

// Window lengths of the nexmark SQL queries, in ms.
const (
	// WindowSize is the length of the tumbling windows of q7, q8 and q12 and
	// of q5's sliding windows (INTERVAL '10' SECOND).
	WindowSize int64 = 10_000
	// HopSlide is q5's slide (HOP's INTERVAL '2' SECOND).
	HopSlide int64 = 2_000
	// SessionGap is q11's session gap (SESSION's INTERVAL '10' SECOND).
	SessionGap int64 = 10_000
	// WatermarkDelay is the bounded out-of-orderness of the SQL source's
	// watermark: WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4'
	// SECOND (ddl_gen.sql).
	WatermarkDelay int64 = 4_000
)

// windowStart is the start of the size-long window, aligned to the epoch,
// that holds t, as Flink's TimeWindow.getWindowStartWithOffset with offset 0
// computes it (for negative t too).
func windowStart(t, size int64) int64 {
	r := t % size
	if r < 0 {
		r += size
	}
	return t - r
}

// hopStarts calls f with the start of every size-long window sliding by
// slide that holds t: the windows [s, s+size) with s a multiple of slide and
// t-size < s <= t, latest first, as Flink's HOP assigns them.
func hopStarts(t, size, slide int64, f func(start int64)) {
	for s := windowStart(t, slide); s > t-size; s -= slide {
		f(s)
	}
}
