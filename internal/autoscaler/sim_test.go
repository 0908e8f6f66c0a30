package autoscaler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tide-stream/tide/internal/datagen"
)

// The closed-loop model the policies are simulated against: a job whose
// one scalable vertex costs a fixed CPU time per record, on TaskManagers
// with one slot and a CPU limit, a topic that receives records by a shape,
// and a rescale that stops processing for a fixed pause. Time advances in
// steps of dt; the policies are asked at their sync period and see what a
// driver would read: CPU per TaskManager over the metric-server window,
// rates over a window that restarts with each attempt, the lag now.

// arrivals is a load shape: the records that reach the topic in [t, t+dt).
type arrivals interface {
	next(t, dt float64) float64
}

// bursts is the seed's generator (internal/datagen's Bursts): a burst of
// Size(t) records sent at the producer's rate, then a pause.
type bursts struct {
	b        datagen.Bursts
	producer float64 // records/s while sending a burst
	left     float64 // records of the current burst still to send
	until    float64 // end of the current pause
}

func (s *bursts) next(t, dt float64) float64 {
	out := 0.0
	for dt > 1e-12 {
		if s.left > 0 {
			n := math.Min(s.left, s.producer*dt)
			s.left -= n
			out += n
			used := n / s.producer
			t += used
			dt -= used
			if s.left <= 0 {
				s.until = t + s.b.Pause().Seconds()
			}
			continue
		}
		if t+dt <= s.until {
			return out
		}
		dt -= math.Max(0, s.until-t)
		t = math.Max(t, s.until)
		s.left = float64(s.b.Size(time.Duration(t * float64(time.Second))))
		if s.left == 0 {
			s.until = t + s.b.Pause().Seconds()
		}
	}
	return out
}

// noisy is a constant rate times (1 + noise), the noise redrawn every
// second from a seeded source, with an optional swing.
type noisy struct {
	rate, noise float64
	rng         *rand.Rand
	f           float64
	second      int
	// swing, if set, multiplies the rate: a function of time in seconds.
	swing func(t float64) float64
}

func (s *noisy) next(t, dt float64) float64 {
	if sec := int(t); sec != s.second || s.f == 0 {
		s.second = sec
		s.f = 1 + s.noise*(2*s.rng.Float64()-1)
	}
	r := s.rate * s.f
	if s.swing != nil {
		r *= s.swing(t)
	}
	return r * dt
}

type simConfig struct {
	load     arrivals
	cost     float64       // CPU seconds per record of the scalable vertex
	limit    float64       // cores per TaskManager
	request  float64       // cores requested per TaskManager
	pause    time.Duration // processing stops this long per rescale
	dt       time.Duration
	duration time.Duration
	start    int // TaskManagers at the start
	// window is the rate window of the engine's metrics; cpuWindow that of
	// the CPU samples (metrics-server's).
	window, cpuWindow time.Duration
	// halves are the load's swings, in seconds: [0, halves[0]) rising,
	// [halves[0], halves[1]) falling, and so on.
	halves []float64
}

type simResult struct {
	peakLag          float64 // records
	peakInput        float64 // records/s, over the rate window
	peakLagSeconds   float64 // peakLag / peakInput
	worstLagSeconds  float64 // max over time of lag / input rate then (input ≥ 10% of peak)
	tmSeconds        float64
	rescales         int
	ups, downs       []int // per half swing
	maxCount         int
	pauseTotal       time.Duration
	decisions        []Decision
	countAt          []int // count per second
	inputAt, lagAt   []float64
	firstDecisionErr error
}

type step struct {
	arrived, processed, busy, subtaskTime, cpu float64
}

