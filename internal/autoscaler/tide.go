package autoscaler

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// TideConfig configures the tide policy. Zero values take the defaults
// named on each field.
type TideConfig struct {
	Bounds Bounds
	// SyncPeriod is how often to decide. Default 10 s.
	SyncPeriod time.Duration
	// DrainTime is the time within which the current lag (and the lag a
	// rescale's pause adds) is to be drained, on top of keeping up with the
	// input (Flink's job.autoscaler.catch-up.duration). Default 60 s.
	DrainTime time.Duration
	// TargetUtilization is the busy fraction a new count is sized for
	// (Flink's job.autoscaler.utilization.target). Default 0.75.
	TargetUtilization float64
	// ScaleUpUtilization: scale up once the current count would have to be
	// busier than this to keep up and drain the lag (Flink's
	// utilization.max). Default 0.9. The band between TargetUtilization and
	// it is the hysteresis that keeps noise from causing rescales.
	ScaleUpUtilization float64
	// RescalePause is the pause a rescale is expected to cost while none has
	// been measured (JobMetrics.RescalePause). Default 5 s.
	RescalePause time.Duration
	// MaxStaleness: metrics older than this are not acted on. Default 3×
	// SyncPeriod.
	MaxStaleness time.Duration
	// TrendWindow is how far back the input rate's trend is fitted. Default
	// 60 s.
	TrendWindow time.Duration
	// Lookahead: while the input rises, a scale-up is sized for, and
	// triggered by, the input rate projected this far ahead along the
	// trend (the part of its slope the samples support). A rescale's pause piles up the input of its duration; paid
	// earlier, at a lower rate, it piles up less, and the next rescale
	// comes later. Default 60 s; negative means none.
	Lookahead time.Duration
	// HoldDown is the longest a scale-down is held back: while the input
	// rate is flat or noisy, the lower count must have sufficed for this
	// long, at the highest input rate seen meanwhile. A falling rate holds
	// a scale-down only one sync; a rising one holds it until it stops
	// rising. Rising and falling are a trend the samples support: the end
	// nearest zero of the fitted slope's two-standard-error interval (three
	// samples or more) changes the rate by more than TrendThreshold over
	// TrendWindow. Default 60 s.
	HoldDown time.Duration
	// TrendThreshold is the relative change of the input rate over
	// TrendWindow above which it counts as rising or falling rather than
	// flat. Default 0.1.
	TrendThreshold float64
	// MinBusy: a vertex busy less than this says too little about its
	// true rate; the last estimate is used. Default 0.02.
	MinBusy float64
}

func (c *TideConfig) ensureDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	deff := func(f *float64, v float64) {
		if *f == 0 {
			*f = v
		}
	}
	def(&c.SyncPeriod, 10*time.Second)
	def(&c.DrainTime, 60*time.Second)
	deff(&c.TargetUtilization, 0.75)
	deff(&c.ScaleUpUtilization, 0.9)
	def(&c.RescalePause, 5*time.Second)
	def(&c.MaxStaleness, 3*c.SyncPeriod)
	def(&c.TrendWindow, 60*time.Second)
	def(&c.Lookahead, 60*time.Second)
	if c.Lookahead < 0 {
		c.Lookahead = 0
	}
	def(&c.HoldDown, 60*time.Second)
	deff(&c.TrendThreshold, 0.1)
	deff(&c.MinBusy, 0.02)
}

// Validate reports every problem at once.
func (c TideConfig) Validate() error {
	c.ensureDefaults()
	var errs []error
	if err := c.Bounds.validate(); err != nil {
		errs = append(errs, err)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"sync period", c.SyncPeriod}, {"drain time", c.DrainTime}, {"rescale pause", c.RescalePause},
		{"max staleness", c.MaxStaleness}, {"trend window", c.TrendWindow}, {"hold-down", c.HoldDown}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s %v is negative", d.name, d.v))
		}
	}
	if !(c.TargetUtilization > 0 && c.TargetUtilization <= 1) {
		errs = append(errs, fmt.Errorf("target utilization %v not in (0,1]", c.TargetUtilization))
	}
	if !(c.ScaleUpUtilization >= c.TargetUtilization && c.ScaleUpUtilization <= 1) {
		errs = append(errs, fmt.Errorf("scale-up utilization %v not in [target %v, 1]", c.ScaleUpUtilization, c.TargetUtilization))
	}
	if c.TrendThreshold < 0 || c.MinBusy < 0 || c.MinBusy >= 1 {
		errs = append(errs, fmt.Errorf("trend threshold %v, min busy %v", c.TrendThreshold, c.MinBusy))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("autoscaler: tide config: %w", err)
	}
	return nil
}

