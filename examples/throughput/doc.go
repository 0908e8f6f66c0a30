// Package throughput is the Throughput job, Tide's built-in benchmark. It
// runs one of two pipelines over generated 16-byte records:
//
//   - stateless (default): source → Map(Scramble) → Filter(Keep) →
//     Map(Project) → Discard, which the planner chains into one task;
//   - --stateful: source → KeyBy(key) → Process(CountSum, two ValueStates
//     per key) → Discard, which crosses the network between subtasks.
//
// The source emits record i = (key = i mod K, value = i) for i < N
// (unbounded when N is 0), optionally paced at a rate. It is split like the
// Verify source: split s owns the records i ≡ s (mod S), so its position is
// checkpointed and redistributed on rescale.
//
// The per-record functions (Generate, Scramble, Keep, Project) are exported
// so that a hand-written loop can do exactly the pipeline's work and be
// compared with it (internal/task's benchmarks do).
//
// With --progress D the job writes JSON lines to standard error, which the
// bench tool (go run ./bench) reads to time a run from outside the process:
// each source subtask logs its first record, then its position every D, and
// its end; the keyed function logs how many records it processed every D.
// Every line carries "at", the Unix time in nanoseconds.
package throughput