// simulate runs p against cfg's model.
func simulate(p Policy, cfg simConfig) simResult {
	dt := cfg.dt.Seconds()
	steps := int(cfg.duration / cfg.dt)
	hist := make([]step, 0, steps)
	count := cfg.start
	// A rescale in progress: processing stops until pauseEnd, then the
	// count becomes to. alloc is what is paid for meanwhile.
	var pauseEnd float64 = -1
	to := count
	attemptStart := 0.0
	// Each TaskManager's start time, for metric-server's first sample.
	started := make([]float64, 0, 64)
	for range count {
		started = append(started, -1e9)
	}
	var r simResult
	lag := 0.0
	nextSync := 0.0
	period := p.SyncPeriod().Seconds()
	winSteps := int(cfg.window / cfg.dt)
	cpuSteps := int(cfg.cpuWindow / cfg.dt)
	var lastPauseMeasured time.Duration
	for i := range steps {
		t := float64(i) * dt
		now := t0.Add(time.Duration(i) * cfg.dt)
		if pauseEnd >= 0 && t >= pauseEnd {
			count = to
			pauseEnd = -1
			attemptStart = t
			lastPauseMeasured = cfg.pause
		}
		if t >= nextSync-1e-9 {
			nextSync += period
			in := Input{Time: now, Current: to}
			// TaskManagers: the ones running, then new ones pending.
			for k := range to {
				tm := TaskManager{ID: fmt.Sprintf("tm%d", k+1), Request: cfg.request, Ready: true}
				if k >= count || pauseEnd >= 0 && k >= min(count, to) {
					tm.Phase, tm.Ready = Pending, false
				} else if t-started[k] >= cfg.cpuWindow.Seconds() {
					tm.HasCPU = true
					cpu := 0.0
					for _, h := range hist[max(0, len(hist)-cpuSteps):] {
						cpu += h.cpu
					}
					tm.CPU = cpu / cfg.cpuWindow.Seconds() / float64(max(count, 1))
				}
				in.TaskManagers = append(in.TaskManagers, tm)
			}
			// The engine's metrics: rates since the attempt started.
			from := max(len(hist)-winSteps, int(attemptStart/dt+0.5))
			inWin := 0.0
			for _, h := range hist[max(0, len(hist)-winSteps):] {
				inWin += h.arrived
			}
			var proc, busy, sub float64
			for _, h := range hist[min(from, len(hist)):] {
				proc += h.processed
				busy += h.busy
				sub += h.subtaskTime
			}
			span := float64(len(hist)-min(from, len(hist))) * dt
			j := &JobMetrics{At: now, InputRate: inWin / cfg.window.Seconds(), Lag: lag, SlotsPerTaskManager: 1,
				RescalePause: lastPauseMeasured, Rescaling: pauseEnd >= 0 || span < 1}
			if span > 0 && sub > 0 {
				j.ConsumedRate = proc / span
				j.Vertices = []Vertex{{Name: "map", Parallelism: count, MaxParallelism: 128, Busy: math.Min(1, busy/sub), Rate: proc / span}}
			}
			in.Job = j
			d, err := p.Decide(in)
			if err != nil && r.firstDecisionErr == nil {
				r.firstDecisionErr = err
			}
			if err == nil && d.Change {
				p.Applied(d)
				r.decisions = append(r.decisions, d)
				r.rescales++
				half := 0
				for half < len(cfg.halves)-1 && t >= cfg.halves[half] {
					half++
				}
				if r.ups == nil {
					r.ups, r.downs = make([]int, len(cfg.halves)), make([]int, len(cfg.halves))
				}
				if d.Desired > d.Current {
					r.ups[half]++
				} else {
					r.downs[half]++
				}
				for len(started) < d.Desired {
					started = append(started, t+cfg.pause.Seconds())
				}
				for k := d.Desired; k < len(started); k++ {
					started[k] = t + cfg.pause.Seconds()
				}
				to = d.Desired
				pauseEnd = t + cfg.pause.Seconds()
				r.pauseTotal += cfg.pause
			}
		}
		alloc := to
		if pauseEnd >= 0 {
			alloc = max(count, to)
		}
		r.tmSeconds += float64(alloc) * dt
		r.maxCount = max(r.maxCount, alloc)
		arrived := cfg.load.next(t, dt)
		var s step
		s.arrived = arrived
		if pauseEnd < 0 {
			capacity := float64(count) * cfg.limit / cfg.cost * dt
			s.processed = math.Min(lag+arrived, capacity)
			s.cpu = s.processed * cfg.cost
			s.busy = s.cpu / cfg.limit
			s.subtaskTime = float64(count) * dt
		}
		lag += arrived - s.processed
		hist = append(hist, s)
		if i%int(time.Second/cfg.dt) == 0 {
			r.countAt = append(r.countAt, alloc)
			r.lagAt = append(r.lagAt, lag)
		}
		if len(hist) >= winSteps {
			rate := 0.0
			for _, h := range hist[len(hist)-winSteps:] {
				rate += h.arrived
			}
			rate /= cfg.window.Seconds()
			r.peakInput = math.Max(r.peakInput, rate)
			if i%int(time.Second/cfg.dt) == 0 {
				r.inputAt = append(r.inputAt, rate)
			}
		}
		r.peakLag = math.Max(r.peakLag, lag)
	}
	if r.peakInput > 0 {
		r.peakLagSeconds = r.peakLag / r.peakInput
	}
	for k := range r.inputAt {
		if k < len(r.lagAt) && r.inputAt[k] >= 0.1*r.peakInput {
			r.worstLagSeconds = math.Max(r.worstLagSeconds, r.lagAt[k]/r.inputAt[k])
		}
	}
	return r
}

func (r simResult) summary(name string) string {
	return fmt.Sprintf("%-5s peak lag %.0f records = %.2f s of peak input (%.0f/s); worst lag/input %.2f s; TaskManager-seconds %.0f; rescales %d (up per half %v, down per half %v); max %d; pause total %v",
		name, r.peakLag, r.peakLagSeconds, r.peakInput, r.worstLagSeconds, r.tmSeconds, r.rescales, r.ups, r.downs, r.maxCount, r.pauseTotal)
}

func (r simResult) trace() string {
	var b strings.Builder
	for _, d := range r.decisions {
		fmt.Fprintf(&b, "  +%v %s\n", d.Time.Sub(t0), d)
	}
	return b.String()
}