type rateSample struct {
	at   time.Time
	rate float64
}

// estimate is what is known of a vertex's processing: its true rate per
// subtask and its records per record the source consumed.
type estimate struct {
	perSubtask  float64
	selectivity float64
}

// Tide is the policy that sizes the job for its input from what the
// engine measures (package doc).
type Tide struct {
	cfg  TideConfig
	last time.Time
	// rates are the input rates of the syncs within TrendWindow (or
	// HoldDown, the longer).
	rates []rateSample
	// estimates are the latest usable true rates, by vertex name.
	estimates map[string]estimate
	// downSince is when a scale-down first looked possible, zero when it
	// does not; downPeak is the highest input rate since.
	downSince time.Time
	downPeak  float64
	// appliedAt is the time of the last applied rescale.
	appliedAt time.Time
	// noiseVar is a running average of the input rate's squared scatter
	// around its trend (trendFit.sd), steadier than one fit's.
	noiseVar float64
	noiseN   int
}

// NewTide returns the tide policy.
func NewTide(cfg TideConfig) (*Tide, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.ensureDefaults()
	return &Tide{cfg: cfg, estimates: map[string]estimate{}}, nil
}

func (t *Tide) Name() string              { return PolicyTide }
func (t *Tide) SyncPeriod() time.Duration { return t.cfg.SyncPeriod }

// Applied starts the wait for metrics from after the rescale.
func (t *Tide) Applied(d Decision) {
	if d.Desired != d.Current {
		t.appliedAt = d.Time
		t.downSince = time.Time{}
	}
}

// Decide is one sync.
func (t *Tide) Decide(in Input) (Decision, error) {
	if err := in.validate(t.last); err != nil {
		return Decision{}, err
	}
	t.last = in.Time
	d := Decision{Policy: PolicyTide, Time: in.Time, Current: in.Current, Desired: in.Current, Input: in}
	b := t.cfg.Bounds
	if in.Current > b.Max || in.Current < b.Min {
		d.Desired = b.clamp(in.Current)
		d.Change = true
		d.Reason = fmt.Sprintf("current count %d outside bounds [%d, %d]", in.Current, b.Min, b.Max)
		return d, nil
	}
	desired, reason := t.decide(in, &d.Figures)
	d.Desired = b.clamp(desired)
	d.Reason = reason
	if d.Desired != desired {
		d.Reason += fmt.Sprintf("; bounded to [%d, %d]", b.Min, b.Max)
	}
	d.Change = d.Desired != d.Current
	if d.Change {
		t.downSince = time.Time{}
	}
	return d, nil
}

