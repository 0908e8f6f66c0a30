package autoscaler

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// ScalingPolicyType is an HPAScalingPolicy's type.
type ScalingPolicyType string

const (
	// Pods: at most Value TaskManagers added (removed) per Period.
	Pods ScalingPolicyType = "Pods"
	// Percent: at most Value percent of the count at the period's start.
	Percent ScalingPolicyType = "Percent"
)

// ScalingPolicy is Kubernetes' HPAScalingPolicy.
type ScalingPolicy struct {
	Type   ScalingPolicyType
	Value  int
	Period time.Duration
}

// Select is an HPAScalingRules' selectPolicy.
type Select string

const (
	SelectMax      Select = "Max"
	SelectMin      Select = "Min"
	SelectDisabled Select = "Disabled"
)

// Rules is Kubernetes' HPAScalingRules for one direction.
type Rules struct {
	// StabilizationWindow: scale-up takes the lowest, scale-down the highest
	// recommendation within it. Default: 0 for scale-up, 300 s for
	// scale-down; a negative value means none.
	StabilizationWindow time.Duration
	// Policies limit the rate. Default: scale-up 100 % or 4 TaskManagers per
	// 15 s; scale-down 100 % per 15 s.
	Policies []ScalingPolicy
	// Select picks among Policies: Max (default), Min or Disabled.
	Select Select
}

// HPAConfig configures the hpa policy. Zero values take Kubernetes'
// defaults; the seed's setup is Bounds{1, 15}, TargetUtilization 35 with
// TaskManagers requesting 250m.
type HPAConfig struct {
	Bounds Bounds
	// TargetUtilization is the target average CPU use in percent of the
	// request (averageUtilization). Default 80, as for an HPA with no
	// metrics given.
	TargetUtilization int
	// ScaleUpTolerance and ScaleDownTolerance: no change while the usage
	// ratio is within [1-down, 1+up]. Default 0.1 each (the controller's
	// --horizontal-pod-autoscaler-tolerance); negative means 0.
	ScaleUpTolerance, ScaleDownTolerance float64
	// SyncPeriod is --horizontal-pod-autoscaler-sync-period. Default 15 s.
	SyncPeriod time.Duration
	// ScaleUp and ScaleDown are spec.behavior's rules.
	ScaleUp, ScaleDown Rules
	// NoBehavior takes the controller's path for an HPA without
	// spec.behavior, which is what `kubectl autoscale` (the seed's command)
	// creates: the scale-down window is ScaleDown.StabilizationWindow (the
	// controller's --horizontal-pod-autoscaler-downscale-stabilization,
	// 5 min), the scale-up limit max(2×current, 4) per sync, and ScaleUp
	// and ScaleDown's policies are not used.
	NoBehavior bool
	// CPUInitializationPeriod and InitialReadinessDelay are the
	// controller's --horizontal-pod-autoscaler-cpu-initialization-period
	// (default 5 min) and --horizontal-pod-autoscaler-initial-readiness-delay
	// (default 30 s), used by SampleReady.
	CPUInitializationPeriod time.Duration
	InitialReadinessDelay   time.Duration
}

// Readiness is what the HPA knows of a running pod's readiness and CPU
// sample, for SampleReady.
type Readiness struct {
	// Started is when the TaskManager started (a pod's status.startTime);
	// zero when unknown.
	Started time.Time
	// HasCondition: the ready condition is known; Ready is its status and
	// Since its last transition.
	HasCondition bool
	Ready        bool
	Since        time.Time
	// SampleAt is the CPU sample's time, Window the span it averages.
	SampleAt time.Time
	Window   time.Duration
}

// SampleReady is groupPods' rule for a running TaskManager with a CPU
// sample: whether it counts as ready (TaskManager.Ready) at now. Within
// CPUInitializationPeriod of its start, it must be ready and its sample
// taken at least one window after it became ready; later, only a
// TaskManager unready since about its start (within InitialReadinessDelay)
// is unready.
func (c HPAConfig) SampleReady(r Readiness, now time.Time) bool {
	c.ensureDefaults()
	if !r.HasCondition || r.Started.IsZero() {
		return false
	}
	if r.Started.Add(c.CPUInitializationPeriod).After(now) {
		return r.Ready && !r.SampleAt.Before(r.Since.Add(r.Window))
	}
	return r.Ready || !r.Started.Add(c.InitialReadinessDelay).After(r.Since)
}

