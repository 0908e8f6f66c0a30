// Package verify checks the committed output of the built-in Verify job; it
// is the logic behind `tide verify --output DIR --keys K --count N`.
//
// The Verify job emits, for i < N, the record (key = i mod K, value = i).
// Records of one key arrive in increasing i. Per key it keeps a count and a
// sum and writes one line "key,count,sum" per record through the
// exactly-once file sink. So for key k:
//
//   - the counts 1..n_k each appear exactly once, where n_k is the number of
//     i < N with i mod K == k (N/K, plus one if k < N mod K);
//   - the line with count c has sum = c*k + K*c*(c-1)/2, the sum of the first
//     c values k, k+K, k+2K, …
//
// Any lost record shows up as a missing count, any record processed twice
// (a replay whose output was committed twice, or state restored wrongly) as
// a duplicate count or a wrong sum. That makes the job a direct test of the
// exactly-once promise across failures and rescales.
//
// Sums are compared modulo 2^64, as a job keeping an int64 (or uint64) sum
// computes them when they overflow.
//
// With N == 0 (an unbounded run, checked while or after it runs) every key
// 0..K-1 must be present, and the counts of each key must form exactly
// 1..max without gaps or duplicates, where max is the largest count present
// for that key (at least 1). An empty output fails, whether bounded or not,
// and a missing directory is an error.
//
// Check reads every visible file under the directory: names starting with a
// dot (the sink's .inprogress directory, editor and probe files) are skipped,
// and dot-directories are not entered. It streams the files and keeps one
// bit per expected (key, count), so memory is O(N) bits for a bounded run
// and O(number of lines) bits for an unbounded one.
package verify