func (t *Tide) decide(in Input, figs *[]Figure) (int, string) {
	cur := in.Current
	j := in.Job
	if j == nil {
		return cur, "no change: no engine metrics"
	}
	if age := in.Time.Sub(j.At); age > t.cfg.MaxStaleness {
		return cur, fmt.Sprintf("no change: engine metrics are %v old (stale after %v)", age, t.cfg.MaxStaleness)
	}
	if j.Rescaling {
		return cur, "no change: a rescale is under way"
	}
	pause := t.cfg.RescalePause
	if j.RescalePause > 0 {
		pause = j.RescalePause
	}
	if !t.appliedAt.IsZero() && !j.At.After(t.appliedAt.Add(pause)) {
		return cur, fmt.Sprintf("no change: waiting for metrics from after the rescale at %s", t.appliedAt.Format(time.TimeOnly))
	}
	if len(in.TaskManagers) > 0 {
		ready := 0
		for _, tm := range in.TaskManagers {
			if tm.Phase == Running && tm.Ready {
				ready++
			}
		}
		if ready != cur {
			return cur, fmt.Sprintf("no change: %d of %d TaskManagers ready", ready, cur)
		}
	}

	t.observe(in.Time, j)
	fit := t.trend(in.Time)
	if fit.n >= 4 {
		// The first fits weigh more until ten are in.
		t.noiseN = min(t.noiseN+1, 10)
		t.noiseVar += (fit.sd*fit.sd - t.noiseVar) / float64(t.noiseN)
	}
	slope := fit.supported()
	rel := 0.0
	if fit.mean > 0 {
		rel = slope * t.cfg.TrendWindow.Seconds() / fit.mean
	}
	drain := t.cfg.DrainTime.Seconds()
	input := j.InputRate
	if rel > t.cfg.TrendThreshold {
		input += slope * t.cfg.Lookahead.Seconds()
	}
	need := input + j.Lag/drain
	// A rescale pauses processing: the input of the pause joins the lag.
	needRescale := input + (j.Lag+j.InputRate*pause.Seconds())/drain
	*figs = append(*figs, Figure{"input_rate", j.InputRate}, Figure{"input_projected", input}, Figure{"lag", j.Lag}, Figure{"need_rate", need},
		Figure{"need_rate_rescale", needRescale}, Figure{"trend", rel}, Figure{"pause_seconds", pause.Seconds()})

	capTM, bottleneck, capped, err := t.capacityPerTM(j, needRescale)
	if err != nil {
		if need == 0 {
			// Nothing to process and nothing known: the least will do,
			// and the least is what a job with no input should run on.
			if cur > t.cfg.Bounds.Min {
				return t.maybeDown(in.Time, cur, t.cfg.Bounds.Min, rel, "no input and no lag")
			}
			return cur, "no change: no input and no lag"
		}
		t.downSince = time.Time{}
		return cur, "no change: " + err.Error()
	}
	*figs = append(*figs, Figure{"capacity_per_taskmanager", capTM})
	tms := func(rate, util float64) int {
		return int(math.Ceil(rate / (capTM * util) * (1 - 1e-9)))
	}
	capNote := ""
	if capped != "" {
		capNote = "; " + capped
	}
	busyAt := need / (capTM * float64(cur))
	*figs = append(*figs, Figure{"utilization_needed", busyAt})
	// Scale up: the current count cannot keep up and drain within the
	// drain time without running busier than ScaleUpUtilization. The new
	// count is sized, in one step, for the input, the lag and the lag the
	// rescale's pause adds, at TargetUtilization.
	if busyAt > t.cfg.ScaleUpUtilization {
		t.downSince = time.Time{}
		n := max(tms(needRescale, t.cfg.TargetUtilization), cur+1)
		proj := ""
		if input != j.InputRate {
			proj = fmt.Sprintf(" rising to %.0f/s in %v", input, t.cfg.Lookahead)
		}
		return n, fmt.Sprintf("scale up: input %.0f/s%s + lag %.0f over %v needs %.0f/s, %.0f%% of %d TaskManagers' %.0f/s (bottleneck %s) > %.0f%%; "+
			"with the %v pause's input %.0f/s: %d TaskManagers at %.0f%%%s",
			j.InputRate, proj, j.Lag, t.cfg.DrainTime, need, 100*busyAt, cur, capTM*float64(cur), bottleneck, 100*t.cfg.ScaleUpUtilization,
			pause, needRescale, n, 100*t.cfg.TargetUtilization, capNote)
	}
	if rel > t.cfg.TrendThreshold {
		t.downSince = time.Time{}
		return cur, fmt.Sprintf("no change: %.0f%% busy needed, input rising (%+.0f%% over %v)", 100*busyAt, 100*rel, t.cfg.TrendWindow)
	}
	// Scale down: a smaller count, sized at TargetUtilization, keeps up with
	// the highest input since the scale-down first looked possible, the lag,
	// and the pause of the rescale.
	if t.downSince.IsZero() {
		t.downPeak = j.InputRate
	} else {
		t.downPeak = max(t.downPeak, j.InputRate)
	}
	// The rate the smaller count must sustain: the highest input since the
	// hold began, and at least the fitted level now plus twice the
	// scatter, so that a quiet spell in a noisy load does not pass for a
	// lower one.
	level := t.downPeak
	if fit.n >= 3 {
		base := fit.mean
		if slope != 0 {
			base = fit.level
		}
		// A step down is not a trend: the latest sample tells the new
		// level sooner than a line through the step. (Noise cannot pass
		// for a step: the highest input of the hold bounds the level.)
		base = min(base, j.InputRate)
		level = max(level, base+2*math.Sqrt(t.noiseVar))
	}
	*figs = append(*figs, Figure{"scale_down_rate", level})
	peakNeed := level + (j.Lag+level*pause.Seconds())/drain
	n := tms(peakNeed, t.cfg.TargetUtilization)
	if n >= cur {
		t.downSince = time.Time{}
		return cur, fmt.Sprintf("no change: input %.0f/s + lag %.0f need %.0f%% of %d TaskManagers' %.0f/s (bottleneck %s)%s",
			j.InputRate, j.Lag, 100*busyAt, cur, capTM*float64(cur), bottleneck, capNote)
	}
	return t.maybeDown(in.Time, cur, n, rel, fmt.Sprintf("input up to %.0f/s + lag %.0f with the %v pause need %.0f/s: %d TaskManagers at %.0f%% (bottleneck %s)%s",
		level, j.Lag, pause, peakNeed, n, 100*t.cfg.TargetUtilization, bottleneck, capNote))
}