func (c *HPAConfig) ensureDefaults() {
	if c.TargetUtilization == 0 {
		c.TargetUtilization = 80
	}
	defTol := func(t *float64) {
		if *t == 0 {
			*t = 0.1
		} else if *t < 0 {
			*t = 0
		}
	}
	defTol(&c.ScaleUpTolerance)
	defTol(&c.ScaleDownTolerance)
	if c.SyncPeriod == 0 {
		c.SyncPeriod = 15 * time.Second
	}
	if c.CPUInitializationPeriod == 0 {
		c.CPUInitializationPeriod = 5 * time.Minute
	}
	if c.InitialReadinessDelay == 0 {
		c.InitialReadinessDelay = 30 * time.Second
	}
	if c.ScaleUp.StabilizationWindow < 0 {
		c.ScaleUp.StabilizationWindow = 0
	}
	if c.ScaleUp.Policies == nil {
		c.ScaleUp.Policies = []ScalingPolicy{{Percent, 100, 15 * time.Second}, {Pods, 4, 15 * time.Second}}
	}
	if c.ScaleUp.Select == "" {
		c.ScaleUp.Select = SelectMax
	}
	if c.ScaleDown.StabilizationWindow == 0 {
		c.ScaleDown.StabilizationWindow = 300 * time.Second
	} else if c.ScaleDown.StabilizationWindow < 0 {
		c.ScaleDown.StabilizationWindow = 0
	}
	if c.ScaleDown.Policies == nil {
		c.ScaleDown.Policies = []ScalingPolicy{{Percent, 100, 15 * time.Second}}
	}
	if c.ScaleDown.Select == "" {
		c.ScaleDown.Select = SelectMax
	}
}

