// Package throughput is the Throughput job, Tide's built-in benchmark. It
// runs one of three pipelines over generated 16-byte records:
//
//   - stateless (default, --work trivial): source → Map(Scramble) →
//     Filter(Keep) → Map(Project) → Discard, which the planner chains into
//     one task; a few nanoseconds of work per record;
//   - stateless, --work text: source → Map(FormatLine) → Map(ParseLine) →
//     Filter(Valid) → Map(Render) → Discard, also one chained task, with
//     about a hundred nanoseconds of strconv work and string allocations per
//     record, as a real stateless job does;
//   - --stateful: source → KeyBy(key) → Process(CountSum, two ValueStates
//     per key) → Discard, which crosses the network between subtasks. With
//     --state-bytes-per-key B it also stores a B-byte value once per key,
//     so the keyed state grows to about K × B bytes: the rescale benchmark's
//     state size.
//
// The source emits record i = (key = i mod K, value = i) for i < N
// (unbounded when N is 0), optionally paced at a rate. It is split like the
// Verify source: split s owns the records i ≡ s (mod S), so its position is
// checkpointed and redistributed on rescale.
//
// The per-record functions (Generate, Scramble, Keep, Project, FormatLine,
// ParseLine, Valid, Render) are exported so that a hand-written loop can do
// exactly the pipeline's work and be compared with it (internal/task's
// BenchmarkChained does for the trivial work, this package's
// BenchmarkChainedText for the text work).
//
// With --progress D the job writes JSON lines to standard error, which the
// bench tool (go run ./bench) reads to time a run from outside the process:
// each source subtask logs its first record, then its position every D, and
// its end; the keyed function logs how many records it processed every D.
// Every line carries "at", the Unix time in nanoseconds.
package throughput