// maybeDown scales down to n once the hold the trend asks for has passed.
func (t *Tide) maybeDown(now time.Time, cur, n int, rel float64, why string) (int, string) {
	if t.downSince.IsZero() {
		t.downSince = now
	}
	hold := t.cfg.HoldDown
	trend := "flat"
	if rel < -t.cfg.TrendThreshold {
		// Falling: the load will not come back within the hold, so one
		// confirming sync suffices.
		hold = t.cfg.SyncPeriod
		trend = "falling"
	}
	held := now.Sub(t.downSince)
	if held < hold {
		return cur, fmt.Sprintf("no change yet: %s; input %s (%+.0f%% over %v), scale-down held %v of %v", why, trend, 100*rel, t.cfg.TrendWindow, held, hold)
	}
	return n, fmt.Sprintf("scale down: %s; input %s (%+.0f%% over %v), held %v", why, trend, 100*rel, t.cfg.TrendWindow, held)
}

func (t *Tide) observe(now time.Time, j *JobMetrics) {
	keep := max(t.cfg.TrendWindow, t.cfg.HoldDown)
	cutoff := now.Add(-keep)
	t.rates = append(slices.DeleteFunc(t.rates, func(s rateSample) bool { return s.at.Before(cutoff) }), rateSample{now, j.InputRate})
	for _, v := range j.Vertices {
		if v.Busy < t.cfg.MinBusy || v.Rate <= 0 || v.Parallelism == 0 {
			continue
		}
		sel := 1.0
		if j.ConsumedRate > 0 {
			sel = v.Rate / j.ConsumedRate
		} else if e, ok := t.estimates[v.Name]; ok {
			sel = e.selectivity
		}
		t.estimates[v.Name] = estimate{perSubtask: v.Rate / v.Busy / float64(v.Parallelism), selectivity: sel}
	}
}

// trendFit is a line fitted to the input rates within TrendWindow, x in
// seconds relative to now.
type trendFit struct {
	n     int
	mean  float64
	slope float64 // records/s per second
	se    float64 // the slope's standard error
	sd    float64 // the samples' scatter around the line (robust)
	level float64 // the line's value now
}