// Validate reports every problem at once.
func (c HPAConfig) Validate() error {
	c.ensureDefaults()
	var errs []error
	if err := c.Bounds.validate(); err != nil {
		errs = append(errs, err)
	}
	if c.TargetUtilization < 0 {
		errs = append(errs, fmt.Errorf("target utilization %d%%", c.TargetUtilization))
	}
	if c.SyncPeriod < 0 {
		errs = append(errs, fmt.Errorf("sync period %v", c.SyncPeriod))
	}
	for _, x := range []struct {
		dir string
		r   Rules
	}{{"scale-up", c.ScaleUp}, {"scale-down", c.ScaleDown}} {
		dir, r := x.dir, x.r
		switch r.Select {
		case SelectMax, SelectMin, SelectDisabled:
		default:
			errs = append(errs, fmt.Errorf("%s select policy %q: want Max, Min or Disabled", dir, r.Select))
		}
		for _, p := range r.Policies {
			if (p.Type != Pods && p.Type != Percent) || p.Value <= 0 || p.Period <= 0 {
				errs = append(errs, fmt.Errorf("%s policy %+v: want type Pods or Percent, a positive value and period", dir, p))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("autoscaler: hpa config: %w", err)
	}
	return nil
}

type recommendation struct {
	n  int
	at time.Time
}

type scaleEvent struct {
	change int
	at     time.Time
}

// HPA is the Kubernetes HorizontalPodAutoscaler's algorithm on TaskManager
// CPU (package doc).
type HPA struct {
	cfg  HPAConfig
	last time.Time
	// recs are the unstabilized recommendations of the syncs within the
	// longer stabilization window (the controller's recommendations[key]).
	recs []recommendation
	// ups and downs are the applied scale events within the longest policy
	// period (scaleUpEvents, scaleDownEvents).
	ups, downs []scaleEvent
}

// NewHPA returns the hpa policy.
func NewHPA(cfg HPAConfig) (*HPA, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.ensureDefaults()
	return &HPA{cfg: cfg}, nil
}

func (h *HPA) Name() string              { return PolicyHPA }
func (h *HPA) SyncPeriod() time.Duration { return h.cfg.SyncPeriod }

// Applied records the scale event (storeScaleEvent), at the decision's time.
func (h *HPA) Applied(d Decision) {
	if h.cfg.NoBehavior || d.Desired == d.Current {
		return
	}
	if d.Desired > d.Current {
		h.ups = append(prune(h.ups, d.Time, longestPeriod(h.cfg.ScaleUp)), scaleEvent{d.Desired - d.Current, d.Time})
	} else {
		h.downs = append(prune(h.downs, d.Time, longestPeriod(h.cfg.ScaleDown)), scaleEvent{d.Current - d.Desired, d.Time})
	}
}

func longestPeriod(r Rules) time.Duration {
	var p time.Duration
	for _, x := range r.Policies {
		p = max(p, x.Period)
	}
	return p
}

// prune drops the events that no policy period can see any more (the
// controller marks them outdated and reuses their slots).
func prune(evs []scaleEvent, now time.Time, period time.Duration) []scaleEvent {
	cutoff := now.Add(-period)
	return slices.DeleteFunc(evs, func(e scaleEvent) bool { return e.at.Before(cutoff) })
}

// Decide is one reconcileAutoscaler.
func (h *HPA) Decide(in Input) (Decision, error) {
	if err := in.validate(h.last); err != nil {
		return Decision{}, err
	}
	h.last = in.Time
	d := Decision{Policy: PolicyHPA, Time: in.Time, Current: in.Current, Desired: in.Current, Input: in}
	if h.recs == nil {
		// recordInitialRecommendation.
		h.recs = []recommendation{{in.Current, in.Time}}
	}
	b := h.cfg.Bounds
	switch {
	case in.Current == 0:
		d.Reason = "scaling is disabled since the count is zero"
		return d, nil
	case in.Current > b.Max:
		d.Desired = b.Max
		d.Reason = fmt.Sprintf("current count %d above max %d", in.Current, b.Max)
	case in.Current < b.Min:
		d.Desired = b.Min
		d.Reason = fmt.Sprintf("current count %d below min %d", in.Current, b.Min)
	default:
		proposal, why, figs, err := h.replicas(in)
		d.Figures = figs
		if err != nil {
			d.Reason = fmt.Sprintf("no change: unable to compute the count: %v", err)
			return d, nil
		}
		desired, limit := 0, ""
		if h.cfg.NoBehavior {
			desired, limit = h.normalizeLegacy(in.Time, in.Current, proposal)
		} else {
			desired, limit = h.normalize(in.Time, in.Current, proposal)
		}
		d.Desired = desired
		d.Figures = append(d.Figures, Figure{"proposal", float64(proposal)})
		d.Reason = why
		if limit != "" {
			d.Reason += "; " + limit
		}
	}
	d.Change = d.Desired != d.Current
	return d, nil
}

// replicas is ReplicaCalculator.GetResourceReplicas for CPU utilization.
func (h *HPA) replicas(in Input) (int, string, []Figure, error) {
	requests := make(map[string]int64, len(in.TaskManagers))
	metrics := map[string]int64{}
	var unready, missing []string
	ready := 0
	for _, tm := range in.TaskManagers {
		// calculateRequests: every pod must have a request, even ignored ones.
		if tm.Request <= 0 {
			return 0, "", nil, fmt.Errorf("missing CPU request of TaskManager %s", tm.ID)
		}
		requests[tm.ID] = milli(tm.Request)
		// groupPods.
		switch {
		case tm.Phase == Leaving:
			continue
		case tm.Phase == Pending:
			unready = append(unready, tm.ID)
		case !tm.HasCPU:
			missing = append(missing, tm.ID)
		case !tm.Ready:
			unready = append(unready, tm.ID)
		default:
			metrics[tm.ID] = milli(tm.CPU)
			ready++
		}
	}
	if len(metrics) == 0 {
		return 0, "", nil, errors.New("did not receive metrics for targeted TaskManagers (they might be unready)")
	}
	target := h.cfg.TargetUtilization
	ratio, util, raw, err := utilizationRatio(metrics, requests, target)
	if err != nil {
		return 0, "", nil, err
	}
	figs := []Figure{{"utilization_percent", float64(util)}, {"raw_millicores", float64(raw)}, {"target_percent", float64(target)},
		{"usage_ratio", ratio}, {"ready", float64(ready)}, {"unready", float64(len(unready))}, {"missing", float64(len(missing))}}
	metric := fmt.Sprintf("cpu utilization %d%% of request (average %dm over %d ready) vs target %d%%", util, raw, ready, target)
	within := func(r float64) bool {
		return 1-h.cfg.ScaleDownTolerance <= r && r <= 1+h.cfg.ScaleUpTolerance
	}
	tol := fmt.Sprintf("[-%g, +%g]", h.cfg.ScaleDownTolerance, h.cfg.ScaleUpTolerance)
	cur := in.Current
	withUnready := len(unready) > 0 && ratio > 1
	if !withUnready && len(missing) == 0 {
		if within(ratio) {
			return cur, fmt.Sprintf("%s: ratio %.3f within tolerance %s", metric, ratio, tol), figs, nil
		}
		n := int(math.Ceil(ratio * float64(ready)))
		return n, fmt.Sprintf("%s: ceil(%.3f × %d ready) = %d", metric, ratio, ready, n), figs, nil
	}
	var assumed []string
	if len(missing) > 0 {
		if ratio < 1 {
			// A scale-down assumes the missing use 100 % of their request
			// (or the target when it is above 100 %).
			fb := int64(max(100, target))
			for _, id := range missing {
				metrics[id] = requests[id] * fb / 100
			}
			assumed = append(assumed, fmt.Sprintf("%d without metrics at %d%%", len(missing), fb))
		} else if ratio > 1 {
			for _, id := range missing {
				metrics[id] = 0
			}
			assumed = append(assumed, fmt.Sprintf("%d without metrics at 0%%", len(missing)))
		}
	}
	if withUnready {
		for _, id := range unready {
			metrics[id] = 0
		}
		assumed = append(assumed, fmt.Sprintf("%d unready at 0%%", len(unready)))
	}
	newRatio, _, _, err := utilizationRatio(metrics, requests, target)
	if err != nil {
		return 0, "", nil, err
	}
	figs = append(figs, Figure{"conservative_ratio", newRatio})
	how := fmt.Sprintf("%s, assuming %s: ratio %.3f", metric, strings.Join(assumed, " and "), newRatio)
	if within(newRatio) || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1) {
		return cur, how + " is within tolerance " + tol + " or reverses the direction", figs, nil
	}
	n := int(math.Ceil(newRatio * float64(len(metrics))))
	if (newRatio < 1 && n > cur) || (newRatio > 1 && n < cur) {
		return cur, fmt.Sprintf("%s: ceil(%.3f × %d) = %d would go the other way", how, newRatio, len(metrics), n), figs, nil
	}
	return n, fmt.Sprintf("%s: ceil(%.3f × %d) = %d", how, newRatio, len(metrics), n), figs, nil
}

// milli converts cores to millicores as metrics-server's nanocores become
// a Quantity's MilliValue: rounded up.
func milli(cores float64) int64 {
	nano := math.Round(cores * 1e9)
	return int64(math.Ceil(nano / 1e6))
}

// utilizationRatio is metrics.GetResourceUtilizationRatio: the utilization
// is an integer percentage, truncated, before the ratio is taken.
func utilizationRatio(metrics, requests map[string]int64, target int) (ratio float64, util int, raw int64, err error) {
	var used, req int64
	n := 0
	for id, m := range metrics {
		r, ok := requests[id]
		if !ok {
			continue
		}
		used += m
		req += r
		n++
	}
	if req == 0 {
		return 0, 0, 0, errors.New("no metrics returned matched known TaskManagers")
	}
	util = int(used * 100 / req)
	return float64(util) / float64(target), util, used / int64(n), nil
}

// normalize is normalizeDesiredReplicasWithBehaviors: stabilize, then limit
// the rate.
func (h *HPA) normalize(now time.Time, cur, proposal int) (int, string) {
	up, down := h.cfg.ScaleUp, h.cfg.ScaleDown
	// stabilizeRecommendationWithBehaviors.
	upRec, downRec := proposal, proposal
	upCut, downCut := now.Add(-up.StabilizationWindow), now.Add(-down.StabilizationWindow)
	for _, r := range h.recs {
		if r.at.After(upCut) {
			upRec = min(upRec, r.n)
		}
		if r.at.After(downCut) {
			downRec = max(downRec, r.n)
		}
	}
	stab := max(cur, upRec)
	stab = min(stab, downRec)
	oldest := upCut
	if downCut.Before(oldest) {
		oldest = downCut
	}
	h.recs = append(slices.DeleteFunc(h.recs, func(r recommendation) bool { return r.at.Before(oldest) }), recommendation{proposal, now})
	var why []string
	if stab != proposal {
		if proposal >= cur {
			why = append(why, fmt.Sprintf("scale-up stabilized at %d: lowest recommendation within %v is %d", stab, up.StabilizationWindow, upRec))
		} else {
			why = append(why, fmt.Sprintf("scale-down stabilized at %d: highest recommendation within %v is %d", stab, down.StabilizationWindow, downRec))
		}
	}
	// convertDesiredReplicasWithBehaviorRate.
	b := h.cfg.Bounds
	out := stab
	if stab > cur {
		limit := max(h.upLimit(now, cur), cur)
		maxAllowed, what := b.Max, fmt.Sprintf("max %d", b.Max)
		if maxAllowed > limit {
			maxAllowed, what = limit, fmt.Sprintf("scale-up rate limit %d (%s %s)", limit, up.Select, policies(up.Policies))
		}
		if stab > maxAllowed {
			out = maxAllowed
			why = append(why, "limited by "+what)
		}
	} else if stab < cur {
		limit := min(h.downLimit(now, cur), cur)
		minAllowed, what := b.Min, fmt.Sprintf("min %d", b.Min)
		if minAllowed < limit {
			minAllowed, what = limit, fmt.Sprintf("scale-down rate limit %d (%s %s)", limit, down.Select, policies(down.Policies))
		}
		if stab < minAllowed {
			out = minAllowed
			why = append(why, "limited by "+what)
		}
	}
	return out, strings.Join(why, "; ")
}

func policies(ps []ScalingPolicy) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		if p.Type == Percent {
			s[i] = fmt.Sprintf("%d%%/%v", p.Value, p.Period)
		} else {
			s[i] = fmt.Sprintf("%d/%v", p.Value, p.Period)
		}
	}
	return "of " + strings.Join(s, ", ")
}

