// Package autoscaler holds the decision cores of `tide autoscaler`: two
// policies that turn one sync's metrics into a TaskManager count. It is
// pure like Tide's other cores: no IO, no goroutines, no clock (time is
// Input.Time), deterministic. The driver's loop owns a Policy and, every
// SyncPeriod:
//
//  1. Gathers an Input: the time, the count it last asked for (Current),
//     the TaskManagers with their CPU (the rate of
//     tide_taskmanager_cpu_seconds_total over the metric window) and
//     request, and for the tide policy the engine's JobMetrics (input rate,
//     consumed rate, lag, per-vertex busy fraction and processed rate,
//     slots per TaskManager, the measured rescale pause). What could not be
//     read is left out (HasCPU false, Job nil): the policies then hold,
//     saying why.
//  2. Calls Decide and logs the Decision (its String, its Figures).
//  3. When the Decision is a Change (and not a dry run), applies Desired
//     through its driver, and on success calls Applied. A decision not
//     applied is not reported; it does not count against rate limits.
//
// Where the inputs come from, in Tide's series (internal/metrics):
//
//	TaskManager.CPU        rate(tide_taskmanager_cpu_seconds_total[window]) by tm_id
//	TaskManager.Request    --cpu-request (the pod's request)
//	JobMetrics.Lag         sum(tide_kafka_consumer_lag_records)
//	JobMetrics.ConsumedRate  rate(tide_task_records_in_total) of the source vertex
//	JobMetrics.InputRate   ConsumedRate + deriv(lag), or the topic's end offsets' rate
//	Vertex.Rate            sum by vertex of rate(tide_task_records_in_total)
//	Vertex.Busy            avg by vertex of rate(tide_task_busy_seconds_total)
//	JobMetrics.RescalePause  the rescale history's pause_ms (REST), or the
//	                       increase of tide_job_rescale_pause_seconds_total per rescale
//	JobMetrics.Rescaling   the job is not RUNNING all its tasks (REST)
//
// Rates over a window that starts before the current attempt mix two
// parallelisms; a driver should restart the window with each attempt.
//
// Decide returns an error only for an Input that makes no sense (ErrInput).
// Bounds are checked at construction: Min is at least 1, so no decision
// leaves the job without TaskManagers.
//
// The shape is a function and an acknowledgement rather than raft's
// Step/Ready/Advance: a sync has one input and one output, decided
// synchronously, and the only work for the shell, applying the count, is
// reported back through Applied (raft's Advance).
//
// # Policy hpa
//
// The Kubernetes HorizontalPodAutoscaler's algorithm on TaskManager CPU
// against its request, reproduced from kubernetes/kubernetes
// pkg/controller/podautoscaler (replica_calculator.go, horizontal.go,
// metrics/utilization.go) so that the seed's setup (request 250m, target
// 35%, 1..15) runs without Kubernetes:
//
//   - Grouping (groupPods): leaving TaskManagers are ignored; pending and
//     unready ones are unready; running ones without a CPU sample are
//     missing. The caller applies the CPU-initialization rules to Ready.
//   - Utilization (GetResourceUtilizationRatio): the ready TaskManagers'
//     usage over their requests, in millicores rounded up as a Quantity's
//     MilliValue, as an integer percentage (truncated); ratio =
//     utilization / target.
//   - Proposal (GetResourceReplicas): with nothing unready or missing, the
//     current count when 1-tolerance ≤ ratio ≤ 1+tolerance (0.1 each way by
//     default), else ceil(ratio × ready). Otherwise conservatively: on a
//     scale-up the missing and unready count as 0%, on a scale-down the
//     missing count as 100% of their request; the ratio is recomputed, and
//     no change is made if it is within tolerance or changed direction.
//   - Counts outside [min, max] are brought back first (reconcileAutoscaler).
//   - Behavior (normalizeDesiredReplicasWithBehaviors): the proposal is
//     stabilized, the highest recommendation of the scale-down window
//     (300 s) and the lowest of the scale-up window (0 s) bounding it, then
//     rate-limited by the policies of each direction over their periods
//     (default scale-up: 100% or 4 TaskManagers per 15 s, selectPolicy Max,
//     so 1 → 5 → 10 → 20; selectPolicy Min gives 1 → 2 → 4 → 8 → 12 → 16;
//     scale-down: 100% per 15 s), and bounded by min and max.
//   - HPAConfig.NoBehavior takes the controller's other path, that of an
//     HPA without spec.behavior as `kubectl autoscale` creates it (the
//     seed's): the highest recommendation of the last 5 minutes, and a
//     scale-up limit of max(2 × current, 4) per sync (1 → 4 → 8 → 16).
//
// # Policy tide
//
// Sizes the job from what the engine measures, in one step, the way DS2
// (Kalavri et al., "Three steps is all you need: fast, accurate, automatic
// scaling decisions for distributed streaming dataflows", OSDI 2018) and
// Flink's Kubernetes operator autoscaler (docs: "Autoscaler", job.autoscaler.*
// options) do, rather than by trial on CPU:
//
//   - True processing rate: a vertex's processed rate divided by its busy
//     fraction is what its subtasks could process if never idle or
//     back-pressured; per subtask, and per record the source consumed (the
//     vertex's selectivity), it gives each vertex's capacity per slot. The
//     least over the vertices that grow with slots (reactive mode runs each
//     at min(slots, max parallelism)) times the slots per TaskManager is
//     one TaskManager's capacity in source records per second. The last
//     estimate stands in while a vertex is nearly idle.
//   - Rate to process: input rate + lag / DrainTime (Flink's catch-up
//     duration); for a rescale also + input rate × pause / DrainTime, the
//     input that piles up while the job restarts (the measured pause, else
//     RescalePause; Flink's restart.time).
//   - Scale up when the current count would have to be busier than
//     ScaleUpUtilization (0.9) to process that rate: to the count that
//     processes it, pause included, at TargetUtilization (0.75), in one
//     decision. While the input rises, the input rate is projected
//     Lookahead (60 s) ahead along its trend, so that the rescale, and the
//     input its pause piles up, come at a lower rate.
//   - Scale down, to the count that would process, lag and pause included,
//     at TargetUtilization, the highest input seen since a scale-down first
//     looked possible and at least the input's level now plus twice its
//     scatter; only after a hold that follows the input's trend: one sync
//     when the input is falling, HoldDown (60 s) when it is flat or noisy,
//     and not while it is rising. The band between the two utilizations is
//     the hysteresis that keeps a steady or noisy load from flapping the
//     count.
//   - The trend is a line fitted to the input rates of the last
//     TrendWindow (60 s); only the part of its slope the samples support
//     counts (the end of its two-standard-error interval nearest zero), so
//     noise is not a trend. The scatter is estimated from successive
//     differences by their median, so that a step or a bump is not taken
//     for noise, and averaged over syncs; the level after a step down is
//     the latest rate.
//   - No change while metrics are missing or older than MaxStaleness, a
//     rescale is under way, the metrics predate the last applied rescale
//     plus its pause, or fewer TaskManagers are ready than asked for; the
//     Decision says which.
package autoscaler