// trend fits a line to the input rates within TrendWindow. With fewer than
// three samples the slope is zero and unknown (se infinite).
func (t *Tide) trend(now time.Time) trendFit {
	cutoff := now.Add(-t.cfg.TrendWindow)
	var xs, ys []float64
	for _, s := range t.rates {
		if s.at.Before(cutoff) {
			continue
		}
		xs = append(xs, s.at.Sub(now).Seconds())
		ys = append(ys, s.rate)
	}
	f := trendFit{n: len(xs), se: math.Inf(1)}
	n := float64(len(xs))
	if n == 0 {
		return f
	}
	var mx float64
	for i := range xs {
		mx += xs[i]
		f.mean += ys[i]
	}
	mx /= n
	f.mean /= n
	f.level = f.mean
	var sxx, sxy float64
	for i := range xs {
		sxx += (xs[i] - mx) * (xs[i] - mx)
		sxy += (xs[i] - mx) * (ys[i] - f.mean)
	}
	if n < 3 || sxx == 0 {
		return f
	}
	f.slope = sxy / sxx
	var rss float64
	for i := range xs {
		r := ys[i] - (f.mean + f.slope*(xs[i]-mx))
		rss += r * r
	}
	f.se = math.Sqrt(rss/(n-2)) / math.Sqrt(sxx)
	f.level = f.mean - f.slope*mx
	// The scatter from successive differences, by their (lower) median: a
	// step or a single bump is one large difference and leaves it alone,
	// where the residuals of a line through a step would count the step as
	// noise. For independent noise of deviation σ a difference has
	// deviation σ√2, and the median of its absolute value is 0.6745 of that.
	// The differences are taken both as they are and net of the fitted
	// slope, and the smaller median kept: a step leaves the first at zero,
	// a steady trend the second.
	raw := make([]float64, 0, len(xs)-1)
	net := make([]float64, 0, len(xs)-1)
	for i := 1; i < len(xs); i++ {
		raw = append(raw, math.Abs(ys[i]-ys[i-1]))
		net = append(net, math.Abs(ys[i]-ys[i-1]-f.slope*(xs[i]-xs[i-1])))
	}
	slices.Sort(raw)
	slices.Sort(net)
	k := (len(raw) - 1) / 2
	f.sd = min(raw[k], net[k]) / 0.6745 / math.Sqrt2
	return f
}

// supported returns the part of the slope the samples' scatter supports:
// the end of its two-standard-error interval nearest zero, or zero when the
// interval contains zero. Noise is not a trend.
func (f trendFit) supported() float64 {
	switch {
	case f.slope-2*f.se > 0:
		return f.slope - 2*f.se
	case f.slope+2*f.se < 0:
		return f.slope + 2*f.se
	}
	return 0
}

// capacityPerTM is the source records per second one more TaskManager lets
// the job process: the least, over the vertices that grow with slots, of
// slots × true rate per subtask / selectivity (DS2's and Flink's true
// processing rate: records processed per second of busy time).
func (t *Tide) capacityPerTM(j *JobMetrics, need float64) (float64, string, string, error) {
	capTM, bottleneck := math.Inf(1), ""
	var capped []string
	var unknown []string
	slots := float64(j.SlotsPerTaskManager)
	for _, v := range j.Vertices {
		e, ok := t.estimates[v.Name]
		if !ok {
			unknown = append(unknown, v.Name)
			continue
		}
		perSource := e.perSubtask / e.selectivity
		if v.MaxParallelism > 0 && v.Parallelism >= v.MaxParallelism {
			// It no longer grows with slots: it caps the job at
			// MaxParallelism subtasks' worth.
			if c := perSource * float64(v.MaxParallelism); c < need {
				capped = append(capped, fmt.Sprintf("%s at its max parallelism %d processes at most %.0f/s: more TaskManagers do not help it", v.Name, v.MaxParallelism, c))
			}
			continue
		}
		if c := perSource * slots; c < capTM {
			capTM, bottleneck = c, v.Name
		}
	}
	if math.IsInf(capTM, 1) {
		if len(unknown) > 0 {
			return 0, "", "", fmt.Errorf("no busy-time observation yet of %s", strings.Join(unknown, ", "))
		}
		return 0, "", "", errors.New("no vertex grows with TaskManagers")
	}
	return capTM, bottleneck, strings.Join(capped, ", "), nil
}