func changeWithin(evs []scaleEvent, now time.Time, period time.Duration) int {
	cutoff := now.Add(-period)
	n := 0
	for _, e := range evs {
		if e.at.After(cutoff) {
			n += e.change
		}
	}
	return n
}

// upLimit is calculateScaleUpLimitWithScalingRules.
func (h *HPA) upLimit(now time.Time, cur int) int {
	r := h.cfg.ScaleUp
	if r.Select == SelectDisabled {
		return cur
	}
	result := math.MinInt32
	pick := func(a, b int) int { return max(a, b) }
	if r.Select == SelectMin {
		result, pick = math.MaxInt32, func(a, b int) int { return min(a, b) }
	}
	for _, p := range r.Policies {
		start := cur - changeWithin(h.ups, now, p.Period) + changeWithin(h.downs, now, p.Period)
		var proposed int
		if p.Type == Pods {
			proposed = start + p.Value
		} else {
			proposed = int(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		}
		result = pick(result, proposed)
	}
	return result
}

// downLimit is calculateScaleDownLimitWithBehaviors.
func (h *HPA) downLimit(now time.Time, cur int) int {
	r := h.cfg.ScaleDown
	if r.Select == SelectDisabled {
		return cur
	}
	result := math.MaxInt32
	pick := func(a, b int) int { return min(a, b) }
	if r.Select == SelectMin {
		result, pick = math.MinInt32, func(a, b int) int { return max(a, b) }
	}
	for _, p := range r.Policies {
		start := cur - changeWithin(h.ups, now, p.Period) + changeWithin(h.downs, now, p.Period)
		var proposed int
		if p.Type == Pods {
			proposed = start - p.Value
		} else {
			proposed = int(float64(start) * (1 - float64(p.Value)/100))
		}
		result = pick(result, proposed)
	}
	return result
}

// normalizeLegacy is normalizeDesiredReplicas, for an HPA without
// spec.behavior.
func (h *HPA) normalizeLegacy(now time.Time, cur, proposal int) (int, string) {
	// stabilizeRecommendation: the highest recommendation not older than
	// the window.
	cutoff := now.Add(-h.cfg.ScaleDown.StabilizationWindow)
	stab := proposal
	for _, r := range h.recs {
		if !r.at.Before(cutoff) {
			stab = max(stab, r.n)
		}
	}
	h.recs = append(slices.DeleteFunc(h.recs, func(r recommendation) bool { return r.at.Before(cutoff) }), recommendation{proposal, now})
	var why []string
	if stab != proposal {
		why = append(why, fmt.Sprintf("scale-down stabilized: highest recommendation within %v is %d", h.cfg.ScaleDown.StabilizationWindow, stab))
	}
	// convertDesiredReplicasWithRules.
	b := h.cfg.Bounds
	upLimit := int(math.Max(2*float64(cur), 4))
	maxAllowed, what := b.Max, fmt.Sprintf("max %d", b.Max)
	if b.Max > upLimit {
		maxAllowed, what = upLimit, fmt.Sprintf("scale-up limit max(2×%d, 4) = %d", cur, upLimit)
	}
	out := stab
	if stab < b.Min {
		out = b.Min
		why = append(why, fmt.Sprintf("limited by min %d", b.Min))
	} else if stab > maxAllowed {
		out = maxAllowed
		why = append(why, "limited by "+what)
	}
	return out, strings.Join(why, "; ")
}
